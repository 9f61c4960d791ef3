"""An endpoint Xero refuses to the app (401 AuthorizationUnsuccessful: Journals without the
Advanced tier, classic expenses for apps created since 2026, a scope the app lacks) is
*not available*, not a failure: the step succeeds and says why, nothing is written to
its table, Xero is asked again at most weekly or when the granted scopes change, and
the ledger views say which tenants lack journals."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from xero_pipeline.defs.health import check_fields
from xero_pipeline.defs.health_rules import TenantFacts, assess
from xero_pipeline.defs.keys import asset_key
from xero_pipeline.defs.materializations import latest_metadata
from xero_pipeline.defs.resources import WarehouseResource
from xero_pipeline.defs.view_assets import build_view_assets
from xero_pipeline.errors import XeroScopeError
from xero_pipeline.registry import BY_TABLE
from xero_pipeline.sandbox import Sandbox
from xero_pipeline.warehouse.connection import open_warehouse
from xero_pipeline.xero.scopes import token_scopes
from xero_pipeline_tests.resource_helpers import (
    assert_matches_truth,
    authorise_in_process,
    run_sync,
    xero_resource,
)

REFUSED = {"Journals": 401, "ExpenseClaims": 401, "Receipts": 401}
OBJECTS = [BY_TABLE[t] for t in ("accounts", "invoices", "contacts", "journals", "expense_claims", "receipts")]
AVAILABLE = [o for o in OBJECTS if o.table in ("accounts", "invoices", "contacts")]


@pytest.fixture
def app_2026() -> Iterator[Sandbox]:
    """One tenant of an app created in 2026 without the Advanced tier."""
    with Sandbox(tenants=1, scale=0.02, seed=3, limits=False, unavailable=REFUSED) as sb:
        yield sb


def calls_to(sandbox: Sandbox, endpoint: str) -> int:
    return sum(per.get(endpoint, 0) for per in sandbox.stats()["calls"].values())


def metadata(instance: dg.DagsterInstance, table: str, tenant: str) -> dict:
    return latest_metadata(instance, asset_key(table), tenant)


def age_refusals(tmp_path: Path, days: int) -> None:
    """As if the refusals were recorded ``days`` earlier."""
    conn = open_warehouse(tmp_path / "xero.duckdb")
    try:
        conn.execute(f"UPDATE pipeline.endpoint_access SET unavailable_since = unavailable_since - INTERVAL {days} DAY, "
                     f"checked_at = checked_at - INTERVAL {days} DAY, next_check = next_check - INTERVAL {days} DAY")
    finally:
        conn.close()


def query(tmp_path: Path, sql: str) -> list[tuple]:
    conn = open_warehouse(tmp_path / "xero.duckdb", read_only=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def xero_tables(tmp_path: Path) -> set[str]:
    return {r[0] for r in query(tmp_path, "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'xero'")}


def build_views(instance: dg.DagsterInstance, tmp_path: Path) -> dg.ExecuteInProcessResult:
    return dg.materialize(build_view_assets(), instance=instance,
                          resources={"warehouse": WarehouseResource(database=str(tmp_path / "xero.duckdb"))})


def test_refused_endpoints_are_not_available_asked_weekly_and_sync_once_granted(app_2026, instance, tmp_path):
    sandbox, tenant = app_2026, app_2026.tenant_ids[0]
    report = run_sync(instance, sandbox, tmp_path, objects=OBJECTS)
    assert report.ok, report.failures
    journals = metadata(instance, "journals", tenant)
    assert journals["xero/available"] is False
    assert "accounting.journals.read" in journals["unavailable_reason"]
    assert "Advanced" in journals["unavailable_reason"]  # the tier that would unlock it
    assert journals["unavailable_since"] and journals["next_check"] > journals["unavailable_since"]
    for table in ("expense_claims", "receipts"):
        meta = metadata(instance, table, tenant)
        assert meta["xero/available"] is False and "accounting.classicexpenses.read" in meta["unavailable_reason"]
    assert metadata(instance, "journal_lines", tenant)["xero/available"] is False  # children say so too
    # Nothing written for them; everything else equals Xero.
    assert not xero_tables(tmp_path) & {"journals", "journal_lines", "expense_claims", "receipts"}
    assert_matches_truth(sandbox, tmp_path, AVAILABLE)
    assert {r[0] for r in query(tmp_path, "SELECT object FROM pipeline.endpoint_access")} == {
        "journals", "expense_claims", "receipts"}

    # The next day: no call to the refused endpoints, still reported unavailable.
    sandbox.reset_stats()
    age_refusals(tmp_path, 1)
    report = run_sync(instance, sandbox, tmp_path, objects=OBJECTS)
    assert report.ok, report.failures
    assert calls_to(sandbox, "Journals") == calls_to(sandbox, "ExpenseClaims") == calls_to(sandbox, "Receipts") == 0
    assert calls_to(sandbox, "Invoices") > 0
    assert metadata(instance, "journals", tenant)["xero/available"] is False

    # A week later it is asked once again, and still refused.
    age_refusals(tmp_path, 7)
    sandbox.reset_stats()
    report = run_sync(instance, sandbox, tmp_path, objects=OBJECTS)
    assert report.ok, report.failures
    assert calls_to(sandbox, "Journals") == 1
    assert metadata(instance, "journals", tenant)["xero/available"] is False

    # The ledger views say why they are empty.
    build_views(instance, tmp_path)
    sources = dict(query(tmp_path, "SELECT source, available FROM ledger.sources WHERE tenant_id = "
                                   f"'{tenant}'"))
    assert sources["journals"] is False and sources["invoices"] is True
    reason = query(tmp_path, f"SELECT reason FROM ledger.sources WHERE tenant_id = '{tenant}' AND source = 'journals'")
    assert "accounting.journals.read" in reason[0][0]

    # The app is granted journals: once the recheck is due, they sync in full and the views fill.
    sandbox.api.unavailable = {k.lower(): v for k, v in REFUSED.items() if k != "Journals"}
    age_refusals(tmp_path, 8)
    report = run_sync(instance, sandbox, tmp_path, objects=OBJECTS)
    assert report.ok, report.failures
    assert metadata(instance, "journals", tenant).get("xero/available") is not False
    assert metadata(instance, "journals", tenant)["sync_mode"] == "full"
    assert_matches_truth(sandbox, tmp_path, [*AVAILABLE, BY_TABLE["journals"]])
    assert {r[0] for r in query(tmp_path, "SELECT object FROM pipeline.endpoint_access")} == {
        "expense_claims", "receipts"}
    views = build_views(instance, tmp_path)
    assert views.success
    assert query(tmp_path, f"SELECT count(*) FROM ledger.general_ledger WHERE tenant_id = '{tenant}'")[0][0] > 0
    assert query(tmp_path, f"SELECT available FROM ledger.sources WHERE tenant_id = '{tenant}' "
                           "AND source = 'journals'") == [(True,)]


def test_checks_of_an_unavailable_object_are_not_failed(app_2026, instance, tmp_path):
    sandbox, tenant = app_2026, app_2026.tenant_ids[0]
    journals = [BY_TABLE["journals"]]
    report = run_sync(instance, sandbox, tmp_path, objects=journals)
    assert report.ok, report.failures
    records = instance.get_records_for_run(instance.get_runs(limit=1)[0].run_id,
                                           of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    evaluated = {r.event_log_entry.dagster_event.event_specific_data.asset_key.path[-1] for r in records}
    assert not evaluated & {"journals", "journal_lines", "journal_line_tracking"}  # skipped, never failed
    assert metadata(instance, "journals", tenant)["xero/available"] is False


def test_authorization_unsuccessful_never_refreshes_the_token(app_2026, tmp_path):
    client = xero_resource(app_2026, tmp_path).get_client()
    tenant = app_2026.tenant_ids[0]
    client.get_json("/api.xro/2.0/Organisation", tenant_id=tenant)  # the first token
    app_2026.reset_stats()
    for _ in range(3):
        with pytest.raises(XeroScopeError):
            client.get_json("/api.xro/2.0/Journals", tenant_id=tenant, scope="accounting.journals.read",
                            what="journals")
    stats = app_2026.stats()
    assert stats["token_refreshes"] == 0
    assert calls_to(app_2026, "Journals") == 3  # one call each, no retry


# ------------------------------------------------------------------ scopes from the access token


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def jwt(claims: dict) -> str:
    return f"{_b64({'alg': 'RS256', 'typ': 'JWT'})}.{_b64(claims)}.c2lnbmF0dXJl"


def test_granted_scopes_are_read_from_a_jwt_and_unknown_for_an_opaque_token():
    assert token_scopes(jwt({"scope": ["openid", "accounting.journals.read"]})) == frozenset(
        {"openid", "accounting.journals.read"})
    assert token_scopes(jwt({"scope": "openid accounting.invoices.read"})) == frozenset(
        {"openid", "accounting.invoices.read"})
    assert token_scopes("kq2P0nq8yGZb3Yyq7rJmZ4r0s9Z-VbB8O5yW6qH2dT0") is None
    assert token_scopes(jwt({"sub": "no scope claim"})) is None
    assert token_scopes("a.b.c") is None


SCOPES: Sequence[str] = ("offline_access", "accounting.invoices.read", "accounting.contacts.read",
                         "accounting.settings.read")


def test_a_scope_missing_from_the_token_costs_no_call_and_a_new_grant_is_asked_at_once(instance, tmp_path):
    # The sandbox's access tokens are JWTs whose ``scope`` claim lists what the user consented to.
    with Sandbox(tenants=1, scale=0.02, seed=3, limits=False) as sandbox:
        tenant = sandbox.tenant_ids[0]
        authorise_in_process(sandbox, tmp_path, scopes=list(SCOPES))
        sandbox.reset_stats()
        objects = [BY_TABLE["invoices"], BY_TABLE["journals"]]
        report = run_sync(instance, sandbox, tmp_path, objects=objects, refresh_token=None)
        assert report.ok, report.failures
        assert calls_to(sandbox, "Journals") == 0
        journals = metadata(instance, "journals", tenant)
        assert journals["xero/available"] is False
        assert "token" in journals["unavailable_reason"] and "accounting.journals.read" in journals["unavailable_reason"]
        assert_matches_truth(sandbox, tmp_path, [BY_TABLE["invoices"]])

        # The user grants journals: the scopes changed, so the next sync asks at once (no week's wait).
        authorise_in_process(sandbox, tmp_path, scopes=[*SCOPES, "accounting.journals.read"])
        report = run_sync(instance, sandbox, tmp_path, objects=objects, refresh_token=None)
        assert report.ok, report.failures
        assert calls_to(sandbox, "Journals") > 0
        assert metadata(instance, "journals", tenant).get("xero/available") is not False
        assert_matches_truth(sandbox, tmp_path, objects)


def test_a_tenant_whose_only_problem_is_unavailable_objects_is_healthy():
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    why = "Xero refused Journals to this app (401 AuthorizationUnsuccessful): it needs the scope accounting.journals.read"
    facts = TenantFacts("t1", synced={"xero/invoices": now - timedelta(hours=1), "xero/journals": now - timedelta(hours=1)},
                        unavailable={"xero/journals": why})
    health = assess(facts, now=now)
    assert health.passed and not health.failing
    assert "not available to this app" in health.description and "xero/journals" in health.description
    assert why in check_fields(health)["metadata"]["not_available"].value
