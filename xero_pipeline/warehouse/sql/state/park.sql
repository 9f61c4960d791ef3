-- Park a tenant. Parameters: tenant, until, now. (MERGE: no key constraint on a DuckLake.)
MERGE INTO ${table} AS t
USING (SELECT ?::VARCHAR AS tenant_id, ?::TIMESTAMP AS parked_until, ?::TIMESTAMP AS parked_at) AS s
ON t.tenant_id = s.tenant_id
WHEN MATCHED THEN UPDATE SET parked_until = s.parked_until, parked_at = s.parked_at
WHEN NOT MATCHED THEN INSERT (tenant_id, parked_until, parked_at) VALUES (s.tenant_id, s.parked_until, s.parked_at)
