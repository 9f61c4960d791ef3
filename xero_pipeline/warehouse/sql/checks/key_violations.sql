-- Duplicate and NULL keys of one tenant's rows, worst first. Parameters: tenant, tenant.
-- Rows with a NULL tenant_id belong to no tenant, so every tenant's check reports them.
SELECT 'duplicate' AS problem, count(*) AS n, ${key} FROM ${table} WHERE tenant_id = ?
GROUP BY ${key} HAVING count(*) > 1
UNION ALL
SELECT 'null key', count(*), ${key} FROM ${table}
WHERE (tenant_id = ? AND (${key_is_null})) OR tenant_id IS NULL GROUP BY ${key}
ORDER BY n DESC
