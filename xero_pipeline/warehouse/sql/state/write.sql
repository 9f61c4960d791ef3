-- Record a committed merge. Parameters: tenant, object, cursor, row count, sync mode,
-- time, checkpoint, full-read time (NULL keeps the previous one).
INSERT INTO ${table} (tenant_id, object, cursor, row_count, sync_mode, updated_at, checkpoint, full_read_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (tenant_id, object) DO UPDATE SET
  cursor = excluded.cursor, row_count = excluded.row_count, sync_mode = excluded.sync_mode,
  updated_at = excluded.updated_at, checkpoint = excluded.checkpoint,
  full_read_at = coalesce(excluded.full_read_at, ${table}.full_read_at)
