"""Faults Xero really produces, injected mid-sync: every one ends in a warehouse equal to
the ground truth, or (the daily limit) in a clear failure that the next run completes."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from xero_pipeline.defs.keys import asset_key
from xero_pipeline.defs.resources import XeroResource
from xero_pipeline.errors import XeroApiError
from xero_pipeline.sandbox import Sandbox
from xero_pipeline.warehouse.connection import open_warehouse
from xero_pipeline_tests.conftest import access_token
from xero_pipeline_tests.resource_helpers import (
    SMALL,
    assert_matches_truth,
    authorise_in_process,
    run_sync,
    xero_resource,
)
from xero_pipeline_tests.truth import diff_warehouse

# (kind, endpoint, extra inject arguments). Invoices are read 20 to a page here, so
# "after_page=1" strikes in the middle of an object, twice in a row.
API_FAULTS = [
    ("503", "Invoices", {}),
    ("500", "Journals", {}),
    ("truncated", "Invoices", {}),
    ("reset", "Journals", {}),
    ("slow", "Invoices", {"seconds": 3}),
    ("429_minute", "Invoices", {"seconds": 1}),
]


@pytest.mark.parametrize(("kind", "path", "extra"), API_FAULTS, ids=[f[0] for f in API_FAULTS])
def test_a_fault_mid_object_still_ends_equal_to_the_truth(
    sandbox, instance, tmp_path, kind, path, extra
):
    tenant = sandbox.tenant_ids[0]
    sandbox.inject(kind, tenant_id=tenant, path=path, after_page=1, count=2, **extra)
    # A read timeout shorter than the slow fault's delay, so the slow answer is abandoned.
    report = run_sync(instance, sandbox, tmp_path, page_size=20, read_timeout_seconds=1.0)
    assert report.ok, report.failures
    stats = sandbox.stats()
    assert stats["faults_fired"].get(kind) == 2, stats["faults_fired"]
    assert_matches_truth(sandbox, tmp_path)
    # Retried and served: the faulted endpoint answered 200 after the faults.
    assert stats["responses"][tenant][path]["200"] >= 3


@pytest.mark.parametrize("kind", ["503", "truncated", "reset"])
def test_a_lost_or_broken_token_response_is_retried_with_the_same_refresh_token(
    sandbox, instance, tmp_path, kind
):
    """Xero processed the refresh (the old token is now spent) but the answer got lost:
    the grace period lets the same refresh token be used again."""
    sandbox.inject(kind, path="connect/token", count=1)
    report = run_sync(instance, sandbox, tmp_path)
    assert report.ok, report.failures
    stats = sandbox.stats()
    assert stats["faults_fired"].get(kind) == 1
    assert "token_error:invalid_grant" not in stats["events"]
    assert_matches_truth(sandbox, tmp_path)


def test_another_process_holding_every_concurrent_slot_only_delays_the_sync(instance, tmp_path, watch):
    with Sandbox(tenants=1, scale=0.02, seed=11, limits=True, time_scale=20) as sb:
        watch.sandboxes.append(sb)
        tenant = sb.tenant_ids[0]
        # "Another process" keeps Xero's 5 concurrent slots busy with slow calls (1 s each)
        # until our sync has been told so at least once.
        sb.inject("slow", tenant_id=tenant, path="Accounts", count=10_000, seconds=20)
        headers = {"Authorization": f"Bearer {access_token(sb)}", "xero-tenant-id": tenant,
                   "Accept": "application/json"}
        refused = threading.Event()

        def hog() -> None:
            while not refused.is_set():
                requests.get(f"{sb.api_url}/Accounts", headers=headers, timeout=30)

        def watch_for_refusal() -> None:
            while not refused.is_set():
                if sb.stats()["rate_limited"].get("concurrent"):
                    refused.set()
                time.sleep(0.01)

        helpers = [threading.Thread(target=hog) for _ in range(5)]
        helpers.append(threading.Thread(target=watch_for_refusal))
        for h in helpers:
            h.start()
        try:
            report = run_sync(instance, sb, tmp_path, rate_window_seconds=3.0)
        finally:
            refused.set()
            for h in helpers:
                h.join()
        assert report.ok, report.failures
        assert sb.stats()["rate_limited"].get("concurrent", 0) >= 1
        assert_matches_truth(sb, tmp_path)


RESET_SECONDS = 18  # longer than two small runs take, so the second run meets the parked tenant


@pytest.mark.heavy(20)
def test_the_daily_limit_parks_the_tenant_keeps_its_pages_and_the_next_run_completes(
    two_tenants, instance, tmp_path
):
    sandbox = two_tenants
    tenant, other = sandbox.tenant_ids
    # After 4 more answered calls the tenant's day is spent: every further call is a 429
    # "day" with a Retry-After, as Xero does (seconds here, for the test's sake).
    started = time.monotonic()
    sandbox.inject("429_day", tenant_id=tenant, after_page=4, count=1000, seconds=RESET_SECONDS)
    first = run_sync(instance, sandbox, tmp_path, page_size=20)
    # Progress, not a failure: the run succeeds and says what it has still to read.
    assert first.ok, first.failures
    assert first.catching_up and all(t == tenant for t, _ in first.catching_up), first.catching_up
    # The tenant stopped at the first refusal: later steps did not spend a call on it.
    assert sandbox.stats()["rate_limited"] == {"day": 1}
    truth = sandbox.ground_truth()
    assert not diff_warehouse(tmp_path / "xero.duckdb", {other: truth[other]}, SMALL)
    # Every page read before the refusal is committed, not thrown away.
    with open_warehouse(tmp_path / "xero.duckdb", read_only=True) as conn:
        held = conn.execute("SELECT count(*) FROM xero.invoices WHERE tenant_id = ?", [tenant]).fetchone()[0]
    assert held > 0

    # Until Retry-After has passed, a run makes no call for the parked tenant.
    sandbox.reset_stats()
    parked = run_sync(instance, sandbox, tmp_path, page_size=20)
    assert parked.ok, parked.failures
    assert tenant not in sandbox.stats()["calls"], sandbox.stats()["calls"]

    sandbox.clear_faults()
    time.sleep(max(0.0, started + RESET_SECONDS + 1 - time.monotonic()))  # the day resets
    sandbox.reset_stats()
    second = run_sync(instance, sandbox, tmp_path, page_size=20)
    assert second.ok and not second.catching_up, (second.failures, second.catching_up)
    assert_matches_truth(sandbox, tmp_path)
    # The invoices continued from their checkpoint: the pages committed before the
    # refusal were not asked for again.
    assert sandbox.stats()["calls"][tenant]["Invoices"] < 5


def test_other_client_errors_are_not_retried_and_quote_xero(sandbox, tmp_path):
    client = xero_resource(sandbox, tmp_path).get_client()
    tenant = sandbox.tenant_ids[0]
    sandbox.reset_stats()
    with pytest.raises(XeroApiError) as caught:
        client.get_json("/api.xro/2.0/Invoices", tenant_id=tenant, params={"where": "NoSuchField == 1"},
                        what="invoices")
    text = str(caught.value)
    assert caught.value.status == 400
    assert "400" in text and "invoices" in text and tenant in text and "NoSuchField" in text
    assert sandbox.stats()["calls"][tenant]["Invoices"] == 1


def test_a_missing_scope_is_not_available_naming_the_scope(sandbox, instance, tmp_path):
    """A grant without the journals scope (as Xero gives apps without journal access)."""
    authorise_in_process(sandbox, tmp_path, scopes=["offline_access", "accounting.invoices.read",
                                                    "accounting.contacts.read"])
    report = run_sync(instance, sandbox, tmp_path, refresh_token=None)
    assert report.ok, report.failures  # not available is not a failure
    assert [(table, "accounting.journals.read" in why) for _, table, why in report.unavailable] == [("journals", True)]
    meta = instance.get_latest_materialization_event(asset_key("journals")).asset_materialization.metadata
    assert meta["xero/available"].value is False and "accounting.journals.read" in meta["unavailable_reason"].value
    # Not an empty table that looks like a successful sync.
    with open_warehouse(tmp_path / "xero.duckdb", read_only=True) as conn:
        tables = {r[0] for r in conn.execute("SELECT table_name FROM duckdb_tables() "
                                             "WHERE schema_name = 'xero'").fetchall()}
    assert "journals" not in tables
    assert_matches_truth(sandbox, tmp_path, [o for o in SMALL if o.table != "journals"])


def test_the_resource_reads_its_rate_window_from_the_environment(monkeypatch):
    monkeypatch.setenv("XERO_RATE_WINDOW_SECONDS", "2.5")
    assert XeroResource().rate_window() == 2.5
    assert XeroResource(rate_window_seconds=4.0).rate_window() == 4.0
