-- Record a committed merge. Parameters: tenant, object, cursor, row count, sync mode,
-- time, checkpoint, full-read time (NULL keeps the previous one). MERGE, not INSERT ...
-- ON CONFLICT: a DuckLake warehouse has no key constraint to conflict on.
MERGE INTO ${table} AS t
USING (SELECT ?::VARCHAR AS tenant_id, ?::VARCHAR AS object, ?::VARCHAR AS cursor, ?::BIGINT AS row_count,
              ?::VARCHAR AS sync_mode, ?::TIMESTAMP AS updated_at, ?::JSON AS checkpoint,
              ?::TIMESTAMP AS full_read_at) AS s
ON t.tenant_id = s.tenant_id AND t.object = s.object
WHEN MATCHED THEN UPDATE SET
  cursor = s.cursor, row_count = s.row_count, sync_mode = s.sync_mode, updated_at = s.updated_at,
  checkpoint = s.checkpoint, full_read_at = coalesce(s.full_read_at, t.full_read_at)
WHEN NOT MATCHED THEN INSERT (tenant_id, object, cursor, row_count, sync_mode, updated_at, checkpoint, full_read_at)
  VALUES (s.tenant_id, s.object, s.cursor, s.row_count, s.sync_mode, s.updated_at, s.checkpoint, s.full_read_at)
