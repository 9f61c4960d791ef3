-- rebuilt: the general ledger posted from the documents, as Xero posts them (the rules
-- are beside each family: line_documents, line_postings, settlements). One row per
-- ledger line, debits positive, in base currency, tracing back to its document. A
-- document voided or deleted after it posted keeps its lines and gains their mirror
-- image (is_reversal) on the same date: Xero reverses a void on the date it undoes.
${system_accounts},
${line_documents},
${line_postings},
${settlements},
rb_all AS (
    SELECT * FROM rb_line_postings
    UNION ALL
    SELECT * FROM rb_settlements
),
rebuilt AS (
    SELECT tenant_id, journal_date, source_type, source_id, reference, line_id, line_position, account_id,
           description, net_amount, tax_amount, tax_type, CAST(tracking_categories AS JSON) AS tracking_categories,
           FALSE AS is_reversal
    FROM rb_all
    UNION ALL
    SELECT tenant_id, journal_date, source_type, source_id, reference, line_id || ':reversal', line_position,
           account_id, description, -net_amount, -tax_amount, tax_type, CAST(tracking_categories AS JSON), TRUE
    FROM rb_all
    WHERE reversed
)
