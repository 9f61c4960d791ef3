-- rb_headers: every document that posts its lines against one control account, once per
-- set of lines: invoices and bills, credit notes, spend and receive money, overpayments,
-- prepayments, and each receipt of an expense claim.
--   sign: +1 when the lines are debits (bills, spend money, sales credit notes), -1 when
--   they are credits; the control account takes the other side.
--   reversed: posted, then voided or deleted (Xero reverses on the original date).
-- Xero posts a document when it is approved: AUTHORISED (then PAID); a VOIDED one was
-- approved first. DRAFT, SUBMITTED and DELETED ones never posted. A record Xero stopped
-- returning (_deleted_at) is left out.
rb_headers AS (
    SELECT i.tenant_id, i.invoice_id AS doc_id, i.type AS source_type, i.invoice_id AS source_id,
           i.date AS journal_date, CASE WHEN i.type = 'ACCPAY' THEN i.invoice_number ELSE i.reference END AS reference,
           CASE i.type WHEN 'ACCPAY' THEN 1 ELSE -1 END AS sign,
           CASE i.type WHEN 'ACCPAY' THEN s.payable ELSE s.receivable END AS control_id,
           i.currency_rate AS rate, i.line_amount_types, i.total, i.status = 'VOIDED' AS reversed
    FROM ${xero}.invoices i JOIN rb_system s USING (tenant_id)
    WHERE i.type IN ('ACCREC', 'ACCPAY') AND i.status IN ('AUTHORISED', 'PAID', 'VOIDED') AND i._deleted_at IS NULL
    UNION ALL
    SELECT c.tenant_id, c.credit_note_id, c.type, c.credit_note_id, c.date,
           CASE WHEN c.type = 'ACCPAYCREDIT' THEN c.credit_note_number ELSE c.reference END,
           CASE c.type WHEN 'ACCRECCREDIT' THEN 1 ELSE -1 END,
           CASE c.type WHEN 'ACCRECCREDIT' THEN s.receivable ELSE s.payable END,
           c.currency_rate, c.line_amount_types, c.total, c.status = 'VOIDED'
    FROM ${xero}.credit_notes c JOIN rb_system s USING (tenant_id)
    WHERE c.type IN ('ACCRECCREDIT', 'ACCPAYCREDIT') AND c.status IN ('AUTHORISED', 'PAID', 'VOIDED')
      AND c._deleted_at IS NULL
    UNION ALL
    -- Spend and receive money against the bank account. The -TRANSFER, -OVERPAYMENT and
    -- -PREPAYMENT transactions are the bank side of a transfer, overpayment or prepayment,
    -- which posts as itself (below and in transfers), so they post nothing here.
    SELECT b.tenant_id, b.bank_transaction_id, CASE b.type WHEN 'SPEND' THEN 'CASHPAID' ELSE 'CASHREC' END,
           b.bank_transaction_id, b.date, b.reference, CASE b.type WHEN 'SPEND' THEN 1 ELSE -1 END,
           b.bank_account_id, b.currency_rate, b.line_amount_types, b.total, b.status <> 'AUTHORISED'
    FROM ${xero}.bank_transactions b
    WHERE b.type IN ('SPEND', 'RECEIVE') AND b.status IN ('AUTHORISED', 'DELETED', 'VOIDED') AND b._deleted_at IS NULL
    UNION ALL
    -- Overpayments and prepayments: their lines against the bank account of the bank
    -- transaction that carries their id (the record itself names no bank account).
    SELECT o.tenant_id, o.overpayment_id,
           CASE WHEN o.type LIKE 'RECEIVE%' THEN 'AROVERPAYMENT' ELSE 'APOVERPAYMENT' END,
           o.overpayment_id, o.date, o.reference, CASE WHEN o.type LIKE 'RECEIVE%' THEN -1 ELSE 1 END,
           (SELECT any_value(b.bank_account_id) FROM ${xero}.bank_transactions b
            WHERE b.tenant_id = o.tenant_id AND b.overpayment_id = o.overpayment_id),
           o.currency_rate, o.line_amount_types, o.total, o.status = 'VOIDED'
    FROM ${xero}.overpayments o
    WHERE o.status IN ('AUTHORISED', 'PAID', 'VOIDED') AND o._deleted_at IS NULL
    UNION ALL
    SELECT p.tenant_id, p.prepayment_id, CASE WHEN p.type LIKE 'RECEIVE%' THEN 'ARPREPAYMENT' ELSE 'APPREPAYMENT' END,
           p.prepayment_id, p.date, p.reference, CASE WHEN p.type LIKE 'RECEIVE%' THEN -1 ELSE 1 END,
           (SELECT any_value(b.bank_account_id) FROM ${xero}.bank_transactions b
            WHERE b.tenant_id = p.tenant_id AND b.prepayment_id = p.prepayment_id),
           p.currency_rate, p.line_amount_types, p.total, p.status = 'VOIDED'
    FROM ${xero}.prepayments p
    WHERE p.status IN ('AUTHORISED', 'PAID', 'VOIDED') AND p._deleted_at IS NULL
    UNION ALL
    -- An approved expense claim posts its receipts' costs against Unpaid Expense Claims
    -- on its reporting date, one journal for the claim (receipts are in base currency).
    SELECT e.tenant_id, r.receipt_id, 'EXPCLAIM', e.expense_claim_id, e.reporting_date, NULL, 1, s.unpaid_claims,
           NULL, coalesce(rc.line_amount_types, r.line_amount_types), coalesce(rc.total, r.total),
           e.status = 'VOIDED'
    FROM ${xero}.expense_claims e
    JOIN rb_system s USING (tenant_id)
    JOIN ${xero}.expense_claim_receipts r ON r.tenant_id = e.tenant_id AND r.expense_claim_id = e.expense_claim_id
    LEFT JOIN ${xero}.receipts rc ON rc.tenant_id = r.tenant_id AND rc.receipt_id = r.receipt_id
    WHERE e.status IN ('AUTHORISED', 'PAID', 'VOIDED') AND e._deleted_at IS NULL
),
-- rb_doc_lines: the lines of those documents (doc_id is the record the lines belong to).
rb_doc_lines AS (
    SELECT tenant_id, invoice_id AS doc_id, line_item_id AS line_id, _position AS position, account_id, account_code,
           description, line_amount, tax_amount, tax_type, tracking
    FROM ${xero}.invoice_line_items
    UNION ALL SELECT tenant_id, credit_note_id, line_item_id, _position, account_id, account_code, description,
           line_amount, tax_amount, tax_type, tracking FROM ${xero}.credit_note_line_items
    UNION ALL SELECT tenant_id, bank_transaction_id, line_item_id, _position, account_id, account_code, description,
           line_amount, tax_amount, tax_type, tracking FROM ${xero}.bank_transaction_line_items
    UNION ALL SELECT tenant_id, overpayment_id, line_item_id, _position, account_id, account_code, description,
           line_amount, tax_amount, tax_type, tracking FROM ${xero}.overpayment_line_items
    UNION ALL SELECT tenant_id, prepayment_id, line_item_id, _position, account_id, account_code, description,
           line_amount, tax_amount, tax_type, tracking FROM ${xero}.prepayment_line_items
    UNION ALL SELECT tenant_id, receipt_id, line_item_id, _position, account_id, account_code, description,
           line_amount, tax_amount, tax_type, tracking FROM ${xero}.receipt_line_items
)
