-- One outbox per writable object: a row asks the push to write one record to one tenant's
-- Xero. `request_id` is the user's own (unique per tenant); `payload` is the record as
-- Xero's JSON (an element of PUT/POST /<Collection>: with the record's id it updates
-- that record, without one it creates a record). A row whose last outcome is `invalid`,
-- `rejected` or `unconfirmed` is sent again only once `retry` is set (the push clears it).
-- `created_at` orders a tenant's rows; on a DuckLake, whose defaults can only be constants,
-- the writer sets it (a row without it goes after the others, by request_id).
CREATE TABLE IF NOT EXISTS ${table} (
  tenant_id VARCHAR NOT NULL,
  request_id VARCHAR NOT NULL,
  payload JSON,
  retry BOOLEAN NOT NULL DEFAULT 'false',  -- quoted: DuckLake takes only literal defaults
  created_at TIMESTAMP${created_default}${primary_key}
)
