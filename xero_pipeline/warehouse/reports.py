"""Report tables (``xero.report_<name>``): one row per value cell of a Xero report.

A report is a snapshot, so each load replaces the tenant's rows in one transaction:
rows of a previous load must not linger. The rows come from ``xero/reports``
(``flatten_report``); the layout every report table shares is the registry's
``REPORT_COLUMNS``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from xero_pipeline.registry import REPORT_COLUMNS
from xero_pipeline.warehouse.connection import Connection, in_transaction
from xero_pipeline.warehouse.names import SCHEMA, q, qualified
from xero_pipeline.warehouse.sql import load
from xero_pipeline.warehouse.tables import create_table, table_exists

Layout = Sequence[tuple[str, str]]  # (column, SQL type), in table order
_INTEGER_TYPES = ("INTEGER", "BIGINT")


def _insert_sql(table: str, columns: Layout, staged: str, schema: str) -> str:
    names = ", ".join(q(n) for n, _ in columns)
    select = ", ".join(f"CAST({q(n)} AS {t})" for n, t in columns)
    return f"INSERT INTO {qualified(table, schema)} ({names}) SELECT {select} FROM {staged}"


def _staged(row: Mapping[str, Any], columns: Layout) -> tuple[Any, ...]:
    out = []
    for name, sql_type in columns:
        v = row.get(name)
        if sql_type in _INTEGER_TYPES:
            out.append(int(v))
        elif isinstance(v, (dict, list)):
            out.append(json.dumps(v))
        elif isinstance(v, datetime):
            out.append(v.isoformat(sep=" "))
        else:
            # Text all the way to the CAST: a Decimal must not pass through a float.
            out.append(None if v is None else str(v.isoformat() if isinstance(v, date) else v))
    return tuple(out)


def replace_report_rows(
    conn: Connection, table: str, tenant_id: str, rows: Sequence[Mapping[str, Any]], schema: str = SCHEMA,
) -> int:
    """Swap the tenant's rows of one report table for ``rows`` atomically, creating the
    table if need be; returns the tenant's row count."""
    columns = REPORT_COLUMNS
    import pandas as pd  # here, not at the top: loading the code location should not pay for it

    frame = pd.DataFrame.from_records([_staged(r, columns) for r in rows], columns=[n for n, _ in columns])
    target = qualified(table, schema)
    def write() -> int:
        create_table(conn, table, columns, schema)
        conn.execute(f"DELETE FROM {target} WHERE tenant_id = ?", [tenant_id])
        if rows:
            conn.register("_report_rows", frame)
            try:
                conn.execute(_insert_sql(table, columns, "_report_rows", schema))
            finally:
                conn.unregister("_report_rows")
        return int(conn.execute(f"SELECT count(*) FROM {target} WHERE tenant_id = ?", [tenant_id]).fetchone()[0])

    return in_transaction(conn, write)


def open_contacts_sql(schema: str = SCHEMA) -> str:
    """Contacts with authorised invoices (or bills) still due, largest balance first.

    Only AUTHORISED documents: drafts are not in the aged reports, and PAID ones owe
    nothing, so calling for their contacts would spend calls on empty reports.
    """
    return load("reports/open_contacts", invoices=qualified("invoices", schema))


def open_contacts(conn: Connection, tenant_id: str, invoice_type: str, schema: str = SCHEMA) -> list[str]:
    """The contacts ``open_contacts_sql`` finds; none before invoices were ever synced."""
    if not table_exists(conn, "invoices", schema):
        return []
    return [r[0] for r in conn.execute(open_contacts_sql(schema), [tenant_id, invoice_type]).fetchall()]
