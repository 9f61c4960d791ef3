UPDATE ${outbox} SET retry = false WHERE tenant_id = ? AND request_id = ?
