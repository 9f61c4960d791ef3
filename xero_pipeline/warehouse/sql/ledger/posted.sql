-- posted: every line of every live journal, with the account's current attributes.
posted AS (
    SELECT j.tenant_id, j.journal_id, j.journal_number, j.journal_date, j.created_date_utc,
           j.reference, j.source_id, j.source_type,
           l.journal_line_id, l._position AS line_position, l.account_id,
           coalesce(a.code, l.account_code) AS account_code,
           coalesce(a.name, l.account_name) AS account_name,
           coalesce(a.type, l.account_type) AS account_type,
           coalesce(a.class, ${class_of_account_type}) AS account_class,
           a.system_account, l.description, l.net_amount, l.gross_amount, l.tax_amount,
           l.tax_type, l.tax_name, l.tracking_categories
    FROM ${xero}.journals j
    JOIN ${xero}.journal_lines l ON l.tenant_id = j.tenant_id AND l.journal_id = j.journal_id
    LEFT JOIN ${xero}.accounts a ON a.tenant_id = l.tenant_id AND a.account_id = l.account_id
    WHERE j._deleted_at IS NULL
)
