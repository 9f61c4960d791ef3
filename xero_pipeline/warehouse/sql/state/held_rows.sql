-- The tenant's live rows of an object's table, to compare with the state's row_count.
-- Parameter: tenant.
SELECT count(*) FROM ${table} WHERE tenant_id = ? AND _deleted_at IS NULL
