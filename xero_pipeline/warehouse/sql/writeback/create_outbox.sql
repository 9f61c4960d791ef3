-- One outbox per writable object: a row asks the push to write one record to one tenant's
-- Xero. `request_id` is the user's own (unique per tenant); `payload` is the record as
-- Xero's JSON (an element of PUT/POST /<Collection>: with the record's id it updates
-- that record, without one it creates a record). A row whose last outcome is `invalid`,
-- `rejected` or `unconfirmed` is sent again only once `retry` is set (the push clears it).
CREATE TABLE IF NOT EXISTS ${table} (
  tenant_id VARCHAR NOT NULL,
  request_id VARCHAR NOT NULL,
  payload JSON,
  retry BOOLEAN NOT NULL DEFAULT false,
  created_at TIMESTAMP NOT NULL DEFAULT current_timestamp${primary_key}
)
