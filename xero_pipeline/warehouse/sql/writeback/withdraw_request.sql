DELETE FROM ${requests} WHERE idempotency_key = ? AND answered_at IS NULL
