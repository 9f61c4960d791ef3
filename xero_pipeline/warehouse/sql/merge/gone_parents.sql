-- Live parents the load does not have. Only a snapshot (the second parameter) means
-- they are gone from Xero; for incremental loads this is empty. Parameters: tenant,
-- snapshot.
CREATE OR REPLACE TEMP TABLE stg_gone AS
SELECT ${pk} AS k FROM ${target}
WHERE tenant_id = ? AND _deleted_at IS NULL AND ?
  AND ${pk} NOT IN (SELECT ${pk} FROM stg_parent)
