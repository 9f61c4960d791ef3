"""Report snapshots: call planning and flattening on hand-written Xero-shaped JSON, the
atomic per-tenant replace in DuckDB, and end to end against the sandbox over HTTP: every
report table equals the sandbox's report endpoints read afresh and flattened by the same
function (after a full sync here; after a day of activity and an incremental sync in
``test_views``)."""

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qsl

import dagster as dg
import pytest

from xero_pipeline.cli.runner import SyncReport, sync_tenants
from xero_pipeline.defs.assets import build_object_asset
from xero_pipeline.defs.report_assets import build_report_asset
from xero_pipeline.defs.resources import WarehouseResource, XeroResource
from xero_pipeline.registry import BY_TABLE, COLUMN_NAMES, REPORTS, REPORTS_BY_NAME
from xero_pipeline.sandbox import Sandbox
from xero_pipeline.warehouse.connection import open_warehouse
from xero_pipeline.warehouse.reports import replace_report_rows
from xero_pipeline.xero.reports import (
    ReportCall,
    Span,
    flatten_report,
    month_ends,
    months,
    parse_amount,
    plan_calls,
)
from xero_pipeline_tests.conftest import Api
from xero_pipeline_tests.journal_truth import CREDIT_SECTIONS, balances, journal_lines, movements

TB = REPORTS_BY_NAME["trialbalance"]
PL = REPORTS_BY_NAME["profitandloss"]
AGED = REPORTS_BY_NAME["agedreceivablesbycontact"]
ACC = "7d3e1c5a-0000-4000-8000-000000000001"


def cell(value: str, **attrs: str) -> dict:
    out: dict = {"Value": value}
    if attrs:
        out["Attributes"] = [{"Id": k, "Value": v} for k, v in attrs.items()]
    return out


TRIAL_BALANCE = {  # shaped like Xero's GET /Reports/TrialBalance (ReportWithRow)
    "ReportID": "TrialBalance", "ReportName": "Trial Balance", "ReportType": "TrialBalance",
    "ReportTitles": ["Trial Balance", "Demo Company (NZ)", "As at 31 October 2026"],
    "ReportDate": "21 November 2026", "UpdatedDateUTC": "/Date(1793491200065+0000)/", "Fields": [],
    "Rows": [
        {"RowType": "Header", "Cells": [cell("Account"), cell("Debit"), cell("Credit"), cell("YTD Debit"),
                                        cell("YTD Credit")]},
        {"RowType": "Section", "Title": "Revenue", "Rows": [
            {"RowType": "Row", "Cells": [cell("Sales (200)", account=ACC), cell("", account=ACC),
                                         cell("2337.23", account=ACC), cell("", account=ACC),
                                         cell("13368.10", account=ACC)]},
        ]},
        {"RowType": "Section", "Title": "Assets", "Rows": []},
        {"RowType": "Section", "Title": "", "Rows": [
            {"RowType": "SummaryRow", "Cells": [cell("Total"), cell("0.00"), cell("2337.23"), cell("-0.01"),
                                                cell("13368.10")]},
        ]},
    ],
}


def test_flattening_a_trial_balance_gives_one_row_per_value_cell():
    call = plan_calls(TB, today=date(2026, 11, 21), months_back=1)[0]
    rows = flatten_report(TRIAL_BALANCE, call, tenant_id="t1", loaded_at=datetime(2026, 11, 21, tzinfo=UTC))
    assert len(rows) == 8 and all(set(r) == set(COLUMN_NAMES) for r in rows)
    sales = [r for r in rows if r["row_title"] == "Sales (200)"]
    assert [r["column_label"] for r in sales] == ["Debit", "Credit", "YTD Debit", "YTD Credit"]
    assert [r["value"] for r in sales] == [None, Decimal("2337.23"), None, Decimal("13368.10")]
    assert [r["value_text"] for r in sales] == ["", "2337.23", "", "13368.10"]
    assert {r["account_id"] for r in sales} == {ACC} and {r["section"] for r in sales} == {"Revenue"}
    assert {r["row_type"] for r in sales} == {"Row"} and {r["row_position"] for r in sales} == {1}
    # Debit/Credit are the month's movement; the YTD columns are balances at the date.
    assert (sales[0]["period_start"], sales[0]["period_end"]) == (date(2026, 10, 1), date(2026, 10, 31))
    assert (sales[3]["period_start"], sales[3]["report_date"]) == (None, date(2026, 10, 31))
    total = [r for r in rows if r["row_type"] == "SummaryRow"]
    assert [r["value"] for r in total] == [Decimal("0"), Decimal("2337.23"), Decimal("-0.01"), Decimal("13368.10")]
    assert {r["section"] for r in total} == {""} and {r["account_id"] for r in total} == {None}
    assert {r["row_position"] for r in total} == {2}
    assert {r["request"] for r in rows} == {"date=2026-10-31"}
    assert rows[0]["report_titles"][2] == "As at 31 October 2026"


