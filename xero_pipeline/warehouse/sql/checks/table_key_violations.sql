-- Duplicate and NULL keys of a table that is not per tenant, worst first.
SELECT count(*) AS n, ${key} FROM ${table}
GROUP BY ${key} HAVING count(*) > 1 OR ${key_is_null}
ORDER BY n DESC
