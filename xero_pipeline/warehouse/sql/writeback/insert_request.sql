INSERT INTO ${requests} (idempotency_key, tenant_id, object, method, body, elements, sent_at)
VALUES (?, ?, ?, ?, ?, ?, ?)
