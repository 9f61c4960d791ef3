-- posted: every ledger line of every tenant, with the account's current attributes, from
-- the source chosen for the tenant (warehouse/ledger_choice.py): its journals, or the
-- ledger rebuilt from its documents when Xero refuses it journals (or for every tenant,
-- XERO_LEDGER_SOURCE=documents).
posted AS (
    SELECT j.tenant_id, 'journals' AS ledger_source, j.journal_id, j.journal_number, j.journal_date,
           j.created_date_utc, j.reference, j.source_id, j.source_type,
           l.journal_line_id, l._position AS line_position, l.account_id,
           coalesce(a.code, l.account_code) AS account_code,
           coalesce(a.name, l.account_name) AS account_name,
           coalesce(a.type, l.account_type) AS account_type,
           coalesce(a.class, ${class_of_line_type}) AS account_class,
           a.system_account, l.description, l.net_amount, l.gross_amount, l.tax_amount,
           l.tax_type, l.tax_name, l.tracking_categories
    FROM ${xero}.journals j
    JOIN ${xero}.journal_lines l ON l.tenant_id = j.tenant_id AND l.journal_id = j.journal_id
    LEFT JOIN ${xero}.accounts a ON a.tenant_id = l.tenant_id AND a.account_id = l.account_id
    WHERE j._deleted_at IS NULL AND NOT (${journals_rebuilt})
    UNION ALL
    SELECT r.tenant_id, 'documents', NULL, NULL, r.journal_date, NULL, r.reference, r.source_id, r.source_type,
           r.line_id, r.line_position, r.account_id, a.code, a.name, a.type,
           coalesce(a.class, ${class_of_account_type}), a.system_account, r.description, r.net_amount,
           r.net_amount + r.tax_amount, r.tax_amount, r.tax_type, t.name, r.tracking_categories
    FROM ${ledger}.document_journal_lines r
    LEFT JOIN ${xero}.accounts a ON a.tenant_id = r.tenant_id AND a.account_id = r.account_id
    LEFT JOIN (SELECT tenant_id, tax_type, any_value(name) AS name FROM ${xero}.tax_rates GROUP BY ALL) t
           ON t.tenant_id = r.tenant_id AND t.tax_type = r.tax_type
    WHERE ${documents_rebuilt}
)
