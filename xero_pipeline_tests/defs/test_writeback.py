"""Write-back in Dagster: the sensor starts a push for a tenant with waiting outbox rows,
and the run pushes the outbox, then syncs the object written."""

from __future__ import annotations

import json
from contextlib import closing
from pathlib import Path

import dagster as dg
import pytest

from xero_pipeline.cli.runner import register_tenants
from xero_pipeline.defs.assets import build_object_asset
from xero_pipeline.defs.keys import asset_key
from xero_pipeline.defs.resources import WarehouseResource
from xero_pipeline.defs.writeback import build_writeback_asset, writeback_key, writeback_sensor
from xero_pipeline.registry import BY_TABLE
from xero_pipeline.sandbox import Sandbox
from xero_pipeline.warehouse import writeback as wb
from xero_pipeline.warehouse.connection import open_warehouse
from xero_pipeline_tests.resource_helpers import xero_resource
from xero_pipeline_tests.sync_helpers import QUIET

pytestmark = pytest.mark.xdist_group("writeback_defs")
CONTACTS = BY_TABLE["contacts"]


def _tick(instance: dg.DagsterInstance, warehouse: WarehouseResource) -> dg.SensorResult:
    with dg.build_sensor_context(instance=instance, resources={"warehouse": warehouse}) as context:
        return writeback_sensor(context)


def test_sensor_starts_a_push_that_writes_then_syncs(sandbox: Sandbox, instance: dg.DagsterInstance,
                                                     tmp_path: Path) -> None:
    tenant = sandbox.tenant_ids[0]
    register_tenants(instance, [tenant])
    warehouse = WarehouseResource(database=str(tmp_path / "xero.duckdb"))
    assert _tick(instance, warehouse).run_requests == []  # no warehouse yet: nothing waits
    with closing(open_warehouse(warehouse.path())) as conn:
        wb.ensure_tables(conn)
        conn.execute("INSERT INTO writeback.contacts (tenant_id, request_id, payload) VALUES (?, 'r1', ?)",
                     [tenant, json.dumps({"Name": "Sensor Sent Ltd"})])

    [request] = _tick(instance, warehouse).run_requests
    assert request.partition_key == tenant
    assert set(request.asset_selection) == {writeback_key("contacts"), asset_key("contacts")}

    result = dg.materialize(
        [build_writeback_asset(CONTACTS), build_object_asset(CONTACTS)], instance=instance, partition_key=tenant,
        resources={"xero": xero_resource(sandbox, tmp_path, rate_window_seconds=1.0), "warehouse": warehouse},
        run_config=QUIET,
    )
    assert result.success
    order = [e.asset_key for e in result.get_asset_materialization_events()
             if e.asset_key in (writeback_key("contacts"), asset_key("contacts"))]
    assert order == [writeback_key("contacts"), asset_key("contacts")]  # pushed, then synced
    with closing(open_warehouse(warehouse.path(), read_only=True)) as conn:
        [(xero_id,)] = conn.execute("SELECT xero_id FROM writeback.results WHERE request_id = 'r1'").fetchall()
        assert conn.execute("SELECT name FROM xero.contacts WHERE contact_id = ?", [xero_id]).fetchall() == [
            ("Sensor Sent Ltd",)]
    assert _tick(instance, warehouse).run_requests == []  # settled: nothing waits any more
