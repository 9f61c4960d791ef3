"""``xero.tenants``: the organisations connected to the app, from ``GET /connections``.

One row per tenant ever seen. A tenant that drops out of ``/connections`` (the user
disconnected the app, or revoked its tokens) keeps its row with ``disconnected_at`` set,
because its data stays in every other table and people need to know why it stopped
changing; reconnecting clears the mark (Xero keeps the connection id and
``createdDateUtc`` and moves ``updatedDateUtc``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from xero_pipeline.warehouse.connection import Connection, in_transaction
from xero_pipeline.warehouse.names import SCHEMA, q, qualified
from xero_pipeline.warehouse.sql import load
from xero_pipeline.warehouse.tables import create_table
from xero_pipeline.xero.dates import parse_iso

TABLE = "tenants"
KEY = "tenant_id"
# (column, SQL type, /connections field or None for columns the pipeline keeps)
COLUMNS: tuple[tuple[str, str, str | None], ...] = (
    ("tenant_id", "VARCHAR", "tenantId"),
    ("tenant_name", "VARCHAR", "tenantName"),
    ("tenant_type", "VARCHAR", "tenantType"),
    ("connection_id", "VARCHAR", "id"),
    ("auth_event_id", "VARCHAR", "authEventId"),
    ("created_date_utc", "TIMESTAMP", "createdDateUtc"),
    ("updated_date_utc", "TIMESTAMP", "updatedDateUtc"),
    ("disconnected_at", "TIMESTAMP", None),
    ("_synced_at", "TIMESTAMP", None),
)
_DATES = {"createdDateUtc", "updatedDateUtc"}


def tenant_rows(connections: Iterable[Mapping[str, Any]], *, now: datetime) -> list[tuple]:
    """``/connections`` entries as rows in ``COLUMNS`` order (dates naive UTC)."""
    stamp = now.astimezone(UTC).replace(tzinfo=None)
    rows = []
    for c in connections:
        row: list[Any] = []
        for name, _, source in COLUMNS:
            if source is None:
                row.append(stamp if name == "_synced_at" else None)  # disconnected_at: not now
                continue
            value = c.get(source)
            if source in _DATES and value:
                # ISO with seven fractional digits and no Z, in UTC (Xero's identity API).
                value = parse_iso(value).replace(tzinfo=None)
            row.append(value)
        rows.append(tuple(row))
    return rows


def merge_tenants(conn: Connection, rows: list[tuple], *, now: datetime, schema: str = SCHEMA) -> dict[str, int]:
    """Upsert the connected tenants and mark the missing ones, in one transaction."""
    stamp = now.astimezone(UTC).replace(tzinfo=None)
    target = qualified(TABLE, schema)
    names = ", ".join(q(name) for name, _, _ in COLUMNS)
    def write() -> dict[str, int]:
        create_table(conn, TABLE, ((name, sql_type) for name, sql_type, _ in COLUMNS), schema)
        conn.execute(f"CREATE OR REPLACE TEMP TABLE stg_tenants AS SELECT * FROM {target} LIMIT 0")
        if rows:
            marks = ", ".join("?" for _ in COLUMNS)
            conn.executemany(f"INSERT INTO stg_tenants VALUES ({marks})", rows)
        conn.execute(f"DELETE FROM {target} WHERE {q(KEY)} IN (SELECT {q(KEY)} FROM stg_tenants)")
        conn.execute(f"INSERT INTO {target} ({names}) SELECT {names} FROM stg_tenants")
        mark = load("tenants/mark_disconnected", target=target, key=q(KEY))
        disconnected = conn.execute(mark, [stamp]).fetchone()[0]
        total, live = conn.execute(
            f"SELECT count(*), count(*) FILTER (WHERE disconnected_at IS NULL) FROM {target}"
        ).fetchone()
        conn.execute("DROP TABLE IF EXISTS stg_tenants")
        return {"connected": live, "known": total, "newly_disconnected": disconnected}

    return in_transaction(conn, write)