def test_flattening_keeps_columns_periods_attributes_and_odd_rows():
    call = ReportCall(PL, {"fromDate": "2026-10-01"}, date(2026, 10, 31),
                      (Span(date(2026, 10, 31), date(2026, 10, 1), date(2026, 10, 31)),
                       Span(date(2026, 9, 30), date(2026, 9, 1), date(2026, 9, 30))))
    report = {"ReportTitles": [], "Rows": [
        {"RowType": "Header", "Cells": [cell(""), cell("31 Oct 2026"), cell("30 Sep 2026")]},
        {"RowType": "Row", "Cells": [cell("Outside any section"), cell("1.50"), cell("12.5%")]},
        {"RowType": "Section", "Title": "Outer", "Rows": [
            {"RowType": "Section", "Title": "Inner", "Rows": [
                {"RowType": "Row", "Cells": [cell("Bank", accountID="b-1"), cell("7", account="b-1"),
                                             cell("2026-08-01T00:00:00", invoiceID="i-9")]},
            ]},
            {"RowType": "Row", "Cells": [cell("A heading only")]},
        ]},
    ]}
    rows = flatten_report(report, call, tenant_id="t1")
    amount, percent, bank1, bank2, heading = rows
    assert (amount["section"], amount["value"], amount["column_label"]) == (None, Decimal("1.50"), "31 Oct 2026")
    assert (percent["value"], percent["value_text"], percent["period_start"]) == (None, "12.5%", date(2026, 9, 1))
    assert bank1["section"] == "Inner" and bank1["account_id"] == "b-1"
    assert bank1["attributes"] == {"accountID": "b-1", "account": "b-1", "invoiceID": "i-9"}
    assert (bank1["value"], bank1["period_start"]) == (Decimal(7), date(2026, 10, 1))
    assert (bank2["period_end"], bank2["value"]) == (date(2026, 9, 30), None)
    assert bank2["value_text"] == "2026-08-01T00:00:00"
    assert (heading["column_index"], heading["value_text"], heading["section"]) == (0, "A heading only", "Outer")
    assert [r["row_position"] for r in rows] == [1, 1, 2, 2, 3]
    # A column beyond the planned spans is dated as at the call's date, with no period.
    extra = ReportCall(PL, {}, date(2026, 10, 31))
    row = flatten_report({"Rows": [{"RowType": "Row", "Cells": [cell("x"), cell("1")]}]}, extra, tenant_id="t")[0]
    assert (row["report_date"], row["period_start"], row["column_label"]) == (date(2026, 10, 31), None, "")


@pytest.mark.parametrize("text,expected", [
    ("154355.72", Decimal("154355.72")), ("-0.01", Decimal("-0.01")), ("4", Decimal(4)), ("0.00", Decimal(0)),
    ("", None), ("12.5%", None), ("2026-08-01T00:00:00", None), ("463 days overdue", None), (None, None),
])
def test_parse_amount(text, expected):
    assert parse_amount(text) == expected


