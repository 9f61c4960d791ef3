DELETE FROM ${results} WHERE idempotency_key = ? AND status = 'sending'
