-- Accounts whose monthly movement in the ledger rebuilt from documents differs from the
-- tenant's journals (live ones) in the same month. Parameters: tenant x2.
WITH journals AS (
    SELECT l.account_id, date_trunc('month', j.journal_date)::DATE AS month_start, sum(l.net_amount) AS amount
    FROM ${xero}.journals j
    JOIN ${xero}.journal_lines l USING (tenant_id, journal_id)
    WHERE j.tenant_id = ? AND j._deleted_at IS NULL
    GROUP BY ALL
),
rebuilt AS (
    SELECT account_id, date_trunc('month', journal_date)::DATE AS month_start, sum(net_amount) AS amount
    FROM ${ledger}.document_journal_lines
    WHERE tenant_id = ?
    GROUP BY ALL
)
SELECT last_day(month_start) AS month_end, account_id, b.amount AS computed, j.amount AS from_journals
FROM rebuilt b FULL JOIN journals j USING (account_id, month_start)
WHERE coalesce(b.amount, 0) <> coalesce(j.amount, 0)
ORDER BY 1, 2
