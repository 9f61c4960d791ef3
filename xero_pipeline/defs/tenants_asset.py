"""``xero/tenants``: the organisations connected to the app, from ``GET /connections``.

One row per tenant ever seen. A tenant that drops out of ``/connections`` (the user
disconnected the app, or revoked its tokens) keeps its row with ``disconnected_at`` set,
because its data stays in every other table and people need to know why it stopped
changing; reconnecting clears the mark (Xero keeps the connection id and
``createdDateUtc`` and moves ``updatedDateUtc``).

Not partitioned: ``/connections`` is one call that describes every tenant at once and
is the only place a disconnection can be seen. A per-tenant partition would make N
identical calls, and the partition of a disconnected tenant is exactly the one nobody
runs any more, so it could never record that it went away.
"""

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from xero_pipeline.defs.assets import GROUP, KINDS, asset_key
from xero_pipeline.defs.resources import WarehouseResource, XeroResource
from xero_pipeline.warehouse.merge import Connection, q, qualified
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


def create_tenants_sql(schema: str = "xero") -> str:
    cols = ", ".join(f"{q(name)} {sql_type}" for name, sql_type, _ in COLUMNS)
    return f"CREATE TABLE IF NOT EXISTS {qualified(TABLE, schema)} ({cols})"


def merge_tenants_sql(schema: str = "xero") -> list[str]:
    """Statements that fold ``stg_tenants`` into the table; the only parameter is the time."""
    target = qualified(TABLE, schema)
    names = ", ".join(q(name) for name, _, _ in COLUMNS)
    return [
        f"DELETE FROM {target} WHERE {q(KEY)} IN (SELECT {q(KEY)} FROM stg_tenants)",
        f"INSERT INTO {target} ({names}) SELECT {names} FROM stg_tenants",
        # A tenant gone from /connections: marked once, at the first sync that missed it.
        f"UPDATE {target} SET disconnected_at = ? WHERE disconnected_at IS NULL "
        f"AND {q(KEY)} NOT IN (SELECT {q(KEY)} FROM stg_tenants)",
    ]


def merge_tenants(conn: Connection, rows: list[tuple], *, now: datetime, schema: str = "xero") -> dict[str, int]:
    """Upsert the connected tenants and mark the missing ones, in one transaction."""
    stamp = now.astimezone(UTC).replace(tzinfo=None)
    conn.execute("BEGIN TRANSACTION")
    try:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {q(schema)}")
        conn.execute(create_tenants_sql(schema))
        conn.execute(f"CREATE OR REPLACE TEMP TABLE stg_tenants AS SELECT * FROM {qualified(TABLE, schema)} LIMIT 0")
        if rows:
            marks = ", ".join("?" for _ in COLUMNS)
            conn.executemany(f"INSERT INTO stg_tenants VALUES ({marks})", rows)
        *upsert, mark = merge_tenants_sql(schema)
        for statement in upsert:
            conn.execute(statement)
        disconnected = conn.execute(mark, [stamp]).fetchone()[0]
        total, live = conn.execute(
            f"SELECT count(*), count(*) FILTER (WHERE disconnected_at IS NULL) FROM {qualified(TABLE, schema)}"
        ).fetchone()
        conn.execute("DROP TABLE IF EXISTS stg_tenants")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return {"connected": live, "known": total, "newly_disconnected": disconnected}


@dg.asset(
    key=asset_key(TABLE),
    group_name=GROUP,
    kinds=KINDS,
    description=(
        "Xero /connections: one row per organisation connected to the app, ever. Table `xero.tenants`, key "
        "(tenant_id): name, type, connection id, created/updated dates, and `disconnected_at` once a tenant is "
        "no longer connected (cleared if it reconnects). Not partitioned: one call describes every tenant."
    ),
)
def xero_tenants(
    context: dg.AssetExecutionContext, xero: XeroResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    now = datetime.now(UTC)
    connections = xero.get_client().connections()
    rows = tenant_rows(connections, now=now)
    with warehouse.get_connection() as conn:
        counts = merge_tenants(conn, rows, now=now)
    context.log.info(
        f"{counts['connected']} tenant(s) connected, {counts['newly_disconnected']} newly disconnected"
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": dg.MetadataValue.int(counts["known"]),
            "connected": dg.MetadataValue.int(counts["connected"]),
            "newly_disconnected": dg.MetadataValue.int(counts["newly_disconnected"]),
            "dagster/column_schema": dg.TableSchema(
                columns=[dg.TableColumn(name, sql_type) for name, sql_type, _ in COLUMNS]
            ),
        }
    )
