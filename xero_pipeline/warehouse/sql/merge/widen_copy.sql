-- A DuckLake changes a column's type only to a wider one of its own family (INTEGER to
-- BIGINT), not BIGINT to DECIMAL or DECIMAL to VARCHAR: the table is copied with the
-- column converted (same column order), then takes the old one's place, all in the
-- merge's transaction.
CREATE TABLE ${copy} AS SELECT * REPLACE (CAST(${convert} AS ${sql_type}) AS ${column}) FROM ${table}
