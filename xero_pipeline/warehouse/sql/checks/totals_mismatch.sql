-- One tenant's documents whose SubTotal/Total disagree with their lines: Total is
-- SubTotal + TotalTax, and SubTotal the sum of LineAmount, less TotalTax when amounts
-- are tax-inclusive. Parameters: tenant, tenant.
WITH l AS (
    SELECT ${pk}, sum(line_amount) AS lines FROM ${lines_table} WHERE tenant_id = ? GROUP BY ${pk}
)
SELECT d.${pk}, d.line_amount_types, d.sub_total, d.total_tax, d.total, coalesce(l.lines, 0) AS lines
FROM ${table} d LEFT JOIN l USING (${pk})
WHERE d.tenant_id = ? AND d._deleted_at IS NULL AND ${counted}
  AND (d.total IS DISTINCT FROM d.sub_total + coalesce(d.total_tax, 0)
       OR d.sub_total IS DISTINCT FROM CASE WHEN upper(d.line_amount_types) = 'INCLUSIVE'
                                            THEN coalesce(l.lines, 0) - coalesce(d.total_tax, 0)
                                            ELSE coalesce(l.lines, 0) END)
ORDER BY 1
