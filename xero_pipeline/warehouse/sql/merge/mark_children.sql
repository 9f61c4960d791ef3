-- Mark the children a changed parent no longer has, and every child of a parent that
-- vanished. Parameters: the time, tenant.
UPDATE ${target} t SET _deleted_at = ?
WHERE t.tenant_id = ? AND t._deleted_at IS NULL
  AND ((t.${parent_key} IN (SELECT k FROM stg_changed)
        AND NOT EXISTS (SELECT 1 FROM stg_child s WHERE ${same_element}))
       OR t.${parent_key} IN (SELECT k FROM stg_gone))
