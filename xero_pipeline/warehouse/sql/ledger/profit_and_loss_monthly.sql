-- Revenue and expense accounts by calendar month, signed as a profit and loss shows them.
CREATE OR REPLACE VIEW ${ledger}.profit_and_loss_monthly AS
WITH ${posted}
SELECT tenant_id, date_trunc('month', journal_date)::DATE AS month_start, last_day(journal_date) AS month_end,
       account_id, any_value(account_code) AS account_code, any_value(account_name) AS account_name,
       account_type, account_class,
       CASE WHEN account_type IN ('REVENUE', 'SALES') THEN 'Income'
            WHEN account_type = 'DIRECTCOSTS' THEN 'Cost of Sales'
            WHEN account_type = 'OTHERINCOME' THEN 'Other Income'
            ELSE 'Operating Expenses' END AS section,
       sum(net_amount) AS net_amount,
       CASE WHEN account_class = 'REVENUE' THEN -sum(net_amount) ELSE sum(net_amount) END AS amount,
       -sum(net_amount) AS profit
FROM posted
WHERE account_class IN ${profit_and_loss}
GROUP BY tenant_id, month_start, month_end, account_id, account_type, account_class
