"""Columns that widen instead of losing a value.

A load's shapes say what kind each column's values need (``shaping`` widens a kind
when a value does not fit it); the table says what its columns hold now. Inside the
merge transaction, before any row is written, each column whose table type cannot
hold the load's values is altered to the narrowest type that holds both
(``values.join_kinds``): BIGINT -> DECIMAL(38, 10) -> VARCHAR -> JSON, DATE, TIMESTAMP
and BOOLEAN -> VARCHAR -> JSON (a DuckLake, which cannot alter a column's type so, gets
a converted copy of the table in its place). Existing values convert without loss: a DECIMAL becomes
its digits without trailing zeros (``12.99``, not ``12.9900000000``), VARCHAR text
becomes a JSON string. A failed merge rolls the ALTER back with everything else.

A column never narrows: once VARCHAR, later loads of plain numbers are stored as their
text. Each widening is logged here and returned so the asset can record it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from xero_pipeline.warehouse import lake
from xero_pipeline.warehouse.connection import Connection
from xero_pipeline.warehouse.names import SCHEMA, q, qualified
from xero_pipeline.warehouse.shaping import TableShape
from xero_pipeline.warehouse.sql import load
from xero_pipeline.warehouse.tables import column_types
from xero_pipeline.warehouse.values import SQL_TYPES, join_kinds, kind_of_type

log = logging.getLogger("xero_pipeline.warehouse.widening")


@dataclass(frozen=True)
class Widening:
    table: str
    column: str
    old_type: str
    new_type: str

    def __str__(self) -> str:
        return f"{self.table}.{self.column}: {self.old_type} -> {self.new_type}"


def _decimal_text(column: str) -> str:
    # DuckDB writes a DECIMAL(38, 10) with all ten places; the value is the digits without
    # the padding (every such text has a point, so only fraction zeros are trimmed).
    text = f"CAST({q(column)} AS VARCHAR)"
    return f"rtrim(rtrim({text}, '0'), '.')"


def convert_sql(column: str, old: str, new: str) -> str:
    """The expression that turns the column's ``old``-kind value into a ``new``-kind one."""
    if new == "json":
        return f"CAST({_decimal_text(column)} AS JSON)" if old == "decimal" else f"to_json({q(column)})"
    if new == "string" and old == "decimal":
        return _decimal_text(column)
    return f"CAST({q(column)} AS {SQL_TYPES[new]})"


def alter_sql(table: str, column: str, old: str, new: str, schema: str = SCHEMA) -> str:
    return (f"ALTER TABLE {qualified(table, schema)} ALTER COLUMN {q(column)} TYPE {SQL_TYPES[new]} "
            f"USING {convert_sql(column, old, new)}")


def lake_widen_sql(table: str, column: str, old: str, new: str, schema: str = SCHEMA) -> list[str]:
    """``alter_sql`` for a DuckLake: the table copied with the column converted, in its place."""
    copy = f"{table}__widened"
    return [
        load("merge/widen_copy", copy=qualified(copy, schema), table=qualified(table, schema), column=q(column),
             convert=convert_sql(column, old, new), sql_type=SQL_TYPES[new]),
        f"DROP TABLE {qualified(table, schema)}",
        f"ALTER TABLE {qualified(copy, schema)} RENAME TO {q(table)}",
    ]


def widen_columns(conn: Connection, shape: TableShape, schema: str = SCHEMA) -> list[Widening]:
    """Widen the table's columns that cannot hold this load's values, and record in
    ``shape.stored`` how every column is typed in the table. Call inside the merge
    transaction, after ``tables.ensure_table`` and before rows are written."""
    widened = []
    for name, sql_type in column_types(conn, shape.table, schema):
        col = shape.columns.get(name)
        stored = kind_of_type(sql_type)
        if col is None or stored is None:  # not in this load, or a type we never make
            continue
        final = join_kinds(stored, col.kind)
        if final != stored:
            on_lake = lake.is_lake(conn)
            for statement in (lake_widen_sql(shape.table, name, stored, final, schema) if on_lake
                              else [alter_sql(shape.table, name, stored, final, schema)]):
                conn.execute(statement)
            change = Widening(shape.table, name, sql_type, SQL_TYPES[final].replace(" ", ""))
            log.warning("widened %s: this load has values it could not hold exactly", change)
            widened.append(change)
        shape.stored[name] = final
    return widened


def spool_read_type(kind: str, stored: str) -> tuple[str, str | None]:
    """(type to read a spool column as, type to cast it to after) for values spooled as
    ``kind`` going into a ``stored`` column.

    Every kind's spool text reads straight into a wider type (an integer 5 as "5" or 5,
    a date as its ISO text) except numbers into JSON: the spool holds decimals as
    strings, exact, which would read as JSON strings; read as text, they cast to JSON
    numbers with every digit. Decimals are read as text too, and cast by
    ``values.cast_text_sql``: DuckDB's own text-to-DECIMAL(38, 10) is its slowest step.
    """
    if stored == "json" and kind in ("integer", "decimal"):
        return "VARCHAR", "JSON"
    if stored == "decimal":
        return "VARCHAR", SQL_TYPES["decimal"]
    return SQL_TYPES[stored], None
