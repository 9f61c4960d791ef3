"""The pipeline end to end: sandbox over loopback HTTP -> Dagster -> a DuckDB file.

Each test drives syncs through Dagster exactly as `xero-pipeline sync` does (partitions,
cursors in materialization metadata) and compares the warehouse with the sandbox's
ground truth, for two tenants.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from xero_pipeline.cli.runner import SyncReport, sync_tenants
from xero_pipeline.defs.resources import WarehouseResource, XeroResource
from xero_pipeline.registry import BY_PATH, BY_TABLE, CORE, OBJECTS, Cursor
from xero_pipeline.sandbox import Sandbox
from xero_pipeline_tests.resource_helpers import xero_resource
from xero_pipeline_tests.truth import diff_warehouse

TWO_WRITERS = "contacts,invoices,journals,tracking_categories"
SCALE = 0.03  # ~90 invoices per tenant: several pages of journals, quick to sync


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(tenants=2, scale=SCALE, seed=11, limits=False) as sb:
        yield sb


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.ephemeral() as inst:
        yield inst


def resources(sandbox: Sandbox, tmp_path: Path, *, page_size: int = 1000) -> tuple[XeroResource, WarehouseResource]:
    # Limits are off in this sandbox; a full sync (objects, reports, per-group reads)
    # makes ~70 calls a tenant, which Xero's 60-second window would stretch to minutes.
    xero = xero_resource(sandbox, tmp_path, page_size=page_size, rate_window_seconds=1.0)
    return xero, WarehouseResource(database=str(tmp_path / "xero.duckdb"))


def sync(instance, sandbox, tmp_path, **kwargs) -> SyncReport:
    xero, warehouse = resources(sandbox, tmp_path, page_size=kwargs.pop("page_size", 1000))
    report = sync_tenants(instance=instance, xero=xero, warehouse=warehouse, echo=lambda _: None, **kwargs)
    assert report.ok, report.failures
    return report


def assert_matches_truth(sandbox: Sandbox, tmp_path: Path, objects=OBJECTS) -> None:
    problems = diff_warehouse(tmp_path / "xero.duckdb", sandbox.ground_truth(), objects)
    assert not problems, "\n".join(problems[:20])


@pytest.fixture
def one_tenant() -> Iterator[Sandbox]:
    with Sandbox(tenants=1, scale=SCALE, seed=11, limits=False) as sb:
        yield sb


@pytest.mark.heavy(60)
def test_three_days_of_syncs_first_full_then_nothing_new_then_a_day_of_activity(one_tenant, instance, tmp_path):
    """One tenant's life in three syncs (one test, so the suite pays for three syncs, not six;
    one tenant, as a second adds no case: tenants share nothing but the warehouse file)."""
    sandbox = one_tenant
    # Day 1: a full sync of every tenant equals the ground truth.
    report = sync(instance, sandbox, tmp_path)
    assert {o.tenant_id for o in report.outcomes} == set(sandbox.tenant_ids)
    assert set(instance.get_dynamic_partitions("xero_tenant")) == set(sandbox.tenant_ids)
    core_tables = {o.table for o in CORE}
    synced = {o.table for o in report.outcomes}
    assert core_tables <= synced
    assert_matches_truth(sandbox, tmp_path)

    # Day 2, nothing changed in Xero: one call per incremental object, no row changed,
    # and repeating the sync left no duplicates.
    sandbox.reset_stats()
    report = sync(instance, sandbox, tmp_path)
    calls = sandbox.stats()["calls"]
    for obj in OBJECTS:
        if obj.cursor is Cursor.NONE:
            continue
        for tenant in sandbox.tenant_ids:
            assert calls.get(tenant, {}).get(obj.path) == 1, (obj.path, tenant, calls.get(tenant))
    for outcome in report.outcomes:
        meta = outcome.metadata
        if "rows_inserted" in meta:
            assert (meta["rows_inserted"], meta["rows_updated"], meta["rows_deleted"]) == (0, 0, 0), outcome
    assert_matches_truth(sandbox, tmp_path)

    # Day 3, after a day of activity: the incremental sync catches up.
    changes = sandbox.simulate_day()
    assert changes  # the day really changed things
    report = sync(instance, sandbox, tmp_path)
    modes = {(o.tenant_id, o.table): o.metadata.get("sync_mode") for o in report.outcomes}
    tenant = sandbox.tenant_ids[0]
    assert modes[(tenant, "invoices")] == "incremental" and modes[(tenant, "journals")] == "incremental"
    assert_matches_truth(sandbox, tmp_path)
    assert_no_secrets_in_events(instance, sandbox, tmp_path)


def assert_no_secrets_in_events(instance, sandbox, tmp_path):
    stored = json.loads((tmp_path / "tokens.json").read_text())
    secrets = [sandbox.client_secret, sandbox.refresh_token, stored["refresh_token"], stored["access_token"]]
    assert all(secrets)
    runs = instance.get_runs()
    assert runs
    for run in runs:
        for entry in instance.all_logs(run.run_id):
            text = str(entry)
            for secret in secrets:
                assert secret not in text, f"a secret leaked into a Dagster event of run {run.run_id}"
            assert "Bearer " not in text


def test_records_edited_while_paging_are_not_missed(sandbox, instance, tmp_path):
    # Small pages so there is a page boundary to edit across; after the first page of
    # invoices is served, records (including ones on later pages) are edited.
    tenant = sandbox.tenant_ids[0]
    sandbox.inject("mutate", tenant_id=tenant, path="Invoices", after_page=1, count=10)
    sync(instance, sandbox, tmp_path, page_size=20, objects=[BY_PATH["invoices"]])
    assert sandbox.stats()["faults_fired"], "the mutation while paging did not happen"
    sync(instance, sandbox, tmp_path, page_size=20, objects=[BY_PATH["invoices"]])
    assert_matches_truth(sandbox, tmp_path, objects=[BY_PATH["invoices"]])


@pytest.mark.heavy(20)
def test_two_tenants_synced_at_once_by_two_processes(sandbox, tmp_path):
    """Parallel runs are separate processes sharing the warehouse file and the token store."""
    env = {
        **os.environ,
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        **sandbox.pipeline_env(token_store=str(tmp_path / "tokens.json")),
        "XERO_WAREHOUSE": str(tmp_path / "xero.duckdb"),
    }
    (tmp_path / "dagster_home").mkdir()
    # Register both partitions first so the two processes do not race to create them.
    first = subprocess.run(
        [sys.executable, "-m", "xero_pipeline.cli.main", "sync", "--select", "organisations"],
        env=env, capture_output=True, text=True, timeout=240,
    )
    assert first.returncode == 0, first.stdout + first.stderr
    procs = [
        subprocess.Popen(
            # The point is two writers on one warehouse and one token store, not coverage:
            # a few objects with child tables and both kinds of cursor keep it short.
            [sys.executable, "-m", "xero_pipeline.cli.main", "sync", "--tenant", tenant, "--select", TWO_WRITERS],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        for tenant in sandbox.tenant_ids
    ]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert_matches_truth(sandbox, tmp_path, objects=[BY_TABLE[t] for t in TWO_WRITERS.split(",")])
    # Both refreshed through one store; the rotated token in it still works.
    assert sandbox.stats()["token_refreshes"] >= 1
