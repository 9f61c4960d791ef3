-- One row per (tenant, object) that Xero will not serve to this app (401
-- AuthorizationUnsuccessful: a scope or tier the app lacks). `object` is the object's or
-- report's table in schema xero; `endpoint` the Xero path; `scope` the scope that would
-- unlock it; `http_status` Xero's answer (NULL when the token's scopes showed it missing
-- and Xero was not asked); `granted_scopes` the token's scopes, space-separated, when it
-- was last refused (NULL: the token did not say). The row is deleted once Xero serves it.
CREATE TABLE IF NOT EXISTS ${table} (
  tenant_id VARCHAR NOT NULL,
  object VARCHAR NOT NULL,
  endpoint VARCHAR NOT NULL,
  scope VARCHAR NOT NULL,
  http_status INTEGER,
  reason VARCHAR NOT NULL,
  granted_scopes VARCHAR,
  unavailable_since TIMESTAMP NOT NULL,
  checked_at TIMESTAMP NOT NULL,
  next_check TIMESTAMP NOT NULL${primary_key}
)
