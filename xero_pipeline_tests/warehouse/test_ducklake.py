"""The warehouse as a DuckLake on a real PostgreSQL (the worker's throw-away server): the same
syncs, merges, checks and ledger views as on a DuckDB file, and writers on several processes
at once with no file to take turns at.

(``XERO_TEST_WAREHOUSE=ducklake`` runs the whole sync, warehouse and defs suites this way;
these are the few that ``make test`` runs on every change.)
"""

from __future__ import annotations

import logging
import multiprocessing
import re
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from xero_pipeline.cli.runner import sync_tenants
from xero_pipeline.config import Lake
from xero_pipeline.defs.resources import WarehouseResource
from xero_pipeline.errors import ConfigError
from xero_pipeline.registry import BY_TABLE, OBJECTS
from xero_pipeline.sandbox import Sandbox
from xero_pipeline.warehouse.connection import in_transaction, open_warehouse
from xero_pipeline.warehouse.lake import is_lake
from xero_pipeline_tests.resource_helpers import xero_resource
from xero_pipeline_tests.truth import diff_warehouse

# Both kinds of cursor (modified-since, offset), child tables: two writers meet in the same tables.
WRITERS = [BY_TABLE[t] for t in ("invoices", "journals")]


def lake_resource(postgres_url: str, tmp_path: Path) -> WarehouseResource:
    return WarehouseResource(database=f"ducklake:postgres:{postgres_url}", data_path=str(tmp_path / "lake"))


def assert_equal_to_truth(sandbox: Sandbox, lake: Lake, objects=OBJECTS) -> None:
    problems = diff_warehouse(lake, sandbox.ground_truth(), objects)
    assert not problems, "\n".join(problems[:20])


def test_a_full_then_an_incremental_sync_into_a_ducklake_equal_xero_and_its_checks_and_views_hold(
        postgres_url, tmp_path):
    warehouse = lake_resource(postgres_url, tmp_path)
    lake = warehouse.target()
    with Sandbox(tenants=1, scale=0.004, seed=5, limits=False) as sandbox, \
            dg.DagsterInstance.ephemeral() as instance:
        xero = xero_resource(sandbox, tmp_path, rate_window_seconds=1.0)
        # A full sync: every object, report, check and ledger view; a failed ERROR check fails it.
        report = sync_tenants(instance=instance, xero=xero, warehouse=warehouse, echo=lambda _: None)
        assert report.ok, report.failures
        assert_equal_to_truth(sandbox, lake)
        # A day later, the incremental sync of the objects a day changes most catches up.
        assert sandbox.simulate_day()
        report = sync_tenants(instance=instance, xero=xero, warehouse=warehouse, objects=WRITERS, echo=lambda _: None)
        assert report.ok, report.failures
        modes = {o.table: o.metadata.get("sync_mode") for o in report.outcomes}
        assert modes["invoices"] == "incremental" and modes["journals"] == "incremental"
        assert_equal_to_truth(sandbox, lake, WRITERS)
    with open_warehouse(lake, read_only=True) as conn:
        assert is_lake(conn)
        for view in ("general_ledger", "trial_balance", "receivables_ageing", "document_journal_lines"):
            assert conn.execute(f"SELECT count(*) FROM ledger.{view}").fetchone()[0] > 0, view
    assert list(tmp_path.glob("**/*.writer.lock")) == [] and list(tmp_path.glob("**/*.wal")) == []


def _sync_one(sandbox_settings: dict, database: str, data_path: str, tenant: str, log_file: str) -> None:
    """One worker process: a sync of one tenant, its own Dagster instance, the shared lake."""
    logging.basicConfig(filename=log_file, level=logging.INFO)
    xero = xero_resource_from(sandbox_settings)
    warehouse = WarehouseResource(database=database, data_path=data_path)
    with dg.DagsterInstance.ephemeral() as instance:
        report = sync_tenants(instance=instance, xero=xero, warehouse=warehouse, tenant_ids=[tenant],
                              objects=WRITERS, echo=lambda line: logging.getLogger("echo").info(line))
    if not report.ok:
        raise SystemExit(f"tenant {tenant}: {report.failures}")


def xero_resource_from(settings: dict):
    from xero_pipeline.defs.resources import XeroResource

    return XeroResource(**settings)


@pytest.fixture
def two_tenants() -> Iterator[Sandbox]:
    with Sandbox(tenants=2, scale=0.01, seed=11, limits=False) as sb:
        yield sb


