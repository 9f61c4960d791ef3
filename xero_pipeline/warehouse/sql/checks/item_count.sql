-- One tenant's rows of a read window: (all of them, those changed before the read began).
-- Parameters: read start, read start, tenant, since (NULL: a full read), since.
-- Xero compares If-Modified-Since to the second, so the window's lower bound is too.
SELECT count(*), count(*) FILTER (WHERE ?::TIMESTAMP IS NULL OR ${updated} < ?::TIMESTAMP)
FROM ${table} WHERE tenant_id = ?
  AND (?::TIMESTAMP IS NULL OR date_trunc('second', ${updated}) >= date_trunc('second', ?::TIMESTAMP))
