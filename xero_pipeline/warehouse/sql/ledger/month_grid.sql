-- months: every month from a tenant's first ${date_col} in ${source} to this month (or its last).
bounds AS (
    SELECT tenant_id, date_trunc('month', min(${date_col})) AS first_month,
           date_trunc('month', greatest(max(${date_col}), current_date)) AS last_month
    FROM ${source} GROUP BY tenant_id
),
months AS (
    SELECT tenant_id, CAST(unnest(generate_series(first_month, last_month, INTERVAL 1 MONTH)) AS DATE) AS month_start
    FROM bounds
)