def test_plans_count_the_calls_and_date_every_column():
    today = date(2024, 3, 15)
    assert month_ends(today, 3) == [date(2024, 2, 29), date(2024, 1, 31), date(2023, 12, 31)]
    calls = {r.name: plan_calls(r, today=today, contact_ids=["c1", "c2"]) for r in REPORTS}
    assert {k: len(v) for k, v in calls.items()} == {
        "TrialBalance": 12, "ProfitAndLoss": 12, "BalanceSheet": 1, "BankSummary": 1, "ExecutiveSummary": 1,
        "BudgetSummary": 1, "AgedReceivablesByContact": 2, "AgedPayablesByContact": 2}
    assert calls["TrialBalance"][0].params == {"date": "2024-02-29"}
    assert calls["TrialBalance"][-1].params == {"date": "2023-03-31"}
    pl = calls["ProfitAndLoss"]  # a call per month: Xero would cut earlier periods to March's length
    assert [c.params for c in pl[:2]] == [{"fromDate": "2024-03-01", "toDate": "2024-03-31"},
                                          {"fromDate": "2024-02-01", "toDate": "2024-02-29"}]
    assert pl[1].span(1) == Span(date(2024, 2, 29), date(2024, 2, 1), date(2024, 2, 29))
    assert pl[11].span(1).start == date(2023, 4, 1) and len(pl[11].spans) == 1
    bs = calls["BalanceSheet"][0]
    assert bs.params["date"] == "2024-02-29" and bs.span(12).report_date == date(2023, 3, 31)
    budget = calls["BudgetSummary"][0]
    assert budget.params == {"date": "2023-04-01", "periods": "12", "timeframe": "1"}
    assert budget.span(12).start == date(2024, 3, 1)  # oldest first, the same months as the P&L
    bank = calls["BankSummary"][0]
    assert bank.params == {"fromDate": "2024-03-01", "toDate": "2024-03-15"}
    # Opening balance: as at the end of the day before fromDate; closing: at toDate.
    assert [bank.span(i) for i in range(1, 5)] == [
        Span(date(2024, 2, 29)), Span(date(2024, 3, 15), date(2024, 3, 1), date(2024, 3, 15)),
        Span(date(2024, 3, 15), date(2024, 3, 1), date(2024, 3, 15)), Span(date(2024, 3, 15))]
    aged = calls["AgedReceivablesByContact"]
    assert [(c.contact_id, c.request) for c in aged] == [
        ("c1", "contactId=c1&date=2024-03-15"), ("c2", "contactId=c2&date=2024-03-15")]
    one = plan_calls(REPORTS_BY_NAME["balancesheet"], today=today, months_back=1)[0]
    assert "periods" not in one.params  # a single column needs no comparison periods
    with pytest.raises(ValueError):
        plan_calls(TB, today=today, months_back=13)


def _stored(db: Path, table: str, tenant: str | None = None) -> list[tuple]:
    conn = open_warehouse(db, read_only=True)
    try:
        where = "WHERE tenant_id = ?" if tenant else ""
        cur = conn.execute(f"SELECT * FROM xero.{table} {where}", [tenant] if tenant else [])
        names = [d[0] for d in cur.description]
        return [_norm(dict(zip(names, r))) for r in cur.fetchall()]
    finally:
        conn.close()


def _norm(row: dict) -> tuple:
    """A row as comparable values: JSON parsed, loaded_at left out."""
    out = []
    for name in COLUMN_NAMES:
        if name == "loaded_at":
            continue
        v = row.get(name)
        if name in ("attributes", "report_titles") and isinstance(v, str):
            v = json.loads(v)
        out.append(json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v)
    return tuple(out)


def test_replacing_a_tenants_report_is_atomic_and_leaves_other_tenants_alone(tmp_path):
    db = tmp_path / "w.duckdb"
    call = plan_calls(TB, today=date(2026, 11, 21), months_back=1)[0]
    rows_a = flatten_report(TRIAL_BALANCE, call, tenant_id="a")
    rows_b = flatten_report(TRIAL_BALANCE, call, tenant_id="b")
    conn = open_warehouse(db)
    try:
        assert replace_report_rows(conn, TB.table, "a", rows_a) == 8
        assert replace_report_rows(conn, TB.table, "b", rows_b) == 8
        assert replace_report_rows(conn, TB.table, "a", rows_a[:3]) == 3  # a snapshot: old rows go
        broken = [dict(rows_a[0], value="not a number")]
        with pytest.raises(Exception):
            replace_report_rows(conn, TB.table, "a", broken)
        types = dict(conn.execute("SELECT column_name, data_type FROM duckdb_columns() "
                                  "WHERE table_name = 'report_trial_balance'").fetchall())
    finally:
        conn.close()
    assert types["value"] == "DECIMAL(38,10)" and types["report_date"] == "DATE"
    # The failed load changed nothing.
    assert sorted(_stored(db, TB.table, "a"), key=repr) == sorted((_norm(r) for r in rows_a[:3]), key=repr)
    assert sorted(_stored(db, TB.table, "b"), key=repr) == sorted((_norm(r) for r in rows_b), key=repr)


