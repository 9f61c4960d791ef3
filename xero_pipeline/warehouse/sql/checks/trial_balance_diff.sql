-- Accounts whose balance from ledger lines (journals, or the rebuilt ledger) differs from
-- the TrialBalance report's YTD columns, at each report date. Parameters: tenant x3.
-- The lines: (tenant_id, account_id, journal_date, net_amount) of one tenant (a parameter).
-- Profit-and-loss accounts count from the start of the financial year; their earlier
-- balance belongs to Retained Earnings, as in Xero's report.
WITH dates(report_date, fy_start) AS (VALUES ${dates}),
re AS (
    SELECT max(account_id) AS id FROM ${xero}.accounts
    WHERE tenant_id = ? AND system_account = 'RETAINEDEARNINGS'
),
lines AS (
    SELECT l.account_id, l.journal_date, l.net_amount, a.class
    FROM (${lines}) l
    LEFT JOIN ${xero}.accounts a ON a.tenant_id = l.tenant_id AND a.account_id = l.account_id
),
computed AS (
    SELECT d.report_date,
           CASE WHEN l.class IN ${profit_and_loss} AND l.journal_date < d.fy_start
                THEN coalesce((SELECT id FROM re), l.account_id) ELSE l.account_id END AS account_id,
           sum(l.net_amount) AS balance
    FROM dates d JOIN lines l ON l.journal_date <= d.report_date
    GROUP BY 1, 2
),
report AS (
    SELECT report_date, account_id,
           sum(CASE column_label WHEN 'YTD Debit' THEN value WHEN 'YTD Credit' THEN -value END) AS balance
    FROM ${report}
    WHERE tenant_id = ? AND account_id IS NOT NULL AND column_label IN ('YTD Debit', 'YTD Credit')
    GROUP BY 1, 2
)
SELECT report_date, account_id, c.balance AS computed, r.balance AS from_report
FROM computed c FULL JOIN report r USING (report_date, account_id)
WHERE coalesce(c.balance, 0) <> coalesce(r.balance, 0)
  AND report_date IN (SELECT report_date FROM dates)
ORDER BY 1, 2
