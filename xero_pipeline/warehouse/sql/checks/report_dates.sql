-- When the tenant's TrialBalance rows were loaded, and the dates they hold YTD balances
-- for. Parameter: tenant.
SELECT min(loaded_at), list(DISTINCT report_date ORDER BY report_date)
FROM ${report}
WHERE tenant_id = ? AND column_label IN ('YTD Debit', 'YTD Credit')
