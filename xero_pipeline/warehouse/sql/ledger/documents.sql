-- documents: (tenant, kind, id) -> number and contact, one row per raw record.
-- Deleted records stay in: their journals (and reversals) still exist. A payment names
-- its document's contact in the nested Invoice/CreditNote/...; the synced document is
-- the fallback when Xero left the nested contact out.
documents AS (
    SELECT tenant_id, 'invoice' AS document, invoice_id AS source_id, invoice_number AS number,
           contact_id, contact->>'Name' AS contact_name FROM ${xero}.invoices
    UNION ALL SELECT tenant_id, 'credit_note', credit_note_id, credit_note_number, contact_id, contact->>'Name'
           FROM ${xero}.credit_notes
    UNION ALL SELECT p.tenant_id, 'payment', p.payment_id,
           coalesce(p.invoice_number, p.credit_note_number, nullif(p.reference, '')),
           coalesce(p.invoice->'Contact'->>'ContactID', p.credit_note->'Contact'->>'ContactID',
                    p.prepayment->'Contact'->>'ContactID', p.overpayment->'Contact'->>'ContactID',
                    i.contact_id, c.contact_id),
           coalesce(p.invoice->'Contact'->>'Name', p.credit_note->'Contact'->>'Name',
                    p.prepayment->'Contact'->>'Name', p.overpayment->'Contact'->>'Name',
                    i.contact->>'Name', c.contact->>'Name')
           FROM ${xero}.payments p
           LEFT JOIN ${xero}.invoices i ON i.tenant_id = p.tenant_id AND i.invoice_id = p.invoice_id
           LEFT JOIN ${xero}.credit_notes c ON c.tenant_id = p.tenant_id AND c.credit_note_id = p.credit_note_id
    UNION ALL SELECT tenant_id, 'bank_transaction', bank_transaction_id, nullif(reference, ''), contact_id,
           contact->>'Name' FROM ${xero}.bank_transactions
    UNION ALL SELECT tenant_id, 'bank_transfer', bank_transfer_id, nullif(reference, ''), NULL, NULL
           FROM ${xero}.bank_transfers
    UNION ALL SELECT tenant_id, 'prepayment', prepayment_id, coalesce(invoice_number, nullif(reference, '')),
           contact_id, contact->>'Name' FROM ${xero}.prepayments
    UNION ALL SELECT tenant_id, 'overpayment', overpayment_id, nullif(reference, ''), contact_id, contact->>'Name'
           FROM ${xero}.overpayments
    UNION ALL SELECT tenant_id, 'manual_journal', manual_journal_id, NULL, NULL, NULL FROM ${xero}.manual_journals
    UNION ALL SELECT tenant_id, 'expense_claim', expense_claim_id, NULL, NULL, NULL FROM ${xero}.expense_claims
)
