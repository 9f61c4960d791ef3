-- Staged parents that are new, changed (another hash) or back after being marked
-- deleted, with the _seq of the copy that won. Parameter: tenant.
CREATE OR REPLACE TEMP TABLE stg_changed AS
SELECT s.${pk} AS k, s._seq AS seq, t.${pk} IS NULL AS is_new
FROM stg_parent s
LEFT JOIN ${target} t ON t.tenant_id = ? AND t.${pk} = s.${pk}
WHERE t.${pk} IS NULL OR t._hash IS DISTINCT FROM s._hash OR t._deleted_at IS NOT NULL
