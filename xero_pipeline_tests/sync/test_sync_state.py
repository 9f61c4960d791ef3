"""Cursors that agree with the warehouse, reads that end current, and the IMS overlap.

Each test keeps one Dagster instance (DAGSTER_HOME, say) while the warehouse file under
it is deleted, replaced, restored from an older copy or edited behind a sync's back,
and checks the next sync ends equal to the sandbox's ground truth.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from xero_pipeline.defs.keys import asset_key
from xero_pipeline.defs.materializations import latest_metadata
from xero_pipeline.defs.resources import WarehouseResource
from xero_pipeline.registry import BY_TABLE
from xero_pipeline.sandbox import Sandbox
from xero_pipeline.warehouse.connection import wal_path
from xero_pipeline_tests.resource_helpers import xero_resource
from xero_pipeline_tests.sync_helpers import resources, run_tenant, step_failures
from xero_pipeline_tests.truth import diff_warehouse

# An IMS object with children, a JournalNumber one, and a snapshot one.
OBJECTS = [BY_TABLE["invoices"], BY_TABLE["contacts"], BY_TABLE["journals"], BY_TABLE["tax_rates"]]
INVOICES = [BY_TABLE["invoices"]]


@pytest.fixture
def world() -> Iterator[tuple[Sandbox, dg.DagsterInstance]]:
    """A sandbox of its own (conftest's is shared by a module, and these change its books)
    and the Dagster instance that outlives every warehouse file of the test."""
    with Sandbox(tenants=1, scale=0.03, seed=29, limits=False) as sb, dg.DagsterInstance.ephemeral() as inst:
        yield sb, inst


def sync(instance, sandbox, res, objects=OBJECTS) -> dg.ExecuteInProcessResult:
    result = run_tenant(instance, res, sandbox.tenant_ids[0], objects)
    assert not step_failures(result), step_failures(result)
    return result


def assert_equals_truth(sandbox: Sandbox, db: Path, objects=OBJECTS) -> None:
    problems = diff_warehouse(db, sandbox.ground_truth(), objects)
    assert not problems, "\n".join(problems[:20])


def meta(instance, sandbox, table: str) -> dict:
    return latest_metadata(instance, asset_key(table), sandbox.tenant_ids[0])


def mismatch_lines(instance, result: dg.ExecuteInProcessResult) -> list[str]:
    return [e.user_message for e in instance.all_logs(result.run_id)
            if "sync state" in (e.user_message or "") and e.level >= 30]


def test_a_deleted_warehouse_is_read_in_full_by_the_next_sync(world, tmp_path):
    sandbox, instance = world
    res = resources(sandbox, tmp_path)
    db = tmp_path / "xero.duckdb"
    sync(instance, sandbox, res)
    db.unlink()
    sandbox.simulate_day()
    result = sync(instance, sandbox, res)
    assert_equals_truth(sandbox, db)
    for table in ("invoices", "contacts", "journals"):
        assert meta(instance, sandbox, table)["cursor_source"] == "full", table
        assert "holds no sync state" in meta(instance, sandbox, table)["cursor_mismatch"]
    assert len(mismatch_lines(instance, result)) == 3  # one line per incremental object
    # The state now agrees with the instance: the sync after is incremental again.
    sync(instance, sandbox, res)
    assert meta(instance, sandbox, "invoices")["cursor_source"] == "instance"
    assert meta(instance, sandbox, "invoices")["sync_mode"] == "incremental"
    assert_equals_truth(sandbox, db)


def test_a_warehouse_restored_from_an_older_copy_catches_up(world, tmp_path):
    sandbox, instance = world
    res = resources(sandbox, tmp_path)
    db = tmp_path / "xero.duckdb"
    sync(instance, sandbox, res)
    # Between runs the warehouse is one file (the run checkpointed its WAL), so a plain copy is a whole backup.
    assert not wal_path(db).exists()
    shutil.copy(db, tmp_path / "backup.duckdb")
    sandbox.simulate_day()
    sync(instance, sandbox, res)  # the instance's cursors move past the backup
    shutil.copy(tmp_path / "backup.duckdb", db)
    result = sync(instance, sandbox, res)
    assert_equals_truth(sandbox, db)
    assert meta(instance, sandbox, "invoices")["cursor_source"] == "warehouse"
    assert meta(instance, sandbox, "journals")["cursor_source"] == "warehouse"
    assert meta(instance, sandbox, "invoices")["sync_mode"] == "incremental"
    assert len(mismatch_lines(instance, result)) == 3


def test_a_new_warehouse_file_is_read_in_full(world, tmp_path, monkeypatch):
    sandbox, instance = world
    xero = resources(sandbox, tmp_path)["xero"]
    monkeypatch.setenv("XERO_WAREHOUSE", str(tmp_path / "first.duckdb"))
    sync(instance, sandbox, {"xero": xero, "warehouse": WarehouseResource()})
    monkeypatch.setenv("XERO_WAREHOUSE", str(tmp_path / "second.duckdb"))
    sync(instance, sandbox, {"xero": xero, "warehouse": WarehouseResource()})
    assert_equals_truth(sandbox, tmp_path / "second.duckdb")
    assert meta(instance, sandbox, "journals")["sync_mode"] == "full"


def test_a_lost_dagster_home_carries_on_from_the_warehouse(world, tmp_path):
    sandbox, first = world
    res = resources(sandbox, tmp_path)
    sync(first, sandbox, res)
    sandbox.simulate_day()
    with dg.DagsterInstance.ephemeral() as fresh:
        sync(fresh, sandbox, res)
        assert meta(fresh, sandbox, "invoices")["cursor_source"] == "warehouse"
        assert meta(fresh, sandbox, "journals")["sync_mode"] == "incremental"
    assert_equals_truth(sandbox, tmp_path / "xero.duckdb")


def test_rows_removed_behind_the_syncs_back_are_read_again(world, tmp_path):
    sandbox, instance = world
    res = resources(sandbox, tmp_path)
    db = tmp_path / "xero.duckdb"
    sync(instance, sandbox, res)
    conn = WarehouseResource(database=str(db))
    with conn.get_connection() as c:
        c.execute("DELETE FROM xero.invoices WHERE invoice_number LIKE '%1'")
    sync(instance, sandbox, res)
    assert_equals_truth(sandbox, db)
    assert "holds" in meta(instance, sandbox, "invoices")["cursor_mismatch"]


def invoice_calls(sandbox: Sandbox) -> int:
    return sandbox.stats()["calls"][sandbox.tenant_ids[0]]["Invoices"]


def test_edits_made_while_a_read_pages_are_current_right_after_that_sync(world, tmp_path):
    sandbox, instance = world
    res = {**resources(sandbox, tmp_path),
           "xero": xero_resource(sandbox, tmp_path, rate_window_seconds=1.0, page_size=20)}
    db = tmp_path / "xero.duckdb"
    # After page 3 of 5, ten invoices change: most of them on pages already read.
    sandbox.inject("mutate", tenant_id=sandbox.tenant_ids[0], path="Invoices", after_page=3, count=10)
    sync(instance, sandbox, res, INVOICES)
    assert sandbox.stats()["faults_fired"].get("mutate") == 1
    assert_equals_truth(sandbox, db, INVOICES)
    tenant = sandbox.tenant_ids[0]
    pages = -(-len(sandbox.ground_truth(tenant_id=tenant)[tenant]["Invoices"]) // 20)
    assert pages > 1
    # One closing If-Modified-Since call, itself one page.
    assert invoice_calls(sandbox) == pages + 1
    assert meta(instance, sandbox, "invoices")["closing_calls"] == 1


def test_a_read_of_one_page_makes_no_closing_call(world, tmp_path):
    sandbox, instance = world
    res = resources(sandbox, tmp_path)  # 1,000 a page: every invoice in one
    sync(instance, sandbox, res, INVOICES)
    assert invoice_calls(sandbox) == 1
    sandbox.reset_stats()
    sandbox.simulate_day()
    sync(instance, sandbox, res, INVOICES)
    assert invoice_calls(sandbox) == 1
    assert meta(instance, sandbox, "invoices")["closing_calls"] == 0
    assert_equals_truth(sandbox, tmp_path / "xero.duckdb", INVOICES)


def test_an_edit_stamped_just_before_the_read_started_is_not_missed(world, tmp_path):
    sandbox, instance = world
    res = resources(sandbox, tmp_path)
    # A save that took two seconds to commit: visible only after the (one-page) read,
    # its UpdatedDateUTC two seconds earlier, so before the cursor that read records.
    sandbox.inject("mutate", tenant_id=sandbox.tenant_ids[0], path="Invoices", after_page=1, count=3,
                   seconds=2)
    sync(instance, sandbox, res, INVOICES)
    assert sandbox.stats()["faults_fired"].get("mutate") == 1
    sync(instance, sandbox, res, INVOICES)
    assert_equals_truth(sandbox, tmp_path / "xero.duckdb", INVOICES)
