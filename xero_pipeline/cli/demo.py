"""``make demo``: the sandbox, a full sync of every tenant through Dagster, a summary."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg

from xero_pipeline.cli.runner import cli_instance, sync_tenants
from xero_pipeline.cli.sql_output import query_text
from xero_pipeline.config import warehouse_location
from xero_pipeline.defs.keys import asset_key
from xero_pipeline.defs.resources import WarehouseResource, XeroResource
from xero_pipeline.registry import OBJECTS
from xero_pipeline.warehouse.read import connect_read_only

DEMO_TIME_SCALE = 10.0  # the sandbox's minute lasts 6 s, so Xero's 60-a-minute limit is felt but brief
# The demo's own files live beside its warehouse (data/ of the checkout by default).
TOKENS_NAME = "sandbox_tokens.json"
STATE_NAME = "demo.json"


def demo_today() -> date:
    """The demo sandbox's today: the real one (UTC), as Xero's own clock would be."""
    return datetime.now(UTC).date()


def demo_warehouse(value: str | None) -> Path:
    """``--warehouse``, else the default file (never $XERO_WAREHOUSE: the demo replaces its file)."""
    return warehouse_location(value, env={})


@contextmanager
def sandbox_environment(*, tenants: int, scale: float, seed: int, data: Path | None = None,
                        today: date | None = None) -> Iterator[dict[str, str]]:
    """A running sandbox and the XERO_* settings that point the pipeline at it (tokens kept in ``data``);
    its books run up to ``today`` (the real today unless given)."""
    from xero_pipeline.sandbox import Sandbox

    tokens = (data or demo_warehouse(None).parent) / TOKENS_NAME
    tokens.parent.mkdir(parents=True, exist_ok=True)
    # The sandbox's refresh tokens die with it; a token rotated by an earlier run is useless.
    tokens.unlink(missing_ok=True)
    # Books that run up to today: the ageing and other "as of today" views are live.
    sandbox = Sandbox(tenants=tenants, scale=scale, seed=seed, time_scale=DEMO_TIME_SCALE,
                      today=today or demo_today())
    sandbox.start()
    try:
        yield {
            **sandbox.pipeline_env(token_store=str(tokens)),
            "XERO_RATE_WINDOW_SECONDS": str(60 / DEMO_TIME_SCALE),
        }
    finally:
        sandbox.stop()


def _reset_if_changed(instance: dg.DagsterInstance, warehouse: Path, params: dict) -> None:
    """A different sandbox world makes the old warehouse and cursors meaningless."""
    state = warehouse.parent / STATE_NAME
    previous = json.loads(state.read_text()) if state.exists() else None
    if previous == params:
        return
    warehouse.unlink(missing_ok=True)
    Path(str(warehouse) + ".wal").unlink(missing_ok=True)
    keys = [asset_key(t) for o in OBJECTS for t in (o.table, *(c.table for c in o.children))]
    instance.wipe_assets(keys)
    state.write_text(json.dumps(params))


def run_demo(*, tenants: int, scale: float, seed: int, warehouse: str | None) -> int:
    db = demo_warehouse(warehouse)
    db.parent.mkdir(parents=True, exist_ok=True)
    today = demo_today()
    with (cli_instance() as instance,
          sandbox_environment(tenants=tenants, scale=scale, seed=seed, data=db.parent, today=today) as env):
        # Another day seeds other dates: the warehouse of yesterday's world is replaced too.
        _reset_if_changed(instance, db, {"tenants": tenants, "scale": scale, "seed": seed,
                                         "today": today.isoformat()})
        print(f"sandbox Xero at {env['XERO_API_URL']} with {tenants} organisations (scale {scale})")
        xero = XeroResource(
            client_id=env["XERO_CLIENT_ID"],
            client_secret=env.get("XERO_CLIENT_SECRET"),
            refresh_token=env["XERO_REFRESH_TOKEN"],
            api_url=env["XERO_API_URL"],
            identity_url=env["XERO_IDENTITY_URL"],
            token_store=env["XERO_TOKEN_STORE"],
            rate_window_seconds=60 / DEMO_TIME_SCALE,
            backoff_seconds=0.1,
        )
        report = sync_tenants(instance=instance, xero=xero, warehouse=WarehouseResource(database=str(db)))
    print("\nRows per table and organisation:")
    print(query_text(summary_sql(db), path=str(db), max_rows=100))
    option = "" if warehouse_location() == db else f" --warehouse {db}"
    print(f"\nTry it yourself: xero-pipeline sql{option} \"<query>\"  — for example:\n")
    from xero_pipeline.cli.main import EXAMPLE_SQL

    print(EXAMPLE_SQL)
    print()
    print(query_text(EXAMPLE_SQL.split(";")[0], path=str(db)))
    if not report.ok:
        print(f"\n{len(report.failures)} asset(s) failed: see above")
        return 1
    print(f"\nDone: warehouse {db}, Dagster instance {instance_home()}. `make dev` opens the UI.")
    return 0


def summary_sql(db: Path) -> str:
    """Live rows per table (columns) and organisation (rows), for the tables that exist."""
    conn = connect_read_only(str(db))
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'xero' ORDER BY 1").fetchall()]
        live = {r[0] for r in conn.execute(
            "SELECT table_name FROM duckdb_columns() WHERE schema_name = 'xero' AND column_name = '_deleted_at'"
        ).fetchall()}
    finally:
        conn.close()
    parts = [
        f"SELECT '{t}' AS table_name, tenant_id, count(*) AS n FROM xero.\"{t}\""
        + (" WHERE _deleted_at IS NULL" if t in live else "") + " GROUP BY tenant_id"
        for t in tables
    ]
    return (
        "WITH counts AS (" + " UNION ALL ".join(parts) + ") "
        "PIVOT (SELECT c.table_name, coalesce(o.name, c.tenant_id) AS organisation, c.n FROM counts c "
        "LEFT JOIN xero.organisations o USING (tenant_id)) ON organisation USING sum(n)::BIGINT ORDER BY table_name"
    )


def instance_home() -> str:
    import os

    return os.environ.get("DAGSTER_HOME", ".dagster")
