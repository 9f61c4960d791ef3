-- The state of one (tenant, object). Parameters: tenant, object.
SELECT cursor, row_count, sync_mode, updated_at, checkpoint FROM ${table}
WHERE tenant_id = ? AND object = ?