# ----------------------------------------------------------------------------- end to end


def resources(sb: Sandbox, tmp: Path) -> tuple[XeroResource, WarehouseResource]:
    xero = XeroResource(client_id=sb.client_id, client_secret=sb.client_secret, refresh_token=sb.refresh_token,
                        api_url=sb.url, identity_url=sb.url, token_store=str(tmp / "tokens.json"),
                        backoff_seconds=0.05, rate_window_seconds=0.5)  # the client's 60-a-minute, sped up
    return xero, WarehouseResource(database=str(tmp / "xero.duckdb"))


def full_sync(sb: Sandbox, instance: dg.DagsterInstance, tmp: Path) -> SyncReport:
    xero, warehouse = resources(sb, tmp)
    report = sync_tenants(instance=instance, xero=xero, warehouse=warehouse, echo=lambda _: None)
    assert report.ok, report.failures
    return report


@pytest.fixture
def world(tmp_path) -> Iterator[tuple[Sandbox, dg.DagsterInstance, Path]]:
    with Sandbox(tenants=2, scale=0.02, seed=7, limits=False) as sb, dg.DagsterInstance.ephemeral() as instance:
        yield sb, instance, tmp_path


def open_contacts_truth(sb: Sandbox, tenant: str, kind: str) -> set[str]:
    invoices = sb.ground_truth(tenant_id=tenant)[tenant]["Invoices"]
    return {i["Contact"]["ContactID"] for i in invoices
            if i["Type"] == kind and i["Status"] == "AUTHORISED" and i["AmountDue"] > 0}


def assert_reports_match_fresh_reads(sb: Sandbox, db: Path, outcomes: SyncReport) -> None:
    today = sb.clock.now().date()
    for tenant in sb.tenant_ids:
        api = Api(sb, tenant)
        metas = {o.table: o.metadata for o in outcomes.outcomes if o.tenant_id == tenant}
        for report in REPORTS:
            meta = metas[report.table]
            assert meta["as_of"] == today.isoformat(), "report dates must follow Xero's clock"
            contacts = ()
            if report.per_contact:
                kind = "ACCREC" if "Receivables" in report.name else "ACCPAY"
                contacts = sorted(open_contacts_truth(sb, tenant, kind))
                assert meta["contacts_with_open_balance"] == len(contacts)
            calls = plan_calls(report, today=today, contact_ids=contacts)
            assert meta["report_calls"] == len(calls)
            expected = []
            for call in calls:
                resp = api.get(f"Reports/{report.name}", **dict(parse_qsl(call.request)))
                assert resp.status_code == 200, resp.text
                body = json.loads(resp.content, parse_float=Decimal)["Reports"][0]
                expected += [_norm(r) for r in flatten_report(body, call, tenant_id=tenant)]
            got = _stored(db, report.table, tenant)
            assert got, f"{report.table} is empty for {tenant}"
            assert sorted(got, key=repr) == sorted(expected, key=repr), f"{report.table} differs for {tenant}"
            assert meta["dagster/row_count"] == len(got)
        # Every report call and one reading of Xero's clock, whichever asset happened to make it.
        clock_calls = sum(metas[r.table]["api_calls"] - metas[r.table]["report_calls"] for r in REPORTS)
        assert clock_calls == 1


def test_aged_reports_call_at_most_max_contacts_largest_balances_first(world):
    sb, instance, tmp = world
    tenant = sb.tenant_ids[0]
    xero, warehouse = resources(sb, tmp)
    instance.add_dynamic_partitions("xero_tenant", [tenant])
    assets = [build_object_asset(BY_TABLE["invoices"]), build_report_asset(AGED)]
    result = dg.materialize(
        assets, instance=instance, partition_key=tenant, resources={"xero": xero, "warehouse": warehouse},
        run_config={"ops": {"xero__report_aged_receivables": {"config": {"max_contacts": 1}}}},
    )
    meta = next(e.step_materialization_data.materialization.metadata for e in result.get_asset_materialization_events()
                if e.asset_key == dg.AssetKey(["xero", AGED.table]))
    owing = open_contacts_truth(sb, tenant, "ACCREC")
    assert len(owing) > 1, "the sandbox should have several customers owing"
    assert (meta["report_calls"].value, meta["contacts_not_reported"].value) == (1, len(owing) - 1)
    invoices = sb.ground_truth(tenant_id=tenant)[tenant]["Invoices"]
    due: dict[str, Decimal] = {}
    for i in invoices:
        if i["Type"] == "ACCREC" and i["Status"] == "AUTHORISED" and i["AmountDue"] > 0:
            due[i["Contact"]["ContactID"]] = due.get(i["Contact"]["ContactID"], Decimal(0)) + (
                i["AmountDue"] / i["CurrencyRate"])
    largest = max(due, key=lambda c: due[c])
    stored_contacts = {r[COLUMN_NAMES.index("contact_id")] for r in _stored(tmp / "xero.duckdb", AGED.table)}
    assert stored_contacts == {largest}


