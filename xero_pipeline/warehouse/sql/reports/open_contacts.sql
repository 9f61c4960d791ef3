-- Contacts with authorised invoices (or bills) still due, largest balance (in base
-- currency) first. Parameters: tenant, invoice type (ACCREC or ACCPAY).
SELECT contact_id, sum(amount_due / coalesce(nullif(currency_rate, 0), 1)) AS due
FROM ${invoices}
WHERE tenant_id = ? AND type = ? AND status = 'AUTHORISED'
  AND amount_due > 0 AND _deleted_at IS NULL AND contact_id IS NOT NULL
GROUP BY contact_id
ORDER BY due DESC, contact_id
