-- One tenant's journals whose lines do not net to zero. Parameter: tenant.
SELECT j.journal_id, j.journal_number, sum(l.net_amount) AS off_by
FROM ${xero}.journals j JOIN ${xero}.journal_lines l USING (tenant_id, journal_id)
WHERE j.tenant_id = ?
GROUP BY j.journal_id, j.journal_number HAVING sum(l.net_amount) <> 0
ORDER BY j.journal_number
