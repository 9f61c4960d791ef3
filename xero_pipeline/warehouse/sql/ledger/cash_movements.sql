-- Each bank account by month. Money in and out is judged per source document and day,
-- as Xero's Bank Summary does: a receipt voided the same day nets to nothing instead of
-- counting twice.
CREATE OR REPLACE VIEW ${ledger}.cash_movements AS
WITH ${posted},
bank AS (
    SELECT tenant_id, account_id, journal_date, coalesce(source_id, journal_id) AS source, sum(net_amount) AS amount
    FROM posted WHERE account_type = 'BANK' GROUP BY ALL
),
monthly AS (
    SELECT tenant_id, account_id, date_trunc('month', journal_date)::DATE AS month_start,
           coalesce(sum(amount) FILTER (WHERE amount > 0), 0) AS received,
           coalesce(-sum(amount) FILTER (WHERE amount < 0), 0) AS spent
    FROM bank GROUP BY ALL
),
${month_grid},
flows AS (
    SELECT a.tenant_id, a.account_id, m.month_start, coalesce(mo.received, 0) AS received,
           coalesce(mo.spent, 0) AS spent
    FROM (SELECT DISTINCT tenant_id, account_id FROM bank) a
    JOIN months m USING (tenant_id)
    LEFT JOIN monthly mo USING (tenant_id, account_id, month_start)
)
SELECT f.tenant_id, f.month_start, last_day(f.month_start) AS month_end, f.account_id,
       acc.code AS account_code, acc.name AS account_name,
       sum(f.received - f.spent) OVER w - (f.received - f.spent) AS opening_balance,
       f.received, f.spent, f.received - f.spent AS net_movement,
       sum(f.received - f.spent) OVER w AS closing_balance
FROM flows f
LEFT JOIN ${xero}.accounts acc ON acc.tenant_id = f.tenant_id AND acc.account_id = f.account_id
WINDOW w AS (PARTITION BY f.tenant_id, f.account_id ORDER BY f.month_start)
