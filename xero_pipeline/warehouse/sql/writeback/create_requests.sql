-- One row per write request, recorded before it is sent: the exact body and the
-- Idempotency-Key, so a push that died before recording the answer sends the same bytes
-- with the same key again and Xero replays its answer. `answered_at` stays NULL until the
-- outcome of every row it carried is recorded (in the same transaction).
CREATE TABLE IF NOT EXISTS ${table} (
  idempotency_key VARCHAR NOT NULL,
  tenant_id VARCHAR NOT NULL,
  object VARCHAR NOT NULL,
  method VARCHAR NOT NULL,
  body VARCHAR NOT NULL,
  elements INTEGER NOT NULL,
  sent_at TIMESTAMP NOT NULL,
  answered_at TIMESTAMP,
  outcome VARCHAR${primary_key}
)
