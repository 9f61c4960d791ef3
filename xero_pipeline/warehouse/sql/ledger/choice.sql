-- ledger_choice: where each tenant's ledger comes from. 'journals' while Xero serves this
-- app the tenant's journals; 'documents' (the ledger rebuilt from the documents) when it
-- refuses them (pipeline.endpoint_access), or for every tenant when set to (XERO_LEDGER_SOURCE=documents).
ledger_choice AS (
    SELECT t.tenant_id,
           CASE WHEN ${documents_always} OR r.tenant_id IS NOT NULL THEN 'documents' ELSE 'journals' END
               AS ledger_source,
           CASE WHEN r.tenant_id IS NOT NULL THEN 'Xero does not serve this app the tenant''s journals: ' || r.reason
                WHEN ${documents_always} THEN 'XERO_LEDGER_SOURCE=documents: the ledger is rebuilt from documents '
                                              || 'for every tenant'
                ELSE 'the tenant''s journals, which Xero serves to this app' END AS reason
    FROM (SELECT tenant_id FROM ${state} UNION SELECT tenant_id FROM ${access}
          UNION SELECT DISTINCT tenant_id FROM ${xero}.journals) t
    LEFT JOIN (SELECT tenant_id, any_value(reason) AS reason FROM ${access} WHERE object = 'journals'
               GROUP BY tenant_id) r USING (tenant_id)
)
