-- ledger_choice: where each tenant's ledger views read its ledger from: 'documents' (the
-- ledger rebuilt from its documents) for the tenants chosen when the views were created
-- (warehouse/ledger_choice.py), else 'journals'; and why.
ledger_choice AS (
    SELECT t.tenant_id, CASE WHEN ${rebuilt} THEN 'documents' ELSE 'journals' END AS ledger_source,
           CASE WHEN ${rebuilt} AND r.tenant_id IS NOT NULL
                    THEN 'Xero does not serve this app the tenant''s journals: ' || r.reason
                WHEN ${rebuilt}
                    THEN 'XERO_LEDGER_SOURCE=documents: the ledger is rebuilt from documents for every tenant'
                WHEN r.tenant_id IS NOT NULL
                    THEN 'journals synced before Xero refused them (' || r.reason || '); the views read the ledger '
                         || 'rebuilt from documents once they are next materialized'
                ELSE 'the tenant''s journals, which Xero serves to this app' END AS reason
    FROM (SELECT tenant_id FROM ${state} UNION SELECT tenant_id FROM ${access}
          UNION SELECT DISTINCT tenant_id FROM ${xero}.journals) t
    LEFT JOIN (SELECT tenant_id, any_value(reason) AS reason FROM ${access} WHERE object = 'journals'
               GROUP BY tenant_id) r USING (tenant_id)
)
