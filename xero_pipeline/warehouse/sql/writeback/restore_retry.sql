UPDATE ${outbox} SET retry = true WHERE tenant_id = ? AND request_id = ?
