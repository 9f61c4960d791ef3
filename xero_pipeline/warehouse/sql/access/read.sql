-- The refusal of one (tenant, object). Parameters: tenant, object.
SELECT endpoint, scope, http_status, reason, granted_scopes, unavailable_since, checked_at, next_check
FROM ${table} WHERE tenant_id = ? AND object = ?
