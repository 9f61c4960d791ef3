-- One row per (tenant, object): what the warehouse holds of that object, written in the
-- same transaction as the merge it describes. `object` is the object's table in schema
-- xero; `cursor` is the cursor that merge stands for (as in the materialization
-- metadata's xero/cursor; NULL for objects read whole); `row_count` the tenant's live
-- rows of that table afterwards; `checkpoint` the progress of a long read not yet
-- merged (NULL once a sync has committed); `full_read_at` when the object was last read
-- whole (a first sync, a snapshot or a reconciliation read).
CREATE TABLE IF NOT EXISTS ${table} (
  tenant_id VARCHAR NOT NULL,
  object VARCHAR NOT NULL,
  cursor VARCHAR,
  row_count BIGINT NOT NULL,
  sync_mode VARCHAR NOT NULL,
  updated_at TIMESTAMP NOT NULL,
  checkpoint JSON,
  full_read_at TIMESTAMP${primary_key}
)
