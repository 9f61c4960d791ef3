-- rb_settlements: money that settles documents, and the other postings without lines.
--
-- Payments (batch payments are their payments): the bank at the payment's own amount in
-- base currency, the receivable or payable at what the document was posted at (its
-- CurrencyRate), the difference to Realised Currency Gains. The control part is counted
-- on the document's settled total (earlier payments first), so a document paid in parts
-- clears exactly the base value it was posted at. A DELETED payment was posted, then
-- reversed. Money comes in for customer receipts and supplier refunds.
rb_payments AS (
    SELECT p.tenant_id, p.payment_id, p.payment_type, p.date, p.reference, p.account_id AS bank_id,
           p.status = 'DELETED' AS reversed,
           CASE WHEN p.payment_type IN ('ACCRECPAYMENT', 'APCREDITPAYMENT', 'APOVERPAYMENTPAYMENT',
                                        'APPREPAYMENTPAYMENT') THEN 1 ELSE -1 END AS s,
           CASE WHEN p.payment_type IN ('ACCRECPAYMENT', 'ARCREDITPAYMENT', 'AROVERPAYMENTPAYMENT') THEN y.receivable
                WHEN p.payment_type IN ('ACCPAYPAYMENT', 'APCREDITPAYMENT', 'APOVERPAYMENTPAYMENT') THEN y.payable
                ELSE hold.account_id END AS control_id,
           coalesce(p.bank_amount, ${ledger}.to_base(p.amount, p.currency_rate)) AS bank_amount,
           coalesce(i.currency_rate, c.currency_rate, o.currency_rate, pp.currency_rate) AS doc_rate,
           coalesce(p.invoice_id, p.credit_note_id, p.overpayment_id, p.prepayment_id) AS doc_id,
           p.amount,
           coalesce(sum(p.amount) FILTER (WHERE p.status <> 'DELETED') OVER (
               PARTITION BY p.tenant_id, coalesce(p.invoice_id, p.credit_note_id, p.overpayment_id, p.prepayment_id)
               ORDER BY p.date, p.updated_date_utc, p.payment_id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
               0) AS before
    FROM ${xero}.payments p
    JOIN rb_system y USING (tenant_id)
    LEFT JOIN ${xero}.invoices i ON i.tenant_id = p.tenant_id AND i.invoice_id = p.invoice_id
    LEFT JOIN ${xero}.credit_notes c ON c.tenant_id = p.tenant_id AND c.credit_note_id = p.credit_note_id
    LEFT JOIN ${xero}.overpayments o ON o.tenant_id = p.tenant_id AND o.overpayment_id = p.overpayment_id
    LEFT JOIN ${xero}.prepayments pp ON pp.tenant_id = p.tenant_id AND pp.prepayment_id = p.prepayment_id
    -- A prepayment sits on its line's account until it is used: a refund takes it from there.
    LEFT JOIN ${xero}.prepayment_line_items hold
           ON hold.tenant_id = p.tenant_id AND hold.prepayment_id = p.prepayment_id AND hold._position = 0
    WHERE p.status IN ('AUTHORISED', 'DELETED') AND p._deleted_at IS NULL
),
rb_payment_parts AS (
    SELECT *, ${ledger}.to_base(before + amount, doc_rate) - ${ledger}.to_base(before, doc_rate) AS control_part
    FROM rb_payments
),
rb_settlements AS (
    SELECT tenant_id, date AS journal_date, payment_type AS source_type, payment_id AS source_id, reference,
           payment_id || ':bank' AS line_id, 0 AS line_position, bank_id AS account_id, NULL AS description,
           s * bank_amount AS net_amount, 0 AS tax_amount, NULL AS tax_type, '[]' AS tracking_categories, reversed
    FROM rb_payment_parts
    UNION ALL
    SELECT tenant_id, date, payment_type, payment_id, reference, payment_id || ':control', 1, control_id, NULL,
           -s * control_part, 0, NULL, '[]', reversed
    FROM rb_payment_parts
    UNION ALL
    SELECT p.tenant_id, p.date, p.payment_type, p.payment_id, p.reference, p.payment_id || ':fx', 2, y.fx_gain,
           'Currency gain/loss', p.s * (p.control_part - p.bank_amount), 0, NULL, '[]', p.reversed
    FROM rb_payment_parts p JOIN rb_system y USING (tenant_id)
    WHERE p.control_part <> p.bank_amount
    UNION ALL
    -- Bank transfers: into the receiving account, out of the paying one.
    SELECT tenant_id, date, 'TRANSFER', bank_transfer_id, reference, bank_transfer_id || ':to', 0, to_bank_account_id,
           reference, ${ledger}.to_base(amount, currency_rate), 0, NULL, '[]', status = 'DELETED'
    FROM ${xero}.bank_transfers WHERE status IN ('AUTHORISED', 'DELETED') AND _deleted_at IS NULL
    UNION ALL
    SELECT tenant_id, date, 'TRANSFER', bank_transfer_id, reference, bank_transfer_id || ':from', 1,
           from_bank_account_id, reference, -${ledger}.to_base(amount, currency_rate), 0, NULL, '[]',
           status = 'DELETED'
    FROM ${xero}.bank_transfers WHERE status IN ('AUTHORISED', 'DELETED') AND _deleted_at IS NULL
    UNION ALL
    -- Prepayment allocations move the amount from the prepayment's account to the
    -- receivable (a customer's) or payable (a supplier's) it now settles, on the allocation's
    -- date. Credit note and overpayment allocations post nothing: both sides already sit
    -- in receivables or payables.
    SELECT a.tenant_id, a.date, CASE WHEN p.type LIKE 'RECEIVE%' THEN 'ARPREPAYMENT' ELSE 'APPREPAYMENT' END,
           a.prepayment_id, NULL, a.allocation_id || ':' || side.part, side.position,
           CASE side.part WHEN 'holding' THEN hold.account_id
                WHEN 'control' THEN CASE WHEN p.type LIKE 'RECEIVE%' THEN y.receivable ELSE y.payable END END,
           NULL,
           (CASE WHEN p.type LIKE 'RECEIVE%' THEN 1 ELSE -1 END) * (CASE side.part WHEN 'holding' THEN 1 ELSE -1 END)
               * ${ledger}.to_base(a.amount, p.currency_rate),
           0, NULL, '[]', FALSE
    FROM ${xero}.prepayment_allocations a
    JOIN ${xero}.prepayments p ON p.tenant_id = a.tenant_id AND p.prepayment_id = a.prepayment_id
    JOIN rb_system y ON y.tenant_id = a.tenant_id
    LEFT JOIN ${xero}.prepayment_line_items hold
           ON hold.tenant_id = a.tenant_id AND hold.prepayment_id = a.prepayment_id AND hold._position = 0
    CROSS JOIN (VALUES ('holding', 0), ('control', 1)) AS side(part, position)
    WHERE coalesce(a.is_deleted, FALSE) = FALSE AND p.status IN ('AUTHORISED', 'PAID') AND p._deleted_at IS NULL
    UNION ALL
    -- Manual journals post their lines as entered (debits positive); tax, if any, to the tax account.
    SELECT m.tenant_id, m.date, 'MANJOURNAL', m.manual_journal_id, m.narration,
           m.manual_journal_id || ':' || l._position,
           l._position, coalesce(l.account_id, k.account_id), l.description,
           CASE WHEN m.line_amount_types = 'Inclusive' THEN l.line_amount - coalesce(l.tax_amount, 0)
                ELSE l.line_amount END,
           CASE WHEN m.line_amount_types = 'NoTax' THEN 0 ELSE coalesce(l.tax_amount, 0) END, l.tax_type,
           coalesce(l.tracking, '[]'), m.status = 'VOIDED'
    FROM ${xero}.manual_journals m
    JOIN ${xero}.manual_journal_lines l ON l.tenant_id = m.tenant_id AND l.manual_journal_id = m.manual_journal_id
    LEFT JOIN rb_codes k ON k.tenant_id = l.tenant_id AND k.code = l.account_code
    WHERE m.status IN ('POSTED', 'ARCHIVED', 'VOIDED') AND m._deleted_at IS NULL
    UNION ALL
    SELECT m.tenant_id, any_value(m.date), 'MANJOURNAL', m.manual_journal_id, any_value(m.narration),
           m.manual_journal_id || ':tax', 1000, y.tax, 'Tax', sum(l.tax_amount), 0, NULL, '[]',
           any_value(m.status) = 'VOIDED'
    FROM ${xero}.manual_journals m
    JOIN ${xero}.manual_journal_lines l ON l.tenant_id = m.tenant_id AND l.manual_journal_id = m.manual_journal_id
    JOIN rb_system y ON y.tenant_id = m.tenant_id
    WHERE m.status IN ('POSTED', 'ARCHIVED', 'VOIDED') AND m._deleted_at IS NULL AND m.line_amount_types <> 'NoTax'
    GROUP BY m.tenant_id, m.manual_journal_id, y.tax
    HAVING sum(l.tax_amount) <> 0
    UNION ALL
    -- Paying an expense claim clears Unpaid Expense Claims from the bank (its payments
    -- exist only inside the claim).
    SELECT e.tenant_id,
           -- Nested dates are as Xero sent them: "/Date(1764633600000+0000)/" (UTC milliseconds).
           coalesce(CAST(epoch_ms(CAST(regexp_extract(pay.value->>'Date', '^/Date\((-?\d+)', 1) AS BIGINT)) AS DATE),
                    TRY_CAST(left(pay.value->>'Date', 10) AS DATE)),
           'EXPPAYMENT', pay.value->>'PaymentID', NULL,
           (pay.value->>'PaymentID') || ':' || side.part, side.position,
           CASE side.part WHEN 'claims' THEN y.unpaid_claims ELSE pay.value->'Account'->>'AccountID' END, NULL,
           CASE side.part WHEN 'claims' THEN 1 ELSE -1 END * CAST(pay.value->>'Amount' AS DECIMAL(38, 10)),
           0, NULL, '[]', FALSE
    FROM ${xero}.expense_claims e
    JOIN rb_system y USING (tenant_id)
    CROSS JOIN json_each(coalesce(e.payments, '[]')) AS pay
    CROSS JOIN (VALUES ('claims', 0), ('bank', 1)) AS side(part, position)
    WHERE e.status IN ('AUTHORISED', 'PAID') AND e._deleted_at IS NULL
)
