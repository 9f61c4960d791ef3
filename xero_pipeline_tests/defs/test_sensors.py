"""The tenant sensor against the sandbox: new organisations are registered and backfilled,
disconnected ones are recorded (partition and data kept) and stop being scheduled."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from xero_pipeline.cli.runner import select_objects
from xero_pipeline.definitions import load_definitions
from xero_pipeline.defs.assets import build_assets
from xero_pipeline.defs.health import assess
from xero_pipeline.defs.partitions import TENANT_PARTITIONS_NAME
from xero_pipeline.defs.resources import WarehouseResource, XeroResource
from xero_pipeline.defs.schedules import build_daily_schedule
from xero_pipeline.defs.sensors import TENANTS_ASSET, load_cursor, plan_tenants, tenant_sensor
from xero_pipeline.defs.tenant_records import gather_facts, recorded_connection
from xero_pipeline.warehouse.read import connect_read_only
from xero_pipeline_tests.resource_helpers import xero_resource


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    """On disk: evaluating the daily schedule needs an instance reference, which an
    in-memory instance has not."""
    with dg.instance_for_test() as inst:
        yield inst

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SYNCED = select_objects("organisations,contacts,invoices")  # enough to see rows land, quick to run


# ------------------------------------------------------------------ planning, no Dagster


def test_plan_registers_new_tenants_and_records_each_disconnection_once():
    plan = plan_tenants(["a", "b"], [], {}, NOW)
    assert (plan.new, plan.disconnected, plan.reconnected) == (["a", "b"], [], [])

    plan = plan_tenants(["a"], ["a", "b"], plan.cursor, NOW)
    assert (plan.new, plan.disconnected) == ([], ["b"])
    assert plan.cursor == {"disconnected": {"b": NOW.isoformat()}}

    later = plan_tenants(["a"], ["a", "b"], plan.cursor, datetime(2026, 6, 2, tzinfo=UTC))
    assert later.disconnected == [] and later.cursor == plan.cursor  # first-noticed time kept

    back = plan_tenants(["a", "b"], ["a", "b"], later.cursor, NOW)
    assert (back.reconnected, back.cursor) == (["b"], {"disconnected": {}})


def test_a_broken_cursor_starts_over_instead_of_failing_every_tick():
    assert load_cursor("not json") == {} and load_cursor("[1]") == {} and load_cursor(None) == {}
    # A tenant whose partition an operator deleted by hand is forgotten, not carried for ever.
    plan = plan_tenants([], ["a"], {"disconnected": {"gone": "x"}}, NOW)
    assert plan.cursor == {"disconnected": {"a": NOW.isoformat()}}


# ------------------------------------------------------------------ against the sandbox


def tick(instance, resource, cursor=None) -> dg.SensorResult:
    """One sensor evaluation, with its side effects applied as the daemon applies them."""
    # As a context manager, so its resources are torn down now, not by the garbage collector later.
    with dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"xero": resource}, definitions=load_definitions()
    ) as context:
        result = tenant_sensor(context)
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    for event in result.asset_events or []:
        instance.report_runless_asset_event(event)
    return result


def execute(instance, request: dg.RunRequest, resource: XeroResource, db: Path) -> None:
    result = dg.materialize(
        build_assets(SYNCED), instance=instance, partition_key=request.partition_key, tags=request.tags,
        resources={"xero": resource, "warehouse": WarehouseResource(database=str(db))},
    )
    assert result.success


def invoice_rows(db: Path) -> dict[str, int]:
    conn = connect_read_only(str(db))
    try:
        return dict(conn.execute("SELECT tenant_id, count(*) FROM xero.invoices GROUP BY ALL").fetchall())
    finally:
        conn.close()


def tenant_runs(result: dg.SensorResult) -> list[dg.RunRequest]:
    return [r for r in result.run_requests or [] if r.partition_key]


def test_a_new_tenant_is_registered_and_backfilled(sandbox, instance, tmp_path):
    resource, db = xero_resource(sandbox, tmp_path), tmp_path / "xero.duckdb"
    first = sandbox.tenant_ids[0]

    result = tick(instance, resource)
    [request] = tenant_runs(result)
    assert request.partition_key == first and request.run_key == f"first-sync:{first}"
    assert request.tags["xero/tenant"] == first
    names = {t["tenant_id"]: t["name"] for t in sandbox.info()["tenants"]}
    assert request.tags["xero/tenant_name"] == names[first]  # the organisation, beside its id
    assert instance.get_dynamic_partitions(TENANT_PARTITIONS_NAME) == [first]
    execute(instance, request, resource, db)

    second = sandbox.connect_tenant()  # a new organisation authorises the app
    result = tick(instance, resource, result.cursor)
    [request] = tenant_runs(result)
    assert (request.partition_key, request.run_key) == (second, f"first-sync:{second}")
    assert set(instance.get_dynamic_partitions(TENANT_PARTITIONS_NAME)) == {first, second}
    execute(instance, request, resource, db)

    truth = {t: len(sandbox.ground_truth(tenant_id=t)[t]["Invoices"]) for t in (first, second)}
    assert invoice_rows(db) == truth and all(truth.values())

    quiet = tick(instance, resource, result.cursor)
    assert not quiet.run_requests and "no change" in quiet.skip_reason.skip_message


def test_a_disconnected_tenant_keeps_its_data_and_is_no_longer_scheduled(sandbox, instance, tmp_path):
    resource, db = xero_resource(sandbox, tmp_path), tmp_path / "xero.duckdb"
    stays, leaves = sandbox.tenant_ids[0], sandbox.connect_tenant()
    result = tick(instance, resource)
    for request in tenant_runs(result):
        execute(instance, request, resource, db)
    before = invoice_rows(db)

    assert sandbox.disconnect_tenant(leaves)
    result = tick(instance, resource, result.cursor)
    assert not tenant_runs(result)
    assert load_cursor(result.cursor)["disconnected"].keys() == {leaves}
    # xero/tenants records disconnected_at; it is refreshed now, not at the next tenant's run.
    assert [r.asset_selection for r in result.run_requests] == [[TENANTS_ASSET]]
    # Flagged where the UI shows it: an observation on its partition, and its health check.
    assert recorded_connection(instance, leaves)[0] == "disconnected"
    health = assess(gather_facts(instance, leaves), now=datetime.now(UTC))
    assert [f.code for f in health.concerns] == ["disconnected"] and not health.passed
    # Kept: the partition (so its history stays visible) and its rows.
    assert leaves in instance.get_dynamic_partitions(TENANT_PARTITIONS_NAME)
    assert invoice_rows(db) == before

    schedule = build_daily_schedule(env={})
    with dg.build_schedule_context(
        instance=instance, resources={"xero": resource}, scheduled_execution_time=datetime(2026, 6, 2, 2, tzinfo=UTC),
        repository_def=load_definitions().get_repository_def(),
    ) as context:
        requests = schedule.evaluate_tick(context).run_requests
    assert [r.partition_key for r in requests] == [stays]

    assert tick(instance, resource, result.cursor).skip_reason  # noticed once, not on every tick

    sandbox.connect_tenant(leaves)  # the organisation authorises the app again
    back = tick(instance, resource, result.cursor)
    [request] = tenant_runs(back)
    assert request.partition_key == leaves and request.tags["xero/trigger"] == "reconnected"
    assert recorded_connection(instance, leaves)[0] == "connected"
    assert load_cursor(back.cursor)["disconnected"] == {}
