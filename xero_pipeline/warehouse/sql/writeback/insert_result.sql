INSERT INTO ${results} (tenant_id, object, request_id, attempt, idempotency_key, method, status, xero_status,
                        xero_id, validation_errors, warnings, message, sent_at, recorded_at, position)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
