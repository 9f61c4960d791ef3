-- One row per ledger line of every posted document (a journal line, or a line of the
-- ledger rebuilt from documents: see posted.sql). Tracking slots are numbered by
-- category name within the tenant, not by position in the line's array (Xero's order
-- varies by line), so tracking_1 is always the same category.
CREATE OR REPLACE VIEW ${ledger}.general_ledger AS
WITH ${posted},
${documents},
tags AS (
    SELECT p.tenant_id, p.journal_line_id, t.value->>'Name' AS category, t.value->>'Option' AS option
    FROM posted p, json_each(p.tracking_categories) t
),
slots AS (
    SELECT tenant_id, category, dense_rank() OVER (PARTITION BY tenant_id ORDER BY category) AS slot
    FROM (SELECT DISTINCT tenant_id, category FROM tags)
),
tracking AS (
    SELECT t.tenant_id, t.journal_line_id,
           max(t.category) FILTER (WHERE s.slot = 1) AS tracking_1_name,
           max(t.option) FILTER (WHERE s.slot = 1) AS tracking_1_option,
           max(t.category) FILTER (WHERE s.slot = 2) AS tracking_2_name,
           max(t.option) FILTER (WHERE s.slot = 2) AS tracking_2_option
    FROM tags t JOIN slots s USING (tenant_id, category)
    GROUP BY t.tenant_id, t.journal_line_id
)
SELECT p.tenant_id, p.ledger_source, p.journal_date, p.journal_number, p.journal_id,
       p.created_date_utc AS journal_created_utc,
       p.reference AS journal_reference, p.journal_line_id, p.line_position,
       p.account_id, p.account_code, p.account_name, p.account_type, p.account_class,
       p.description, p.net_amount, greatest(p.net_amount, 0) AS debit, greatest(-p.net_amount, 0) AS credit,
       p.gross_amount, p.tax_amount, p.tax_type, p.tax_name,
       t.tracking_1_name, t.tracking_1_option, t.tracking_2_name, t.tracking_2_option,
       p.source_type, ${source_document} AS source_document, p.source_id,
       d.number AS source_number, d.contact_id, coalesce(k.name, d.contact_name) AS contact_name
FROM posted p
LEFT JOIN tracking t ON t.tenant_id = p.tenant_id AND t.journal_line_id = p.journal_line_id
LEFT JOIN documents d ON d.tenant_id = p.tenant_id AND d.source_id = p.source_id
    AND d.document = ${source_document}
LEFT JOIN ${xero}.contacts k ON k.tenant_id = d.tenant_id AND k.contact_id = d.contact_id
