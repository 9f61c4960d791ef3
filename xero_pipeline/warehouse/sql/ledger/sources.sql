-- Per tenant, each raw object the ledger views read: whether Xero serves it to this app
-- and, when it does not, why (the scope or tier that would unlock it) and when the
-- pipeline asks again. A view built from an unavailable object is empty for that tenant
-- because Xero withholds its data, not because the tenant has none.
CREATE OR REPLACE VIEW ${ledger}.sources AS
WITH tenants AS (
  SELECT tenant_id FROM ${state}
  UNION
  SELECT tenant_id FROM ${access}
),
sources(source, used_by) AS (VALUES ${sources})
SELECT t.tenant_id, s.source, a.tenant_id IS NULL AS available, a.reason, a.scope AS needs_scope,
       a.unavailable_since, a.next_check, s.used_by
FROM tenants AS t
CROSS JOIN sources AS s
LEFT JOIN ${access} AS a ON a.tenant_id = t.tenant_id AND a.object = s.source
ORDER BY t.tenant_id, s.source
