-- The tenants whose ledger is rebuilt from documents: those Xero refuses journals, and
-- every tenant when the first parameter (XERO_LEDGER_SOURCE=documents) is true.
-- Parameters: documents_always x2.
SELECT tenant_id FROM ${access} WHERE object = 'journals'
UNION SELECT tenant_id FROM ${state} WHERE ?
UNION SELECT tenant_id FROM ${journals} WHERE ? AND tenant_id IS NOT NULL
ORDER BY 1
