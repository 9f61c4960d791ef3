-- One tenant's live journals whose lines do not net to zero, or that have no lines at
-- all: Xero posts every journal with its lines, so an empty one lost them. Parameter:
-- tenant.
SELECT j.journal_id, j.journal_number, coalesce(sum(l.net_amount), 0) AS off_by,
       count(l.journal_id) AS lines
FROM ${xero}.journals j LEFT JOIN ${xero}.journal_lines l USING (tenant_id, journal_id)
WHERE j.tenant_id = ? AND j._deleted_at IS NULL
GROUP BY j.journal_id, j.journal_number
HAVING count(l.journal_id) = 0 OR sum(l.net_amount) <> 0
ORDER BY j.journal_number
