"""Every object, every child table, the tenants table, deletes as Xero means them, and
endpoints Xero refuses: against the sandbox over HTTP, into a real DuckDB file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from xero_pipeline.defs.assets import build_object_asset, build_retired_assets
from xero_pipeline.defs.tenants_asset import xero_tenants
from xero_pipeline.registry import BY_TABLE, OBJECTS, RETIRED
from xero_pipeline.sandbox import Sandbox
from xero_pipeline.warehouse.connection import open_warehouse
from xero_pipeline.warehouse.tenants import merge_tenants, tenant_rows
from xero_pipeline_tests.conftest import Api
from xero_pipeline_tests.sync_helpers import QUIET, failed_checks, resources, run_tenant, step_failures
from xero_pipeline_tests.truth import diff_warehouse

# Child tables the seeded books fill at this scale; an empty one would mean the
# sandbox or the pipeline stopped producing it (diff_warehouse alone compares counts).
MUST_HAVE_ROWS = (
    "invoice_line_items", "invoice_line_item_tracking", "journal_lines", "journal_line_tracking",
    "manual_journal_lines", "credit_note_allocations", "overpayment_allocations", "prepayment_allocations",
    "contact_addresses", "contact_phones", "contact_group_members", "tracking_options", "budget_lines",
    "budget_balances", "batch_payment_payments", "tax_rate_components", "expense_claim_receipts",
    "bank_transaction_line_item_tracking", "quote_line_items", "purchase_order_line_items", "receipt_line_items",
)


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    # In memory: cursors and metadata live as long as the test, and no sqlite file is
    # written per event (a tenant run here is ~60 steps).
    with dg.DagsterInstance.ephemeral() as inst:
        yield inst


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    conn = open_warehouse(db, read_only=True)
    try:
        return conn.execute(sql, params or []).fetchall()
    finally:
        conn.close()


def sync_all(instance, sandbox, res) -> None:
    for tenant in sandbox.tenant_ids:
        result = run_tenant(instance, res, tenant)
        assert not step_failures(result), step_failures(result)
        assert not failed_checks(result), failed_checks(result)


@pytest.mark.heavy(60)
def test_every_table_equals_the_truth_after_a_full_and_an_incremental_sync(instance, tmp_path):
    db = tmp_path / "xero.duckdb"
    with Sandbox(tenants=1, scale=0.02, seed=13, limits=False) as sandbox:  # one: tenants share no rows
        res = resources(sandbox, tmp_path)
        sync_all(instance, sandbox, res)
        problems = diff_warehouse(db, sandbox.ground_truth(), OBJECTS)
        assert not problems, "\n".join(problems[:20])
        for table in MUST_HAVE_ROWS:
            assert query(db, f"SELECT count(*) FROM xero.{table}")[0][0] > 0, table

        # Xero lists contact groups without members; each group was read by id.
        tenant = sandbox.tenant_ids[0]
        listed = Api(sandbox, tenant).get("ContactGroups").json()["ContactGroups"]
        assert listed and all(g.get("Contacts") == [] for g in listed)
        assert query(db, "SELECT count(*) FROM xero.contact_group_members WHERE tenant_id = ?", [tenant])[0][0] > 0

        changes = sandbox.simulate_day()
        for kind in ("items_deleted", "tracking_options_deleted", "contact_group_removals", "invoices_voided"):
            assert all(c.get(kind) for c in changes.values()), (kind, changes)
        sync_all(instance, sandbox, res)
        truth = sandbox.ground_truth()
        problems = diff_warehouse(db, truth, OBJECTS)
        assert not problems, "\n".join(problems[:20])

    for tenant, books in truth.items():
        # Hard deletes are rows marked _deleted_at, never dropped (diff_warehouse compared the live ones).
        live_items = {i["ItemID"] for i in books["Items"]}
        gone = query(db, "SELECT item_id FROM xero.items WHERE tenant_id = ? AND _deleted_at IS NOT NULL", [tenant])
        assert gone and not {g[0] for g in gone} & live_items
        options = {o["TrackingOptionID"] for c in books["TrackingCategories"] for o in c["Options"]}
        ended = query(db, "SELECT tracking_option_id FROM xero.tracking_options "
                          "WHERE tenant_id = ? AND _deleted_at IS NOT NULL", [tenant])
        assert ended and not {e[0] for e in ended} & options
        members = {(g["ContactGroupID"], c["ContactID"]) for g in books["ContactGroups"] for c in g["Contacts"]}
        left = query(db, "SELECT contact_group_id, contact_id FROM xero.contact_group_members "
                         "WHERE tenant_id = ? AND _deleted_at IS NOT NULL", [tenant])
        assert left and not set(left) & members
        # Voided and deleted documents stay rows with their status.
        statuses = {r[0] for r in query(db, "SELECT DISTINCT status FROM xero.invoices WHERE tenant_id = ?", [tenant])}
        assert {"VOIDED", "DELETED"} <= statuses


def test_tenants_table_records_connections_and_disconnections(instance, tmp_path):
    db = tmp_path / "xero.duckdb"
    with Sandbox(tenants=2, scale=0.01, seed=3, limits=False) as sandbox:
        res = resources(sandbox, tmp_path)

        def load() -> dict[str, tuple]:
            result = dg.materialize([xero_tenants], instance=instance, resources=res, run_config=QUIET)
            assert result.success
            rows = query(db, "SELECT tenant_id, tenant_name, tenant_type, connection_id, created_date_utc, "
                             "updated_date_utc, disconnected_at FROM xero.tenants")
            return {r[0]: r[1:] for r in rows}

        first = load()
        assert set(first) == set(sandbox.tenant_ids)
        for tenant, (name, kind, conn_id, created, updated, disconnected) in first.items():
            assert name == sandbox.books[tenant].name and kind == "ORGANISATION"
            assert conn_id and isinstance(created, datetime) and disconnected is None
        gone = sandbox.tenant_ids[1]
        sandbox.disconnect_tenant(gone)
        second = load()
        assert second[gone][-1] is not None, "a disconnected tenant keeps its row, marked"
        assert second[sandbox.tenant_ids[0]][-1] is None
        sandbox.connect_tenant(gone)
        third = load()
        assert third[gone][-1] is None, "reconnecting clears the mark"
        assert third[gone][2] == first[gone][2]  # Xero keeps the connection id


def test_tenant_rows_parse_xero_identity_dates():
    now = datetime(2026, 11, 2, 3, 4, 5, tzinfo=UTC)
    rows = tenant_rows([{"id": "c1", "authEventId": "a1", "tenantId": "t1", "tenantType": "ORGANISATION",
                         "tenantName": "Demo", "createdDateUtc": "2019-12-07T18:46:19.5165400",
                         "updatedDateUtc": "2019-12-07T18:46:19.5187840"}], now=now)
    assert rows == [("t1", "Demo", "ORGANISATION", "c1", "a1", datetime(2019, 12, 7, 18, 46, 19, 516540),
                     datetime(2019, 12, 7, 18, 46, 19, 518784), None, datetime(2026, 11, 2, 3, 4, 5))]


def test_merge_tenants_marks_only_missing_tenants(tmp_path):
    conn = open_warehouse(tmp_path / "w.duckdb")
    try:
        now = datetime(2026, 11, 2, tzinfo=UTC)
        two = [("t1", "A", "ORGANISATION", "c1", None, None, None, None, None),
               ("t2", "B", "ORGANISATION", "c2", None, None, None, None, None)]
        assert merge_tenants(conn, two, now=now)["newly_disconnected"] == 0
        assert merge_tenants(conn, two[:1], now=now)["newly_disconnected"] == 1
        assert merge_tenants(conn, two[:1], now=now)["newly_disconnected"] == 0  # marked once
        marks = dict(conn.execute("SELECT tenant_id, disconnected_at FROM xero.tenants").fetchall())
        assert marks == {"t1": None, "t2": datetime(2026, 11, 2)}
    finally:
        conn.close()


def test_refused_and_retired_endpoints_fail_only_their_own_assets(instance, tmp_path):
    # 401 AuthorizationUnsuccessful (scope or tier) is "not available", not a failure (test_unavailable);
    # a 403 or 404 for one path still fails that object alone.
    refused = {"ExpenseClaims": 403, "Receipts": 404, "Journals": 401}
    chosen = [BY_TABLE[t] for t in ("expense_claims", "receipts", "journals", "invoices", "contacts")]
    with Sandbox(tenants=1, scale=0.01, seed=5, limits=False, unavailable=refused) as sandbox:
        tenant = sandbox.tenant_ids[0]
        res = resources(sandbox, tmp_path)
        result = run_tenant(instance, res, tenant, chosen, extra=build_retired_assets())
        calls = sandbox.stats()["calls"].get(tenant, {})
    failures = step_failures(result)
    assert set(failures) == {"xero_expense_claims", "xero_receipts", "xero__employees"}
    assert "403" in failures["xero_expense_claims"] and "apps created since 2026" in failures["xero_expense_claims"]
    assert "404" in failures["xero_receipts"] and "classic expense receipts" in failures["xero_receipts"]
    assert "retired" in failures["xero__employees"] and RETIRED[0].retired in failures["xero__employees"]
    assert "Employees" not in calls, "a retired endpoint is never called"
    materialized = {e.asset_key.path[-1]: e.materialization.metadata for e in result.get_asset_materialization_events()}
    assert {"invoices", "invoice_line_items", "contacts", "journals", "journal_lines"} <= set(materialized)
    assert not set(materialized) & {"expense_claims", "receipts", "employees"}
    journals = materialized["journals"]
    assert journals["xero/available"].value is False
    assert "premium endpoint" in journals["unavailable_reason"].value
    assert "accounting.journals.read" in journals["unavailable_reason"].value
    # The failure's metadata names the cause for the UI and for alerting.
    causes = {}
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data.user_failure_data:
            meta = event.step_failure_data.user_failure_data.metadata
            causes[event.step_key] = meta["cause"].value
    assert causes == {"xero_expense_claims": "forbidden_for_app_or_plan", "xero_receipts": "not_served",
                      "xero__employees": "retired"}


def test_every_object_has_an_asset_and_retired_ones_are_outside_the_sync_job():
    from xero_pipeline.definitions import defs

    graph = defs.get_repository_def().asset_graph
    for obj in OBJECTS:
        assert graph.has(dg.AssetKey(["xero", obj.table]))
    assert graph.has(dg.AssetKey(["xero", "tenants"]))
    assert graph.get(dg.AssetKey(["xero", "tenants"])).partitions_def is None
    job = defs.get_repository_def().get_job("xero_sync")
    retired = {dg.AssetKey(["xero", o.table]) for o in RETIRED}
    assert retired and all(graph.has(k) for k in retired)
    assert not retired & set(job.asset_layer.executable_asset_keys)
    build_object_asset(BY_TABLE["contact_groups"])  # the factory accepts every registry entry


def test_hard_deleted_children_are_marked_and_revived_not_dropped(tmp_path):
    from xero_pipeline.warehouse.merge import merge
    from xero_pipeline.warehouse.shaping import RecordShaper
    from xero_pipeline.warehouse.spool import Spool

    db = tmp_path / "w.duckdb"
    stamps = iter(datetime(2026, 11, d, tzinfo=UTC) for d in range(1, 10))

    def load(categories: list[dict]) -> None:
        now = next(stamps)
        spool = Spool(RecordShaper(BY_TABLE["tracking_categories"], tenant_id="t1", synced_at=now), root=tmp_path)
        try:
            spool.add(categories)
            spool.close()
            conn = open_warehouse(db)
            try:
                merge(conn, spool, snapshot=True, now=now)
            finally:
                conn.close()
        finally:
            spool.discard()

    def options() -> dict[str, datetime | None]:
        return dict(query(db, "SELECT tracking_option_id, _deleted_at FROM xero.tracking_options"))

    def region(*names: str) -> dict:
        return {"TrackingCategoryID": "tc1", "Name": "Region", "Status": "ACTIVE",
                "Options": [{"TrackingOptionID": n, "Name": n, "Status": "ACTIVE"} for n in names]}

    load([region("north", "south")])
    assert options() == {"north": None, "south": None}
    load([region("north")])  # Xero deleted "south": no tombstone, it is just absent
    assert options() == {"north": None, "south": datetime(2026, 11, 2)}
    load([region("north")])  # unchanged parent: the mark keeps its first date
    assert options()["south"] == datetime(2026, 11, 2)
    load([region("north", "south")])  # re-created with the same id: live again
    assert options() == {"north": None, "south": None}
    load([])  # the whole category deleted: it and its options are marked
    assert set(options().values()) == {datetime(2026, 11, 5)}
    assert query(db, "SELECT _deleted_at FROM xero.tracking_categories") == [(datetime(2026, 11, 5),)]
    assert not list(tmp_path.glob("xero-spool-*")), "each load removed its own spool"


def test_line_tracking_and_budget_balances_are_nested_child_rows():
    from xero_pipeline.warehouse.shaping import RecordShaper

    shaper = RecordShaper(BY_TABLE["budgets"], tenant_id="t1", synced_at=datetime(2026, 1, 1, tzinfo=UTC))
    shaped = shaper.shape({"BudgetID": "b1", "BudgetLines": [
        {"AccountID": "a1", "BudgetBalances": [{"Period": "2026-01", "Amount": "10.00"},
                                               {"Period": "2026-02", "Amount": "12.50"}]},
        {"AccountID": "a2", "BudgetBalances": []}]}, seq=1)
    balances = shaped.children["budget_balances"]
    assert [(r["budget_id"], r["account_id"], r["_position"], r["period"], r["amount"]) for r in balances] == [
        ("b1", "a1", 0, "2026-01-01", "10.00"), ("b1", "a1", 1, "2026-02-01", "12.50")]
    shaper = RecordShaper(BY_TABLE["manual_journals"], tenant_id="t1", synced_at=datetime(2026, 1, 1, tzinfo=UTC))
    shaped = shaper.shape({"ManualJournalID": "m1", "JournalLines": [
        {"LineAmount": "5.00"}, {"LineAmount": "-5.00", "Tracking": [{"Name": "Region", "Option": "North"}]}]},
        seq=1)
    # Manual journal lines have no id: their tracking names the line by position.
    assert [(r["_parent_position"], r["name"], r["option"]) for r in shaped.children["manual_journal_line_tracking"]
            ] == [(1, "Region", "North")]
