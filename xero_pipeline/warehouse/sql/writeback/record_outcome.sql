-- The outcomes of one request's rows, in one statement; only rows still in flight change.
-- Numbered parameters: DuckDB binds an UPDATE's FROM before its SET.
UPDATE ${results} AS r
SET status = o.status, xero_status = o.xero_status, xero_id = o.xero_id,
    validation_errors = CAST(o.validation_errors AS JSON), warnings = CAST(o.warnings AS JSON),
    message = o.message, recorded_at = $1
FROM (SELECT unnest($2::VARCHAR[]) AS request_id, unnest($3::INTEGER[]) AS attempt,
             unnest($4::VARCHAR[]) AS status, unnest($5::VARCHAR[]) AS xero_status, unnest($6::VARCHAR[]) AS xero_id,
             unnest($7::VARCHAR[]) AS validation_errors, unnest($8::VARCHAR[]) AS warnings,
             unnest($9::VARCHAR[]) AS message) AS o
WHERE r.tenant_id = $10 AND r.object = $11 AND r.request_id = o.request_id AND r.attempt = o.attempt
  AND r.status = 'sending'
