-- Open ${invoice_type} documents by contact and currency, aged by days past their due date
-- at ${as_of}: the body of the view ledger.<name> (as_of: current_date) and, on a DuckDB
-- file, of the table macro ledger.<name>_at(as_of) (see ageing.ageing_sql; DuckLake has
-- no macros).
WITH open_documents AS (
    SELECT i.tenant_id, CAST(${as_of} AS DATE) AS ageing_date, i.contact_id,
           coalesce(c.name, i.contact->>'Name') AS contact_name, i.currency_code, i.amount_due,
           date_diff('day', coalesce(i.due_date, i.date), CAST(${as_of} AS DATE)) AS days_overdue,
           CAST(round(CAST(i.amount_due AS DOUBLE) / CAST(coalesce(nullif(i.currency_rate, 0), 1) AS DOUBLE), 2)
                AS DECIMAL(38, 2)) AS amount_due_base
    FROM ${xero}.invoices i
    LEFT JOIN ${xero}.contacts c ON c.tenant_id = i.tenant_id AND c.contact_id = i.contact_id
    WHERE i.type = ${invoice_type} AND i.status = 'AUTHORISED' AND i.amount_due <> 0
      AND i._deleted_at IS NULL AND i.date <= CAST(${as_of} AS DATE)
)
SELECT tenant_id, ageing_date AS as_of, contact_id, any_value(contact_name) AS contact_name, currency_code,
       count(*) AS documents, ${buckets},
       sum(amount_due) AS total_due, sum(amount_due_base) AS total_due_base
FROM open_documents
GROUP BY tenant_id, ageing_date, contact_id, currency_code
