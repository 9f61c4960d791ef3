-- One row per attempt at an outbox row: `status` is `sending` while its request is in
-- flight, then one of `written` (Xero holds the record: `xero_id`), `invalid` (Xero refused
-- it: `validation_errors` verbatim), `rejected` (never accepted by Xero: a malformed row,
-- an unknown tenant, a refused request; `message` says why) or `unconfirmed` (the answer
-- was lost and Xero's idempotency cache has expired: look for the record in Xero before
-- setting `retry`). `position` is the row's place among the elements of its request;
-- `xero_status` is Xero's StatusAttributeString (OK, WARNING, ERROR).
CREATE TABLE IF NOT EXISTS ${table} (
  tenant_id VARCHAR NOT NULL,
  object VARCHAR NOT NULL,
  request_id VARCHAR NOT NULL,
  attempt INTEGER NOT NULL,
  idempotency_key VARCHAR,
  method VARCHAR,
  position INTEGER,
  status VARCHAR NOT NULL,
  xero_status VARCHAR,
  xero_id VARCHAR,
  validation_errors JSON,
  warnings JSON,
  message VARCHAR,
  sent_at TIMESTAMP,
  recorded_at TIMESTAMP NOT NULL${primary_key}
)
