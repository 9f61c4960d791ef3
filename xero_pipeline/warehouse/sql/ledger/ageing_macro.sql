-- ${ledger}.${name}_at(as_of): the ageing as of any date (DuckDB files only: DuckLake has no macros).
CREATE OR REPLACE MACRO ${ledger}.${name}_at(as_of) AS TABLE
${body}
