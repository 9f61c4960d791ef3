-- Each tenant's refused objects among the given ones, with the reason (as ledger.sources
-- shows them, read from the table so a view need not wait for that one).
SELECT tenant_id, object, reason FROM ${access}
WHERE object IN ${sources}
ORDER BY tenant_id, object
