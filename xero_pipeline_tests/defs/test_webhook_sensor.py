"""Webhooks end to end: a change in the sandbox reaches the warehouse through a signed delivery,
the receiver's store, the xero_webhooks sensor and a targeted incremental run."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import dagster as dg
import pytest

from xero_pipeline.definitions import load_definitions
from xero_pipeline.defs.assets import build_assets
from xero_pipeline.defs.keys import ITEM_COUNT_SINCE_KEY, LAST_WEBHOOK_KEY, asset_key
from xero_pipeline.defs.webhook_plan import WaitingRun, plan_webhook_runs
from xero_pipeline.defs.webhook_sensor import WebhookStoreResource, webhook_sensor
from xero_pipeline.registry import BY_TABLE
from xero_pipeline.sandbox import Sandbox
from xero_pipeline.sandbox.books.edits import edit_records
from xero_pipeline.warehouse.read import connect_read_only
from xero_pipeline.webhooks.store import EventStore, StoredEvent
from xero_pipeline_tests.sync_helpers import QUIET, resources, run_tenant
from xero_pipeline_tests.webhooks.receivers import KEY, receiver_thread

OBJECTS = [BY_TABLE["contacts"], BY_TABLE["invoices"]]


def _stored(i: int, tenant: str, category: str) -> StoredEvent:
    return StoredEvent(i, tenant, category, "UPDATE", str(uuid.uuid4()), "2026-12-05T01:00:00.000", "")


def test_a_burst_is_one_run_per_tenant_of_the_objects_it_touched_and_the_rest_is_skipped_with_a_reason():
    a, b, stranger = "A-TENANT", "b-tenant", "c-tenant"
    events = [_stored(11, a.lower(), "INVOICE"), _stored(12, "b-tenant", "CONTACT"), _stored(13, a, "INVOICE"),
              _stored(14, a, "CREDITNOTE"), _stored(15, stranger, "INVOICE"), _stored(16, a, "SUBSCRIPTION")]
    plan = plan_webhook_runs(events, [a, b], cursor=10)
    assert [(r.tenant_id, sorted(r.tables), r.event_ids) for r in plan.runs] == [
        (a, ["credit_notes", "invoices"], [11, 13, 14]), (b, ["contacts"], [12])]
    assert plan.runs[0].run_key == "webhook:A-TENANT:11-14"
    assert [(i, reason.split(" ")[0]) for i, reason in plan.skipped] == [(15, "tenant"), (16, "category")]
    assert "c-tenant is not a registered xero_tenant partition" in plan.skipped[0][1]
    assert plan.last_event_id == 16
    assert plan_webhook_runs([], [a], cursor=16).last_event_id == 16


def test_a_burst_joins_a_queued_run_of_the_tenant_that_covers_its_objects():
    events = [_stored(1, "a", "INVOICE"), _stored(2, "a", "CONTACT"), _stored(3, "b", "INVOICE")]
    narrow = {"a": [WaitingRun("r1", frozenset({"invoices"}))], "b": [WaitingRun("r2", frozenset({"invoices"}))]}
    plan = plan_webhook_runs(events, ["a", "b"], 0, narrow)
    assert [r.tenant_id for r in plan.runs] == ["a"]  # r1 does not read contacts
    assert [(r.tenant_id, run_id) for r, run_id in plan.joined] == [("b", "r2")]
    daily = plan_webhook_runs(events, ["a", "b"], 0, {"a": [WaitingRun("r3", None)]})  # a whole-tenant run
    assert [r.tenant_id for r in daily.runs] == ["b"] and daily.joined[0][1] == "r3"


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as inst:
        yield inst


def _tick(instance: dg.DagsterInstance, store: Path, cursor: str | None) -> dg.SensorResult:
    with dg.build_sensor_context(instance=instance, cursor=cursor, definitions=load_definitions(),
                                 resources={"webhook_store": WebhookStoreResource(path=str(store))}) as context:
        result = webhook_sensor(context)
    for event in result.asset_events or []:
        instance.report_runless_asset_event(event)
    return result


def _references(db: Path) -> dict[str, str]:
    with closing(connect_read_only(str(db))) as conn:
        return dict(conn.execute("SELECT invoice_id, reference FROM xero.invoices").fetchall())


def test_an_invoice_changed_in_xero_reaches_the_warehouse_through_its_webhook(instance, tmp_path, monkeypatch):
    store_file = tmp_path / "events.sqlite3"
    with Sandbox(tenants=1, scale=0.02, seed=3, limits=False) as sandbox, \
            receiver_thread(EventStore(store_file)) as url:
        tenant = sandbox.tenant_ids[0]
        res = resources(sandbox, tmp_path)
        assert run_tenant(instance, res, tenant, OBJECTS).success  # the daily sync, before the change
        assert sandbox.subscribe_webhooks(url, KEY)["subscription"]["status"] == "ACTIVE"

        [changed] = edit_records(sandbox.books[tenant], "Invoices", 1, rng=random.Random(1))
        assert sandbox.webhooks.wait_idle(30)
        want = sandbox.books[tenant].get("Invoices", changed)["Reference"]
        assert _references(tmp_path / "xero.duckdb")[changed] != want

        result = _tick(instance, store_file, None)
        [request] = result.run_requests
        assert request.partition_key == tenant and request.asset_selection == [asset_key("invoices")]
        assert request.tags["xero/tenant"] == tenant

        sandbox.reset_stats()
        run = dg.materialize(build_assets(OBJECTS), instance=instance, partition_key=request.partition_key,
                             tags=request.tags, selection=request.asset_selection, resources=res, run_config=QUIET)
        assert run.success
        assert _references(tmp_path / "xero.duckdb")[changed] == want
        assert sandbox.stats()["calls"][tenant] == {"Invoices": 1}  # one If-Modified-Since read, nothing else
        [mat] = [e.materialization for e in run.get_asset_materialization_events()
                 if e.materialization.asset_key == asset_key("invoices")]
        assert mat.metadata[ITEM_COUNT_SINCE_KEY].value  # read from a cursor, not the whole collection

        # The next tick finds nothing new; a tick evaluated again from the old cursor asks for the same run.
        assert not _tick(instance, store_file, result.cursor).run_requests
        assert [r.run_key for r in _tick(instance, store_file, None).run_requests] == [request.run_key]
        assert set(EventStore(store_file).outcomes().values()) == {(request.run_key, None)}

        # A change while a run of the tenant that reads invoices is still queued joins that run.
        edit_records(sandbox.books[tenant], "Invoices", 1, rng=random.Random(3))
        assert sandbox.webhooks.wait_idle(30)
        monkeypatch.setenv("XERO_CLIENT_ID", sandbox.client_id)  # the deployed job's resources read it
        queued = instance.create_run_for_job(
            job_def=load_definitions().resolve_job_def("xero_sync"), tags={"xero/tenant": tenant},
            asset_selection=frozenset({asset_key("invoices")}))
        joined = _tick(instance, store_file, result.cursor)
        assert not joined.run_requests
        assert f"joined:{queued.run_id}" in {key for key, _ in EventStore(store_file).outcomes().values()}

    [record] = instance.fetch_observations(
        dg.AssetRecordsFilter(asset_key=asset_key("invoices"), asset_partitions=[tenant]), limit=1).records
    assert LAST_WEBHOOK_KEY in record.asset_observation.metadata


def test_events_of_an_unregistered_tenant_are_recorded_and_skipped(instance, tmp_path):
    store_file = tmp_path / "events.sqlite3"
    with Sandbox(tenants=1, scale=0.02, seed=3, limits=False) as sandbox, \
            receiver_thread(EventStore(store_file)) as url:
        sandbox.subscribe_webhooks(url, KEY)
        edit_records(sandbox.books[sandbox.tenant_ids[0]], "Contacts", 2, rng=random.Random(2))
        assert sandbox.webhooks.wait_idle(30)
    result = _tick(instance, store_file, None)
    assert not result.run_requests and result.cursor == "2"
    reasons = [reason for _, reason in EventStore(store_file).outcomes().values()]
    assert len(reasons) == 2 and all("not a registered xero_tenant partition" in r for r in reasons)
