-- Park a tenant. Parameters: tenant, until, now.
INSERT INTO ${table} (tenant_id, parked_until, parked_at) VALUES (?, ?, ?)
ON CONFLICT (tenant_id) DO UPDATE SET parked_until = excluded.parked_until, parked_at = excluded.parked_at