def test_two_processes_sync_different_tenants_into_one_ducklake_at_once_and_end_equal_to_xero(
        two_tenants, postgres_url, tmp_path):
    sandbox = two_tenants
    database, data_path = f"ducklake:postgres:{postgres_url}", str(tmp_path / "lake")
    xero = xero_resource(sandbox, tmp_path, rate_window_seconds=1.0)
    settings = xero.model_dump(exclude_none=True)
    # fork: the children reuse this process's imports (Dagster's take seconds to load).
    context = multiprocessing.get_context("fork")
    logs = [tmp_path / f"worker{i}.log" for i in range(2)]
    workers = [context.Process(target=_sync_one, args=(settings, database, data_path, tenant, str(log)))
               for tenant, log in zip(sandbox.tenant_ids, logs)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=240)
    texts = [log.read_text() if log.exists() else "" for log in logs]
    assert [w.exitcode for w in workers] == [0, 0], texts
    # Both wrote the same tables (their merges' commits may have been retried), and nobody
    # waited for a lock: a DuckLake has none.
    for text in texts:
        assert "waiting for other runs" not in text and "is locked by" not in text
    assert list(tmp_path.glob("**/*.writer.lock")) == []
    lake = WarehouseResource(database=database, data_path=data_path).target()
    assert_equal_to_truth(sandbox, lake, WRITERS)
    with open_warehouse(lake, read_only=True) as conn:
        tenants = conn.execute("SELECT DISTINCT tenant_id FROM pipeline.sync_state").fetchall()
    assert sorted(t for (t,) in tenants) == sorted(sandbox.tenant_ids)


@pytest.mark.parametrize(("database", "data", "named"), [
    ("ducklake:postgres:host=db dbname=lake", "", "XERO_WAREHOUSE_DATA is not set"),
    ("ducklake:postgres:host=db dbname=lake", "relative/lake", "must be an absolute path"),
    ("ducklake:sqlite:lake.sqlite", "/tmp/lake", "ducklake:postgres:<libpq DSN or postgresql:// URL>"),
    ("ducklake:postgres:", "/tmp/lake", "ducklake:postgres:<libpq DSN or postgresql:// URL>"),
])
def test_a_wrong_ducklake_setting_is_refused_before_any_work_naming_the_fix(database, data, named, tmp_path,
                                                                              monkeypatch):
    monkeypatch.delenv("XERO_WAREHOUSE_DATA", raising=False)
    with pytest.raises(ConfigError, match=re.escape(named)):
        WarehouseResource(database=database, data_path=data).setup_for_execution(dg.build_init_resource_context())


def test_the_catalog_password_never_reaches_an_error(postgres_cluster, tmp_path):
    port = postgres_cluster.rsplit(":", 1)[1].split("/")[0]
    for catalog in (f"postgres:host=127.0.0.1 port={port} user=postgres password=s3cr3t-pw dbname=missing",
                    f"postgresql://postgres:s3cr3t-pw@127.0.0.1:{port}/missing"):
        catalog = catalog if catalog.startswith("postgres:") else f"postgres:{catalog}"
        with pytest.raises(ConfigError) as raised:
            open_warehouse(Lake(catalog=catalog, data_path=str(tmp_path / "lake")))
        assert "s3cr3t-pw" not in str(raised.value) and "***" in str(raised.value)
        assert 'database "missing" does not exist' in str(raised.value)


def test_a_commit_another_writer_made_conflict_is_run_again_and_both_land(postgres_url, tmp_path, caplog):
    """Two tenants' rows in one data file (one commit wrote both, as a tenants table is), each
    writer deleting its own: DuckLake refuses the second commit; the transaction runs again."""
    lake = Lake(catalog=f"postgres:{postgres_url}", data_path=str(tmp_path / "lake"))
    mine, theirs = open_warehouse(lake), open_warehouse(lake)
    mine.execute("CREATE TABLE rows_of (tenant_id VARCHAR, n INTEGER)")
    mine.execute("INSERT INTO rows_of VALUES ('a', 1), ('b', 1)")
    runs = []

    def write_a() -> None:
        runs.append(len(runs) + 1)
        mine.execute("DELETE FROM rows_of WHERE tenant_id = 'a'")
        mine.execute("INSERT INTO rows_of VALUES ('a', 2)")
        if len(runs) == 1:  # meanwhile, another machine commits tenant b's rows
            in_transaction(theirs, lambda: theirs.execute("UPDATE rows_of SET n = 2 WHERE tenant_id = 'b'"))

    with caplog.at_level(logging.INFO, logger="xero_pipeline.warehouse.connection"):
        in_transaction(mine, write_a)
    assert runs == [1, 2]
    assert "another writer committed first (Transaction conflict" in caplog.text
    assert mine.execute("SELECT tenant_id, n FROM rows_of ORDER BY 1").fetchall() == [("a", 2), ("b", 2)]
