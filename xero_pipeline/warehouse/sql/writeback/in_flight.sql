-- Requests recorded as sent whose answer was never recorded (the push died or lost Xero).
SELECT idempotency_key, tenant_id, method, body, elements, sent_at
FROM ${requests}
WHERE answered_at IS NULL AND object = ? AND (? IS NULL OR tenant_id = ?)
ORDER BY sent_at, idempotency_key
