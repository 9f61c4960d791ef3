-- Per tenant, where its ledger views come from: 'journals' (Xero's own) or 'documents'
-- (the ledger rebuilt from its documents, ledger.document_journal_lines), and why.
CREATE OR REPLACE VIEW ${ledger}.ledger_source AS
WITH ${choice}
SELECT tenant_id, ledger_source, reason FROM ledger_choice ORDER BY tenant_id
