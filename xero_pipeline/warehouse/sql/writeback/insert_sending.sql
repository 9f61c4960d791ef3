-- The rows one request carries, in flight: one statement for the whole request (arrays
-- unnested in step, in the order of the elements).
INSERT INTO ${results} (tenant_id, object, request_id, attempt, idempotency_key, method, status, sent_at,
                        recorded_at, position)
SELECT ?, ?, r.request_id, r.attempt, ?, ?, 'sending', ?, ?, r.position
FROM (SELECT unnest(?::VARCHAR[]) AS request_id, unnest(?::INTEGER[]) AS attempt,
             unnest(?::INTEGER[]) AS position) AS r
