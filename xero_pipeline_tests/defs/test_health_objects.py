"""Tenant health per object: a failed object is not a failed tenant, and a long run of
failures does not erase the last successful sync."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from xero_pipeline.cli.runner import select_objects
from xero_pipeline.defs.assets import build_assets
from xero_pipeline.defs.health_rules import FailedRun, TenantFacts, assess
from xero_pipeline.defs.keys import asset_key
from xero_pipeline.defs.resources import WarehouseResource
from xero_pipeline.defs.tenant_records import gather_facts
from xero_pipeline.sandbox import Sandbox
from xero_pipeline_tests.resource_helpers import run_sync, xero_resource

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
T = "tenant-1"
REFUSED = "tenant-1: Xero refused Journals with 401 (AuthorizationUnsuccessful): the app lacks the scope"


def run(ago: timedelta, *objects: str, run_id: str = "0123456789abcdef") -> FailedRun:
    return FailedRun(run_id, NOW - ago, frozenset({"Failure"}), REFUSED, objects)


def verdict(facts: TenantFacts) -> tuple[list[str], str]:
    health = assess(facts, now=NOW)
    return [c.code for c in health.concerns], health.description


# ------------------------------------------------------------------ the rules


def test_objects_synced_by_a_run_that_failed_elsewhere_are_fresh():
    # The latest run synced invoices and contacts; journals were refused.
    facts = TenantFacts(T, synced={"xero/invoices": NOW - timedelta(hours=1), "xero/contacts": NOW - timedelta(hours=1),
                                   "xero/journals": NOW - timedelta(hours=2)},
                        failures=(run(timedelta(hours=1), "xero/journals"),))
    codes, text = verdict(facts)
    assert codes == ["failed"]  # a warning: nothing is stale
    assert "did not sync xero/journals: tenant-1: Xero refused Journals" in text
    assert "invoices" not in text and "contacts" not in text


def test_staleness_is_per_object_and_names_the_objects_behind():
    facts = TenantFacts(T, synced={"xero/invoices": NOW - timedelta(hours=1), "xero/contacts": NOW - timedelta(hours=1),
                                   "xero/journals": NOW - timedelta(hours=30)},
                        failures=(run(timedelta(hours=1), "xero/journals"),))
    codes, text = verdict(facts)
    assert codes == ["failed", "stale"]
    assert "No sync of xero/journals for 30 h (last at 2026-05-31 06:00 UTC; expected within 26 h); " \
           "the other objects are up to date." in text
    two_behind = TenantFacts(T, synced={**facts.synced, "xero/contacts": NOW - timedelta(hours=28)})
    codes, text = verdict(two_behind)
    assert codes == ["stale"]
    assert "No sync within 26 h of 2 objects: xero/journals (30 h), xero/contacts (28 h);" in text


def test_an_object_that_never_synced_and_keeps_failing_becomes_stale():
    synced = {"xero/invoices": NOW - timedelta(hours=1)}
    recent = TenantFacts(T, synced=synced, failures=(run(timedelta(hours=1), "xero/journals"),
                                                     run(timedelta(hours=20), "xero/journals")))
    assert verdict(recent)[0] == ["failed"]
    long = TenantFacts(T, synced=synced, failures=(*recent.failures, run(timedelta(hours=40))))
    codes, text = verdict(long)
    assert codes == ["failed", "stale"]
    assert "No sync ever of xero/journals (every run since 2026-05-30 20:00 UTC failed)." in text


def test_a_tenant_whose_every_object_is_old_reports_its_last_sync():
    synced = {"xero/invoices": NOW - timedelta(hours=30), "xero/contacts": NOW - timedelta(hours=27)}
    facts = TenantFacts(T, synced=synced,
                        failures=tuple(run(timedelta(hours=h)) for h in range(1, 26)))
    codes, text = verdict(facts)
    assert codes == ["failed", "stale"]
    assert "No successful sync for 27 h (last at 2026-05-31 09:00 UTC" in text


# ------------------------------------------------------------------ against the sandbox


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:  # one tenant, a fresh one for each test (faults, token state)
    with Sandbox(tenants=1, scale=0.01, seed=41, limits=False) as sb:
        yield sb


def test_many_failed_runs_after_a_success_leave_it_stale_not_never_synced(sandbox, instance, tmp_path):
    tenant = sandbox.tenant_ids[0]
    assert run_sync(instance, sandbox, tmp_path, objects=select_objects("organisations")).ok
    synced_at = datetime.fromtimestamp(instance.get_latest_materialization_event(asset_key("organisations")).timestamp,
                                       UTC)

    # The app's refresh token is revoked: every run from now on fails at its first call.
    revoked = xero_resource(sandbox, tmp_path, refresh_token="revoked", token_store=str(tmp_path / "t2.json"))
    warehouse = WarehouseResource(database=str(tmp_path / "xero.duckdb"))
    for _ in range(21):
        result = dg.materialize(build_assets(select_objects("organisations")), instance=instance, partition_key=tenant,
                                resources={"xero": revoked, "warehouse": warehouse}, raise_on_error=False)
        assert not result.success

    facts = gather_facts(instance, tenant)
    assert facts.last_success_at is not None, "21 failed runs hid the successful sync before them"
    assert facts.last_success_at == synced_at
    assert len(facts.failures) == 20 and "XeroAuthError" in facts.failures[0].error_classes
    codes = [c.code for c in assess(facts, now=datetime.now(UTC)).concerns]
    assert codes == ["token"]
    later = assess(facts, now=synced_at + timedelta(hours=27))
    assert [c.code for c in later.concerns] == ["token", "stale"]
    assert f"last at {synced_at.strftime('%Y-%m-%d %H:%M UTC')}" in later.description
    assert "never" not in later.description


def test_a_run_where_one_object_failed_counts_the_others_as_synced(sandbox, instance, tmp_path: Path):
    tenant = sandbox.tenant_ids[0]
    # The tenant's very first run: invoices exhaust their retries, organisations sync.
    sandbox.inject("503", tenant_id=tenant, path="Invoices", count=10)
    report = run_sync(instance, sandbox, tmp_path, objects=select_objects("organisations,invoices"), max_retries=2)
    assert {step for _, step, _ in report.failures} == {"xero_invoices"}

    facts = gather_facts(instance, tenant)
    health = assess(facts, now=datetime.now(UTC))
    assert [c.code for c in health.concerns] == ["failed"]  # a warning, not "never synced"
    assert "did not sync xero/invoices" in health.description and "503" in health.description
    assert set(facts.synced) == {"xero/organisations"}
    [failure] = facts.failures
    assert failure.objects == ("xero/invoices",)

    sandbox.clear_faults()
    assert run_sync(instance, sandbox, tmp_path, objects=select_objects("organisations,invoices")).ok
    facts = gather_facts(instance, tenant)
    assert set(facts.synced) == {"xero/organisations", "xero/invoices"} and not facts.failures
    assert assess(facts, now=datetime.now(UTC)).passed
