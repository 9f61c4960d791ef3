-- Record a refusal; a refusal already on record keeps the date it began. Parameters:
-- tenant, object, endpoint, scope, status, reason, granted scopes, since, checked, next check.
-- (MERGE: no key constraint on a DuckLake.)
MERGE INTO ${table} AS t
USING (SELECT ?::VARCHAR AS tenant_id, ?::VARCHAR AS object, ?::VARCHAR AS endpoint, ?::VARCHAR AS scope,
              ?::INTEGER AS http_status, ?::VARCHAR AS reason, ?::VARCHAR AS granted_scopes,
              ?::TIMESTAMP AS unavailable_since, ?::TIMESTAMP AS checked_at, ?::TIMESTAMP AS next_check) AS s
ON t.tenant_id = s.tenant_id AND t.object = s.object
WHEN MATCHED THEN UPDATE SET
  endpoint = s.endpoint, scope = s.scope, http_status = s.http_status, reason = s.reason,
  granted_scopes = s.granted_scopes, checked_at = s.checked_at, next_check = s.next_check
WHEN NOT MATCHED THEN INSERT (tenant_id, object, endpoint, scope, http_status, reason, granted_scopes,
                              unavailable_since, checked_at, next_check)
  VALUES (s.tenant_id, s.object, s.endpoint, s.scope, s.http_status, s.reason, s.granted_scopes,
          s.unavailable_since, s.checked_at, s.next_check)
