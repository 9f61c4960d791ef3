"""The raw tables behind the ledger views: which Xero object writes each, which of them
Xero withholds from the app for a tenant, and creating (empty) the ones no sync made."""

from __future__ import annotations

from collections.abc import Sequence

from xero_pipeline.registry import BY_TABLE, OBJECTS
from xero_pipeline.warehouse.access import ACCESS
from xero_pipeline.warehouse.connection import Connection
from xero_pipeline.warehouse.names import in_list
from xero_pipeline.warehouse.shaping import child_shape, parent_shape
from xero_pipeline.warehouse.sql import load
from xero_pipeline.warehouse.tables import ensure_table, existing_tables


def owner_object(table: str) -> str:
    """The registry object whose sync writes ``table`` (itself, or the parent of a child table)."""
    if table in BY_TABLE:
        return table
    for obj in OBJECTS:
        if any(c.table == table for c in obj.children):
            return obj.table
    raise KeyError(f"no Xero object writes the table {table!r}")


def unavailable_sources(conn: Connection, tables: Sequence[str]) -> list[tuple[str, str, str]]:
    """(tenant, object, reason) for each object behind ``tables`` Xero does not serve to a tenant."""
    objects = in_list(dict.fromkeys(owner_object(t) for t in tables))
    return [tuple(r) for r in conn.execute(load("ledger/unavailable_sources", access=ACCESS,
                                                sources=objects)).fetchall()]


def ensure_sources(conn: Connection, tables: Sequence[str]) -> list[str]:
    """Create (empty, with the synced shape) any raw table a view reads that no sync made yet.

    An endpoint Xero withholds from this app (classic expense claims, for one) never
    creates its table, and a view over a missing table cannot even be created.
    """
    created = []
    existing = existing_tables(conn)  # one query, not one per table: views read ~20 tables each
    for table in tables:
        obj = BY_TABLE[owner_object(table)]
        if table not in existing:
            ensure_table(conn, parent_shape(obj) if obj.table == table else child_shape(obj, obj.child(table)))
            created.append(table)
            existing.add(table)
    return created
