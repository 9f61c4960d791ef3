-- Record a committed merge. Parameters: tenant, object, cursor, row count, sync mode,
-- time, checkpoint.
INSERT INTO ${table} (tenant_id, object, cursor, row_count, sync_mode, updated_at, checkpoint)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (tenant_id, object) DO UPDATE SET
  cursor = excluded.cursor, row_count = excluded.row_count, sync_mode = excluded.sync_mode,
  updated_at = excluded.updated_at, checkpoint = excluded.checkpoint
