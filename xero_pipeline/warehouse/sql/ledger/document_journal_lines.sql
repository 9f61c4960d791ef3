-- The general ledger rebuilt from the documents, for every tenant whichever source its
-- ledger views use (the reconciliation checks compare it with Xero's reports and journals).
CREATE OR REPLACE VIEW ${ledger}.document_journal_lines AS
WITH ${rebuilt}
SELECT r.tenant_id, r.journal_date, r.source_type, ${source_document} AS source_document, r.source_id,
       r.reference, r.line_id, r.line_position, r.account_id, a.code AS account_code, a.name AS account_name,
       r.description, r.net_amount, r.tax_amount, r.tax_type, r.tracking_categories, r.is_reversal
FROM rebuilt r
LEFT JOIN ${xero}.accounts a ON a.tenant_id = r.tenant_id AND a.account_id = r.account_id
