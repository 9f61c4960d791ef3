UPDATE ${results}
SET status = ?, xero_status = ?, xero_id = ?, validation_errors = ?, warnings = ?, message = ?, recorded_at = ?
WHERE tenant_id = ? AND object = ? AND request_id = ? AND attempt = ? AND status = 'sending'
