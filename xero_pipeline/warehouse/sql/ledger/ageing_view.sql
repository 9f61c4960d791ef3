-- ${ledger}.${name}: the ageing as of today. The query itself, not a call of the _at macro,
-- so the view works on a DuckLake too, which has no macros.
CREATE OR REPLACE VIEW ${ledger}.${name} AS
${body}
