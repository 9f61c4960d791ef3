"""``make demo``: the sandbox, a full sync of every tenant through Dagster, a summary."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from xero_pipeline.cli.runner import ensure_dagster_home, sync_tenants
from xero_pipeline.defs.assets import asset_key
from xero_pipeline.defs.resources import WarehouseResource, XeroResource
from xero_pipeline.registry import OBJECTS
from xero_pipeline.warehouse.read import connect_read_only, run_query

DEMO_TIME_SCALE = 10.0  # the sandbox's minute lasts 6 s, so Xero's 60-a-minute limit is felt but brief
DEMO_TOKENS = Path("data/sandbox_tokens.json")
DEMO_STATE = Path("data/demo.json")


@contextmanager
def sandbox_environment(*, tenants: int, scale: float, seed: int) -> Iterator[dict[str, str]]:
    """A running sandbox and the XERO_* settings that point the pipeline at it."""
    from xero_pipeline.sandbox import Sandbox

    # The sandbox's refresh tokens die with it; a token rotated by an earlier run is useless.
    DEMO_TOKENS.unlink(missing_ok=True)
    sandbox = Sandbox(tenants=tenants, scale=scale, seed=seed, time_scale=DEMO_TIME_SCALE)
    sandbox.start()
    try:
        yield {
            **sandbox.pipeline_env(token_store=str(DEMO_TOKENS.resolve())),
            "XERO_RATE_WINDOW_SECONDS": str(60 / DEMO_TIME_SCALE),
        }
    finally:
        sandbox.stop()


def _reset_if_changed(instance: dg.DagsterInstance, warehouse: Path, params: dict) -> None:
    """A different sandbox world makes the old warehouse and cursors meaningless."""
    previous = json.loads(DEMO_STATE.read_text()) if DEMO_STATE.exists() else None
    if previous == params:
        return
    warehouse.unlink(missing_ok=True)
    Path(str(warehouse) + ".wal").unlink(missing_ok=True)
    keys = [asset_key(t) for o in OBJECTS for t in (o.table, *(c.table for c in o.children))]
    instance.wipe_assets(keys)
    DEMO_STATE.parent.mkdir(parents=True, exist_ok=True)
    DEMO_STATE.write_text(json.dumps(params))


def run_demo(*, tenants: int, scale: float, seed: int, warehouse: str) -> int:
    ensure_dagster_home()
    db = Path(warehouse)
    db.parent.mkdir(parents=True, exist_ok=True)
    with dg.DagsterInstance.get() as instance, sandbox_environment(tenants=tenants, scale=scale, seed=seed) as env:
        _reset_if_changed(instance, db, {"tenants": tenants, "scale": scale, "seed": seed})
        print(f"sandbox Xero at {env['XERO_API_URL']} with {tenants} organisations (scale {scale})")
        xero = XeroResource(
            client_id=env["XERO_CLIENT_ID"],
            client_secret=env["XERO_CLIENT_SECRET"],
            refresh_token=env["XERO_REFRESH_TOKEN"],
            api_url=env["XERO_API_URL"],
            identity_url=env["XERO_IDENTITY_URL"],
            token_store=env["XERO_TOKEN_STORE"],
            rate_window_seconds=60 / DEMO_TIME_SCALE,
            backoff_seconds=0.1,
        )
        report = sync_tenants(instance=instance, xero=xero, warehouse=WarehouseResource(database=str(db)))
    print("\nRows per table and organisation:")
    print(run_query(summary_sql(db), path=str(db), max_rows=100))
    print("\nTry it yourself: xero-pipeline sql \"<query>\"  — for example:\n")
    from xero_pipeline.cli.main import EXAMPLE_SQL

    print(EXAMPLE_SQL)
    print()
    print(run_query(EXAMPLE_SQL.split(";")[0], path=str(db)))
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
