-- Record a refusal; a refusal already on record keeps the date it began. Parameters:
-- tenant, object, endpoint, scope, status, reason, granted scopes, since, checked, next check.
INSERT INTO ${table} (tenant_id, object, endpoint, scope, http_status, reason, granted_scopes,
                      unavailable_since, checked_at, next_check)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (tenant_id, object) DO UPDATE SET
  endpoint = excluded.endpoint, scope = excluded.scope, http_status = excluded.http_status,
  reason = excluded.reason, granted_scopes = excluded.granted_scopes, checked_at = excluded.checked_at,
  next_check = excluded.next_check
