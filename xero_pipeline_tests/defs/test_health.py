"""Tenant health: the verdict rules on their own, then real runs against the sandbox."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from xero_pipeline.cli.runner import select_objects, sync_tenants
from xero_pipeline.defs.assets import build_assets
from xero_pipeline.defs.health import CHECK_KEY, assess, health_events, tenant_health_check
from xero_pipeline.defs.partitions import TENANT_PARTITIONS_NAME
from xero_pipeline.defs.resources import WarehouseResource, XeroResource
from xero_pipeline.defs.sensors import health_sensor
from xero_pipeline.defs.tenant_records import FailedRun, TenantFacts, gather_facts
from xero_pipeline.sandbox import Sandbox

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
T = "tenant-1"


def failed(*classes: str, message: str = "boom", ago: timedelta = timedelta(hours=1)) -> FailedRun:
    return FailedRun("0123456789abcdef", NOW - ago, frozenset(classes), message)


def at(**ago: float) -> dict[str, datetime]:
    """A tenant whose objects all last synced ``ago``."""
    return {"xero/invoices": NOW - timedelta(**ago), "xero/contacts": NOW - timedelta(**ago)}


def codes(facts: TenantFacts, **kwargs) -> list[str]:
    return [f.code for f in assess(facts, now=NOW, **kwargs).concerns]


# ------------------------------------------------------------------ the rules


def test_recently_synced_with_budget_left_is_healthy():
    health = assess(TenantFacts(T, synced=at(hours=3), day_limit_remaining=4200,
                                budget_read_at=NOW - timedelta(hours=3)), now=NOW)
    assert health.passed and health.signature == "ok"
    assert health.description == "Healthy: last successful sync 3.0 h ago, 4,200 daily Xero calls left."


def test_no_successful_sync_in_26_hours_fails_with_how_long():
    health = assess(TenantFacts(T, synced=at(hours=27)), now=NOW)
    assert [f.code for f in health.concerns] == ["stale"]
    assert health.failing
    assert "No successful sync for 27 h (last at 2026-05-31 09:00 UTC" in health.description
    assert codes(TenantFacts(T, synced=at(hours=25))) == []


def test_a_failing_token_is_an_error_that_quotes_xero():
    facts = TenantFacts(T, synced=at(hours=2),
                        failures=(failed("XeroAuthError", message="Xero rejected the refresh token (invalid_grant)"),))
    health = assess(facts, now=NOW)
    assert [f.code for f in health.concerns] == ["token"]
    assert health.failing
    assert "Xero rejects the app's tokens (run 01234567" in health.description
    assert "invalid_grant" in health.description


def test_near_or_out_of_the_daily_limit_warns():
    low = TenantFacts(T, synced=at(hours=1), day_limit_remaining=120,
                      budget_read_at=NOW - timedelta(hours=1))
    health = assess(low, now=NOW)
    assert [f.code for f in health.concerns] == ["near_limit"]
    assert not health.failing and "Only 120 of Xero's daily calls" in health.description
    assert codes(low, near_limit_calls=100) == []
    # Xero's day is rolling: a reading from yesterday says nothing about today.
    stale_reading = TenantFacts(T, synced=at(hours=1), day_limit_remaining=120,
                                budget_read_at=NOW - timedelta(hours=30))
    assert codes(stale_reading) == []
    out = TenantFacts(T, synced=at(hours=2), failures=(failed("XeroDailyLimitError"),))
    assert codes(out) == ["daily_limit"]


def test_other_states_are_named():
    assert codes(TenantFacts(T)) == ["first_sync_pending"]
    assert codes(TenantFacts(T, failures=(failed("XeroUnavailableError"),))) == ["failed", "never_synced"]
    gone = assess(TenantFacts(T, synced=at(days=9), disconnected_at=NOW - timedelta(days=8)),
                  now=NOW)
    # A disconnected tenant is not expected to sync: flagged, but not "stale".
    assert [f.code for f in gone.concerns] == ["disconnected"] and not gone.failing
    assert "its data is kept and it is no longer scheduled" in gone.description


# ------------------------------------------------------------------ against the sandbox


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    # Limits on, with a small daily allowance, so the budget headers are real and low; Xero's
    # minute lasts a second here (time_scale) so the client's rate limiting costs no time.
    with Sandbox(tenants=2, scale=0.01, seed=19, limits=True, day_limit=200, time_scale=60) as sb:
        yield sb


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.ephemeral() as inst:
        yield inst


def resources(sandbox: Sandbox, tmp_path: Path, **overrides) -> tuple[XeroResource, WarehouseResource]:
    settings = dict(
        client_id=sandbox.client_id, client_secret=sandbox.client_secret, refresh_token=sandbox.refresh_token,
        api_url=sandbox.url, identity_url=sandbox.url, token_store=str(tmp_path / "tokens.json"),
        backoff_seconds=0.05, rate_window_seconds=1,
    )
    xero = XeroResource(**{**settings, **overrides})
    return xero, WarehouseResource(database=str(tmp_path / "xero.duckdb"))


def sync(instance, sandbox, tmp_path, tenant, **overrides):
    xero, warehouse = resources(sandbox, tmp_path, **overrides)
    return sync_tenants(instance=instance, xero=xero, warehouse=warehouse, tenant_ids=[tenant],
                        objects=select_objects("organisations,invoices"), echo=lambda _: None)


def stored_results(instance, tenant: str) -> list:
    history = instance.event_log_storage.get_asset_check_execution_history(CHECK_KEY, limit=50)
    data = [r.event.dagster_event.event_specific_data for r in history if r.event and r.event.dagster_event]
    return [d for d in data if d.partition == tenant]


def test_health_from_real_runs_budget_then_a_failing_token(sandbox, instance, tmp_path):
    good, bad = sandbox.tenant_ids
    assert sync(instance, sandbox, tmp_path, good).ok
    facts = gather_facts(instance, good)
    assert facts.last_success_at and not facts.failures
    assert 0 < facts.day_limit_remaining < 200  # what Xero's headers said after the sync
    health = assess(facts, now=datetime.now(UTC))
    assert [f.code for f in health.concerns] == ["near_limit"]
    # The same facts a day and a bit later: stale (the budget reading has expired by then).
    assert [f.code for f in assess(facts, now=datetime.now(UTC) + timedelta(hours=27)).concerns] == ["stale"]

    assert sync(instance, sandbox, tmp_path, bad).ok
    # The app's refresh token is revoked or replaced: the next run fails at its first call.
    xero, warehouse = resources(sandbox, tmp_path, refresh_token="revoked", token_store=str(tmp_path / "t2.json"))
    report = dg.materialize(build_assets(select_objects("organisations,invoices")), instance=instance,
                            partition_key=bad, resources={"xero": xero, "warehouse": warehouse},
                            tags={"xero/tenant": bad}, raise_on_error=False)
    assert not report.success
    facts = gather_facts(instance, bad)
    assert facts.last_success_at is not None and len(facts.failures) == 1
    assert "XeroAuthError" in facts.failures[0].error_classes
    health = assess(facts, now=datetime.now(UTC))
    assert "token" in {f.code for f in health.concerns}
    assert health.failing
    assert "refresh token" in health.description  # Xero's reason, in words

    # "Execute" on the check in the UI: a check-only run for one tenant...
    defs = dg.Definitions(assets=build_assets(select_objects("organisations")), asset_checks=[tenant_health_check],
                          resources={"xero": xero, "warehouse": warehouse})
    check_only = defs.resolve_implicit_global_asset_job_def().get_subset(
        asset_selection=set(), asset_check_selection={CHECK_KEY})
    result = check_only.execute_in_process(instance=instance, partition_key=bad)
    [evaluation] = result.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.partition == bad
    assert "Xero rejects the app's tokens" in evaluation.description
    # ...which is not mistaken for a successful sync.
    assert gather_facts(instance, bad).failures


def test_the_health_sensor_records_a_verdict_per_tenant_when_it_changes(sandbox, instance, tmp_path):
    good, pending = sandbox.tenant_ids
    instance.add_dynamic_partitions(TENANT_PARTITIONS_NAME, [good, pending])
    assert sync(instance, sandbox, tmp_path, good).ok

    result = health_sensor(dg.build_sensor_context(instance=instance))
    assert {e.partition for e in result.asset_events} == {good, pending}
    for event in result.asset_events:
        instance.report_runless_asset_event(event)  # what the daemon does with them
    assert "2 of 2 tenant(s) need attention" in result.skip_reason.skip_message
    [recorded] = stored_results(instance, pending)
    assert not recorded.passed and "first sync has not finished" in recorded.description
    assert not stored_results(instance, good)[0].passed  # near its (tiny) daily limit

    # Unchanged verdicts are not recorded again on the next tick...
    again = health_sensor(dg.build_sensor_context(instance=instance, cursor=result.cursor))
    assert again.asset_events == []
    # ...a change is, and so is an unchanged one after the heartbeat.
    assert sync(instance, sandbox, tmp_path, pending).ok
    changed = health_sensor(dg.build_sensor_context(instance=instance, cursor=again.cursor))
    assert [e.partition for e in changed.asset_events] == [pending]
    later = datetime.now(UTC) + timedelta(hours=7)
    _, events, _ = health_events(instance, [good], now=later, cursor=json.loads(changed.cursor))
    assert [e.partition for e in events] == [good]