# ----------------------------------------------------------------------------- periods


def load_report(world, report, as_of: date) -> list[dict]:
    """Materialize one report asset for the first tenant as at ``as_of``; its stored rows."""
    sb, instance, tmp = world
    tenant = sb.tenant_ids[0]
    xero, warehouse = resources(sb, tmp)
    instance.add_dynamic_partitions("xero_tenant", [tenant])
    op = f"xero__{report.table}"
    result = dg.materialize([build_report_asset(report)], instance=instance, partition_key=tenant,
                            resources={"xero": xero, "warehouse": warehouse},
                            run_config={"ops": {op: {"config": {"as_of": as_of.isoformat()}}}})
    assert result.success
    names = [n for n in COLUMN_NAMES if n != "loaded_at"]
    return [dict(zip(names, r)) for r in _stored(tmp / "xero.duckdb", report.table, tenant)]


@pytest.mark.parametrize("as_of", [date(2026, 2, 14), date(2026, 11, 1), date(2026, 12, 9)],
                         ids=["28-day month", "30-day month", "31-day month"])
def test_profit_and_loss_columns_are_whole_months_that_agree_with_the_journals(world, as_of):
    # Xero cuts every earlier column of a multi-period P&L to the first month's length;
    # stored as whole months, those columns would disagree with the books.
    sb = world[0]
    tenant = sb.tenant_ids[0]
    lines = journal_lines(sb.ground_truth(tenant_id=tenant)[tenant]["Journals"])
    stored = load_report(world, PL, as_of)
    spans = {(r["period_start"], r["period_end"]) for r in stored if r["column_index"]}
    assert spans == {(first, last) for first, last in months(as_of, 12)}
    rows = [r for r in stored if r["account_id"]]
    moved = {span: movements(lines, *span) for span in spans}
    for r in rows:
        sign = -1 if r["section"] in CREDIT_SECTIONS else 1
        want = sign * moved[(r["period_start"], r["period_end"])].get(r["account_id"], Decimal(0))
        assert r["value"] == want, (r["period_start"], r["section"], r["row_title"])
    assert {r["account_id"] for r in rows if r["value"]}, "the books should have profit and loss in the window"


def test_bank_summary_dates_its_balances_and_its_movements_apart(world):
    sb = world[0]
    tenant = sb.tenant_ids[0]
    lines = journal_lines(sb.ground_truth(tenant_id=tenant)[tenant]["Journals"])
    as_of = date(2026, 5, 20)
    rows = [r for r in load_report(world, REPORTS_BY_NAME["banksummary"], as_of) if r["account_id"]]
    by_label: dict[str, list[dict]] = {}
    for r in rows:
        by_label.setdefault(r["column_label"], []).append(r)
    assert by_label.keys() == {"Opening Balance", "Cash Received", "Cash Spent", "Closing Balance"}
    # A balance row is as at the end of its report_date: the opening one is the day
    # before fromDate (Xero: "as at the start of fromDate"), the closing one toDate.
    for label, at in (("Opening Balance", date(2026, 4, 30)), ("Closing Balance", as_of)):
        balance = balances(lines, at)
        for r in by_label[label]:
            assert (r["report_date"], r["period_start"], r["period_end"]) == (at, None, None), label
            assert r["value"] == balance.get(r["account_id"], Decimal(0)), (label, r["row_title"])
    for label in ("Cash Received", "Cash Spent"):
        assert {(r["report_date"], r["period_start"], r["period_end"]) for r in by_label[label]} == {
            (as_of, date(2026, 5, 1), as_of)}
    assert any(r["value"] for r in by_label["Cash Received"])
