-- ${ledger}.to_base(amount, rate) for people's own queries, on a DuckDB file (DuckLake has no macros).
CREATE OR REPLACE MACRO ${ledger}.to_base(amount, rate) AS
${body}
