"""Reading the warehouse safely while syncs may be writing to it.

DuckDB lets one process write a file, or many read it, not both at once. Readers here
open read-only and briefly, and report a lock clearly instead of failing obscurely.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import duckdb

from xero_pipeline.config import Lake, is_lake_setting, warehouse_location, warehouse_target
from xero_pipeline.errors import ConfigError
from xero_pipeline.warehouse import connection
from xero_pipeline.warehouse.connection import open_warehouse

BATCH_ROWS = 2048
# Statements whose result is rows; DuckDB answers the others (SET, USE, ATTACH, ...) with
# a placeholder column "Success" that means nothing to a reader.
ROW_STATEMENTS = {"SELECT", "EXPLAIN", "CALL", "PRAGMA", "EXECUTE", "RELATION"}


def connect_read_only(path: str | None = None) -> duckdb.DuckDBPyConnection:
    if is_lake_setting(path or os.environ.get("XERO_WAREHOUSE")):
        # A DuckLake has no lock to wait for: readers see the last commit while others write.
        return open_warehouse(warehouse_target(path), read_only=True)
    db = warehouse_location(path)
    target = connection.as_target(db)  # the one place deciding what a warehouse path opens
    if isinstance(target, Lake):
        return open_warehouse(target, read_only=True)
    if not db.is_file():
        raise ConfigError(f"there is no warehouse at {db} yet: run `xero-pipeline sync` (or `make demo`) first, "
                          "or name the file with --warehouse or XERO_WAREHOUSE")
    try:
        return open_warehouse(db, read_only=True)
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise ConfigError(f"cannot open the warehouse {db}: {exc}") from None
        raise ConfigError(
            f"the warehouse {db} is being written by another process ({exc}); try again when the sync finishes"
        ) from None


@dataclass
class Result:
    """One statement's rows, fetched in batches as they are read (consume before the next)."""

    number: int  # 1-based, among the statements the user wrote
    last: bool  # the query's last statement
    columns: list[str]
    types: list[str]  # DuckDB's type names: "JSON", "DECIMAL(38,10)", ...
    batches: Iterator[list[tuple]]


def split_statements(conn: duckdb.DuckDBPyConnection, query: str) -> list[duckdb.Statement]:
    """The query's statements, as DuckDB's parser splits them; an empty query is an error."""
    try:
        statements = conn.extract_statements(query)
    except duckdb.Error as exc:
        raise ConfigError(f"query failed: {exc}") from None
    if not statements:
        raise ConfigError('the query is empty: give SQL, e.g. xero-pipeline sql "SELECT count(*) FROM xero.invoices"')
    return statements


def _hidden(statement: duckdb.Statement) -> bool:
    # DuckDB expands a PIVOT into a CREATE TYPE with no text of its own, then the SELECT.
    return statement.type.name == "CREATE" and not statement.query.strip()


def written(statements: list[duckdb.Statement]) -> int:
    """How many statements the user wrote."""
    return sum(not _hidden(s) for s in statements)


def results(conn: duckdb.DuckDBPyConnection, statements: list[duckdb.Statement]) -> Iterator[Result]:
    """Run the statements in order, yielding each one that returns rows."""
    total, number = written(statements), 0
    for index, statement in enumerate(statements):
        number += not _hidden(statement)
        try:
            cursor = conn.execute(statement)  # the object, not its text: a PIVOT's parts have none
        except duckdb.Error as exc:
            where = f" (statement {max(number, 1)} of {total})" if total > 1 else ""
            raise ConfigError(f"query failed{where}: {exc}") from None
        if (cursor.description is None or statement.type.name not in ROW_STATEMENTS
                or [d[0] for d in cursor.description] == ["Success"]):
            continue
        yield Result(number, index == len(statements) - 1, [d[0] for d in cursor.description],
                     [str(d[1]) for d in cursor.description], _batches(cursor))


def _batches(cursor: duckdb.DuckDBPyConnection) -> Iterator[list[tuple]]:
    while True:
        try:
            batch = cursor.fetchmany(BATCH_ROWS)
        except duckdb.Error as exc:
            raise ConfigError(f"query failed: {exc}") from None
        if not batch:
            return
        yield batch
