-- Delete one (tenant, object) row of a table of schema pipeline. Parameters: tenant, object.
DELETE FROM ${table} WHERE tenant_id = ? AND object = ?
