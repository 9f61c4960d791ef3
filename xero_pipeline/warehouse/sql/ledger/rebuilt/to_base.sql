-- to_base(amount, rate): a document-currency amount in base currency at Xero's
-- CurrencyRate (units of the document's currency per unit of base currency), rounded
-- half away from zero to the cent. In integers: DuckDB divides DECIMALs as DOUBLEs, and
-- a double lands just below half a cent often enough to move totals by a cent.
-- Written out at each use (rebuilt.inline_to_base), since a DuckLake has no macros.
    CASE WHEN (${rate}) IS NULL OR (${rate}) = 0 OR (${rate}) = 1 THEN CAST((${amount}) AS DECIMAL(38, 10))
         ELSE CAST(sign((${amount})) * ((2 * abs(CAST(round((${amount}) * 100) AS HUGEINT)) * 10000000000
                                    + CAST(round((${rate}) * 10000000000) AS HUGEINT))
                                   // (2 * CAST(round((${rate}) * 10000000000) AS HUGEINT)))
                   AS DECIMAL(38, 10)) * 0.01 END
