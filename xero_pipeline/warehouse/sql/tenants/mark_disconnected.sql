-- A tenant gone from /connections: marked once, at the first sync that missed it.
-- Parameter: the time.
UPDATE ${target} SET disconnected_at = ?
WHERE disconnected_at IS NULL AND ${key} NOT IN (SELECT ${key} FROM stg_tenants)
