-- rb_system: each tenant's system accounts by role, from its chart (never by code).
-- rb_codes: account code -> id, for a line that names its account by code only.
rb_system AS (
    SELECT tenant_id,
           any_value(account_id) FILTER (WHERE system_account = 'DEBTORS') AS receivable,
           any_value(account_id) FILTER (WHERE system_account = 'CREDITORS') AS payable,
           any_value(account_id) FILTER (WHERE system_account = 'GST') AS tax,
           any_value(account_id) FILTER (WHERE system_account = 'REALISEDCURRENCYGAIN') AS fx_gain,
           any_value(account_id) FILTER (WHERE system_account = 'UNPAIDEXPCLM') AS unpaid_claims
    FROM ${xero}.accounts
    WHERE _deleted_at IS NULL
    GROUP BY tenant_id
),
rb_codes AS (
    SELECT tenant_id, code, any_value(account_id) AS account_id
    FROM ${xero}.accounts WHERE _deleted_at IS NULL AND code IS NOT NULL GROUP BY ALL
)
