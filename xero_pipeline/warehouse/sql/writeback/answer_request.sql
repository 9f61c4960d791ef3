UPDATE ${requests} SET answered_at = ?, outcome = ? WHERE idempotency_key = ? AND answered_at IS NULL
