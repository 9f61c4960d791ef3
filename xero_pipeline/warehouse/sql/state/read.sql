-- The state of one (tenant, object). Parameters: tenant, object.
SELECT cursor, row_count, sync_mode, updated_at, checkpoint, full_read_at FROM ${table}
WHERE tenant_id = ? AND object = ?
