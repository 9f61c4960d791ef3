-- rb_line_postings: a document's lines on their own accounts, its tax on the tax
-- account (system account GST, VAT's too) and its total on the control account, in base
-- currency. Each line and its tax convert at the document's CurrencyRate; the control
-- line is the converted total, and the cents the lines' rounding leaves over go into the
-- largest line, so a document is worth the same whichever way its lines round.
rb_priced AS (
    SELECT h.tenant_id, h.doc_id, h.source_type, h.source_id, h.journal_date, h.reference, h.sign, h.rate,
           h.reversed, l.line_id, l.position, coalesce(l.account_id, k.account_id) AS account_id, l.description,
           l.tax_type, l.tracking,
           ${ledger}.to_base(CASE WHEN h.line_amount_types = 'Inclusive' THEN l.line_amount - coalesce(l.tax_amount, 0)
                                  ELSE l.line_amount END, h.rate) AS base_net,
           CASE WHEN h.line_amount_types = 'NoTax' THEN 0
                ELSE ${ledger}.to_base(coalesce(l.tax_amount, 0), h.rate) END AS base_tax,
           ${ledger}.to_base(h.total, h.rate) AS base_total
    FROM rb_headers h
    JOIN rb_doc_lines l USING (tenant_id, doc_id)
    LEFT JOIN rb_codes k ON k.tenant_id = l.tenant_id AND k.code = l.account_code
    WHERE coalesce(l.line_amount, 0) <> 0 OR coalesce(l.tax_amount, 0) <> 0
),
rb_residue AS (
    SELECT *, base_total - sum(base_net) OVER doc - sum(base_tax) OVER doc AS residue,
           row_number() OVER (PARTITION BY tenant_id, doc_id ORDER BY abs(base_net) DESC, position) = 1 AS largest
    FROM rb_priced
    WINDOW doc AS (PARTITION BY tenant_id, doc_id)
),
rb_line_postings AS (
    SELECT tenant_id, journal_date, source_type, source_id, reference, line_id, position AS line_position,
           account_id, description, sign * (base_net + CASE WHEN largest THEN residue ELSE 0 END) AS net_amount,
           sign * base_tax AS tax_amount, tax_type, tracking AS tracking_categories, reversed
    FROM rb_residue
    UNION ALL
    SELECT r.tenant_id, any_value(r.journal_date), any_value(r.source_type), any_value(r.source_id),
           any_value(r.reference), r.doc_id || ':tax', 1000, s.tax, 'Tax', any_value(r.sign) * sum(r.base_tax), 0,
           NULL, '[]', any_value(r.reversed)
    FROM rb_residue r JOIN rb_system s USING (tenant_id)
    GROUP BY r.tenant_id, r.doc_id, s.tax
    HAVING sum(r.base_tax) <> 0
    UNION ALL
    SELECT h.tenant_id, h.journal_date, h.source_type, h.source_id, h.reference, h.doc_id || ':control', 1001,
           h.control_id, NULL, -h.sign * ${ledger}.to_base(h.total, h.rate), 0, NULL, '[]', h.reversed
    FROM rb_headers h
    WHERE h.total <> 0
)
