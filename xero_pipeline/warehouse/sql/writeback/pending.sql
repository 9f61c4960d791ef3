-- Outbox rows to send: never attempted, or last refused and marked for retry by the user.
-- A row with an attempt in flight (`sending`) or written is not pending. `payload` is the
-- payload as text, or NULL where only the rows are wanted (the sensor's count).
WITH latest AS (
  SELECT tenant_id, request_id, max(attempt) AS attempt, arg_max(status, attempt) AS status
  FROM ${results}
  WHERE object = ?
  GROUP BY tenant_id, request_id
)
SELECT o.tenant_id, o.request_id, ${payload} AS payload, coalesce(l.attempt, 0) + 1 AS attempt
FROM ${outbox} o
LEFT JOIN latest l ON l.tenant_id = o.tenant_id AND l.request_id = o.request_id
WHERE (l.attempt IS NULL OR (o.retry AND l.status IN ('invalid', 'rejected', 'unconfirmed')))
  AND (? IS NULL OR o.tenant_id = ?)
ORDER BY o.tenant_id, o.created_at, o.request_id
