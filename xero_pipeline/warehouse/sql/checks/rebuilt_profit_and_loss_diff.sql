-- Revenue and expense accounts whose amount in the ledger rebuilt from documents differs
-- from Xero's ProfitAndLoss report, per period the report holds (a call per month).
-- Signed as the report shows them: income and expenses both positive. Parameters: tenant x3.
WITH periods AS (
    SELECT DISTINCT period_start, period_end FROM ${report}
    WHERE tenant_id = ? AND period_start IS NOT NULL AND period_end IS NOT NULL
),
report AS (
    SELECT period_start, period_end, account_id, sum(value) AS amount
    FROM ${report}
    WHERE tenant_id = ? AND account_id IS NOT NULL AND row_type = 'Row'
    GROUP BY ALL
),
rebuilt AS (
    SELECT p.period_start, p.period_end, r.account_id,
           sum(CASE WHEN a.class = 'REVENUE' THEN -r.net_amount ELSE r.net_amount END) AS amount
    FROM periods p
    JOIN ${ledger}.document_journal_lines r ON r.journal_date BETWEEN p.period_start AND p.period_end
    JOIN ${xero}.accounts a ON a.tenant_id = r.tenant_id AND a.account_id = r.account_id
    WHERE r.tenant_id = ? AND a.class IN ${profit_and_loss}
    GROUP BY ALL
)
SELECT period_end, account_id, b.amount AS computed, r.amount AS from_report
FROM rebuilt b FULL JOIN report r USING (period_start, period_end, account_id)
WHERE coalesce(b.amount, 0) <> coalesce(r.amount, 0)
ORDER BY 1, 2
