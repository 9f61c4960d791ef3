-- Xero's trial balance: balance-sheet accounts cumulative; profit-and-loss accounts
-- since the start of the financial year, with earlier years' profit rolled into the
-- retained-earnings account, so every month's balances still sum to zero.
CREATE OR REPLACE VIEW ${ledger}.trial_balance AS
WITH ${posted},
-- An organisation without a FinancialYearEnd (not synced yet) is treated as a calendar year.
fiscal AS (
    SELECT t.tenant_id, coalesce(o.fy_month, 12) AS fy_month, coalesce(o.fy_day, 31) AS fy_day
    FROM (SELECT DISTINCT tenant_id FROM posted) t
    LEFT JOIN (SELECT tenant_id, any_value(financial_year_end_month) AS fy_month,
                      any_value(financial_year_end_day) AS fy_day
               FROM ${xero}.organisations WHERE _deleted_at IS NULL GROUP BY tenant_id) o USING (tenant_id)
),
monthly AS (
    SELECT p.tenant_id, p.account_id, last_day(p.journal_date) AS month_end,
           ${journal_fy_start} AS fy_start, p.account_class IN ${profit_and_loss} AS is_pl,
           sum(p.net_amount) AS movement
    FROM posted p JOIN fiscal f USING (tenant_id)
    GROUP BY ALL
),
${month_grid},
used AS (
    SELECT DISTINCT tenant_id, account_id FROM posted
    UNION SELECT tenant_id, account_id FROM ${xero}.accounts WHERE system_account = 'RETAINEDEARNINGS'
),
grid AS (
    SELECT u.tenant_id, u.account_id, m.month_start, last_day(m.month_start) AS month_end,
           ${month_fy_start} AS fy_start
    FROM used u JOIN months m USING (tenant_id) JOIN fiscal f USING (tenant_id)
),
totals AS (
    SELECT g.tenant_id, g.account_id, g.month_start, g.month_end,
           coalesce(sum(mo.movement) FILTER (WHERE mo.month_end = g.month_end), 0) AS movement,
           coalesce(sum(mo.movement), 0) AS cumulative,
           coalesce(sum(mo.movement) FILTER (WHERE mo.fy_start = g.fy_start), 0) AS year_to_date,
           coalesce(sum(mo.movement) FILTER (WHERE mo.is_pl AND mo.fy_start < g.fy_start), 0) AS own_earlier_profit
    FROM grid g
    LEFT JOIN monthly mo ON mo.tenant_id = g.tenant_id AND mo.account_id = g.account_id AND mo.month_end <= g.month_end
    GROUP BY ALL
),
earlier_profit AS (
    SELECT tenant_id, month_end, sum(own_earlier_profit) AS amount FROM totals GROUP BY ALL
),
accounts AS (
    SELECT DISTINCT ON (tenant_id, account_id) tenant_id, account_id, account_code, account_name, account_type,
           account_class, system_account
    FROM (SELECT tenant_id, account_id, code AS account_code, name AS account_name, type AS account_type,
                 coalesce(class, ${class_of_type}) AS account_class, system_account, 0 AS pref
          FROM ${xero}.accounts
          UNION ALL
          SELECT tenant_id, account_id, account_code, account_name, account_type, account_class, system_account, 1
          FROM posted)
    ORDER BY tenant_id, account_id, pref
),
balances AS (
    SELECT t.tenant_id, t.month_start, t.month_end, t.account_id, a.account_code, a.account_name,
           a.account_type, a.account_class, t.movement,
           CASE WHEN a.account_class IN ${profit_and_loss} THEN t.year_to_date
                WHEN a.system_account = 'RETAINEDEARNINGS' THEN t.cumulative + e.amount
                ELSE t.cumulative END AS balance
    FROM totals t
    JOIN earlier_profit e USING (tenant_id, month_end)
    LEFT JOIN accounts a USING (tenant_id, account_id)
)
SELECT tenant_id, month_start, month_end, account_id, account_code, account_name, account_type, account_class,
       movement, balance, greatest(balance, 0) AS debit, greatest(-balance, 0) AS credit
FROM balances
WHERE balance <> 0 OR movement <> 0
