-- The outbox rows one request carries, in the order they were sent.
SELECT request_id, attempt
FROM ${results}
WHERE idempotency_key = ?
ORDER BY position
