-- One row per tenant that Xero refused for the day (a 429 with X-Rate-Limit-Problem: day):
-- until `parked_until` (now + Retry-After) no run makes a call for it. Kept in the
-- warehouse so every run and step sees it, not only the process that was refused.
CREATE TABLE IF NOT EXISTS ${table} (
  tenant_id VARCHAR NOT NULL,
  parked_until TIMESTAMP NOT NULL,
  parked_at TIMESTAMP NOT NULL${primary_key}
)
