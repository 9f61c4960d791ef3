-- A retry flag is spent once the row's new attempt is recorded.
UPDATE ${outbox} SET retry = false WHERE tenant_id = ? AND retry AND request_id IN (SELECT unnest(?::VARCHAR[]))
