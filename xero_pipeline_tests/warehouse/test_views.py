"""Ledger views: their SQL on a tiny hand-built DuckDB, then against Xero's own reports.

The end-to-end test checks the report tables too, after a full and an incremental sync
(``test_reports``' world and checks): one pair of syncs serves both.
"""

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from xero_pipeline.registry import REPORTS_BY_NAME
from xero_pipeline.warehouse.column_docs import ledger_column_docs
from xero_pipeline.warehouse.connection import open_warehouse
from xero_pipeline.warehouse.view_sources import ensure_sources
from xero_pipeline.warehouse.views import (
    LEDGER_VIEWS,
    SOURCE_DOCUMENTS,
    create_view,
    fy_start_sql,
    view_columns,
)
from xero_pipeline.xero.reports import ReportCall, flatten_report, month_ends, months, plan_calls
from xero_pipeline_tests.conftest import Api
from xero_pipeline_tests.defs.test_reports import assert_reports_match_fresh_reads, full_sync, world  # noqa: F401

T = "t1"
BANK, AR, SALES, RENT, RE = "a-bank", "a-ar", "a-sales", "a-rent", "a-re"


def insert(conn, table: str, **values) -> None:
    cols = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    conn.execute(f"INSERT INTO xero.{table} ({cols}) VALUES ({marks})",
                 [json.dumps(v) if isinstance(v, (dict, list)) else v for v in values.values()])


def journal(conn, number: int, day: str, source_type: str, source_id: str, lines: list[tuple], deleted=None):
    jid = f"j{number}"
    insert(conn, "journals", tenant_id=T, journal_id=jid, journal_number=number, journal_date=day,
           source_type=source_type, source_id=source_id, _deleted_at=deleted)
    for i, (account, amount, *tracking) in enumerate(lines):
        insert(conn, "journal_lines", tenant_id=T, journal_id=jid, _position=i, journal_line_id=f"{jid}-{i}",
               account_id=account, account_name="name when posted", account_type="BANK" if account == BANK else None,
               net_amount=Decimal(amount), tracking_categories=tracking[0] if tracking else [])


@pytest.fixture
def ledger(tmp_path):
    conn = open_warehouse(tmp_path / "tiny.duckdb")
    ensure_sources(conn, sorted({t for v in LEDGER_VIEWS for t in v.sources}))
    insert(conn, "organisations", tenant_id=T, organisation_id="o1", financial_year_end_day=31,
           financial_year_end_month=3)
    for aid, code, name, kind, cls, system in [
        (BANK, "090", "Bank", "BANK", "ASSET", None), (AR, "610", "Debtors", "CURRENT", "ASSET", "DEBTORS"),
        (SALES, "200", "Sales", "REVENUE", "REVENUE", None), (RENT, "469", "Rent", "OVERHEADS", "EXPENSE", None),
        (RE, "960", "Retained Earnings", "EQUITY", "EQUITY", "RETAINEDEARNINGS"),
    ]:
        insert(conn, "accounts", tenant_id=T, account_id=aid, code=code, name=name, type=kind, **{"class": cls},
               system_account=system)
    insert(conn, "contacts", tenant_id=T, contact_id="c1", name="Current Name Ltd")
    insert(conn, "invoices", tenant_id=T, invoice_id="inv1", invoice_number="INV-001", contact_id="c1",
           contact={"ContactID": "c1", "Name": "Old Name"}, type="ACCREC", status="PAID", amount_due=0)
    insert(conn, "payments", tenant_id=T, payment_id="pay1", invoice_id=None,
           invoice={"InvoiceID": "inv1", "Contact": {"ContactID": "c1", "Name": "Old Name"}})
    insert(conn, "bank_transactions", tenant_id=T, bank_transaction_id="bt1", reference="Rent April",
           contact_id="c2", contact={"ContactID": "c2", "Name": "Landlord"})
    tags = [{"Name": "Region", "Option": "North"}, {"Name": "Department", "Option": "Admin"}]
    journal(conn, 1, "2026-02-10", "ACCREC", "inv1", [(AR, "100"), (SALES, "-100", tags)])
    journal(conn, 2, "2026-02-20", "ACCRECPAYMENT", "pay1", [(BANK, "60"), (AR, "-60")])
    journal(conn, 3, "2026-04-05", "CASHPAID", "bt1", [(RENT, "30", [{"Name": "Department", "Option": "Sales"}]),
                                                       (BANK, "-30")])
    journal(conn, 4, "2026-04-05", "CASHPAID", "bt1", [(RENT, "-30"), (BANK, "30")])  # voided the same day
    journal(conn, 5, "2026-04-06", "CASHREC", "bt2", [(BANK, "40"), (SALES, "-40")])
    journal(conn, 6, "2026-04-07", "MANJOURNAL", "mj1", [(RENT, "999"), (BANK, "-999")], deleted="2026-04-08")
    for view in LEDGER_VIEWS:
        create_view(conn, view)
    yield conn
    conn.close()


def rows(conn, sql: str, params=()) -> list[dict]:
    cur = conn.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def test_general_ledger_names_accounts_contacts_sources_and_tracking(ledger):
    gl = {r["journal_line_id"]: r for r in rows(ledger, "SELECT * FROM ledger.general_ledger")}
    assert "j6-0" not in gl and len(gl) == 10  # the deleted journal is left out
    sale = gl["j1-1"]
    assert (sale["account_code"], sale["account_name"], sale["account_class"]) == ("200", "Sales", "REVENUE")
    assert (sale["source_document"], sale["source_number"], sale["contact_id"], sale["contact_name"]) == (
        "invoice", "INV-001", "c1", "Current Name Ltd")
    assert (sale["debit"], sale["credit"]) == (0, 100)
    # Slots by category name: Department is tracking_1 although the line lists Region first.
    assert (sale["tracking_1_name"], sale["tracking_1_option"]) == ("Department", "Admin")
    assert (sale["tracking_2_name"], sale["tracking_2_option"]) == ("Region", "North")
    assert (gl["j3-0"]["tracking_1_name"], gl["j3-0"]["tracking_1_option"], gl["j3-0"]["tracking_2_name"]) == (
        "Department", "Sales", None)
    assert (gl["j2-0"]["source_document"], gl["j2-0"]["contact_id"]) == ("payment", "c1")  # via the payment's invoice
    assert (gl["j3-1"]["contact_name"], gl["j3-1"]["source_number"]) == ("Landlord", "Rent April")
    assert gl["j5-0"]["source_document"] == "bank_transaction" and gl["j5-0"]["contact_id"] is None  # not synced
    assert sum(r["net_amount"] for r in gl.values()) == 0


def test_trial_balance_rolls_earlier_years_profit_into_retained_earnings(ledger):
    tb = rows(ledger, "SELECT month_end, account_id, movement, balance, debit, credit FROM ledger.trial_balance")
    by = {(r["month_end"], r["account_id"]): r for r in tb}
    feb, mar, apr = date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)
    assert {a: by[(feb, a)]["balance"] for a in (BANK, AR, SALES)} == {BANK: 60, AR: 40, SALES: -100}
    assert (by[(mar, SALES)]["movement"], by[(mar, SALES)]["balance"]) == (0, -100)  # a quiet month is still there
    assert (mar, RE) not in by  # nothing to show yet: same financial year
    # April starts a new financial year (it ends 31 March): sales restart, last year's profit moves.
    assert (by[(apr, SALES)]["balance"], by[(apr, RE)]["balance"], by[(apr, BANK)]["balance"]) == (-40, -100, 100)
    assert (by[(apr, RE)]["debit"], by[(apr, RE)]["credit"]) == (0, 100)
    assert (apr, RENT) not in by  # voided within the month: no movement, no balance
    sums = rows(ledger, "SELECT month_end, sum(balance) AS s FROM ledger.trial_balance GROUP BY 1")
    assert len(sums) >= 3 and all(r["s"] == 0 for r in sums)


@pytest.mark.parametrize("fy_month,fy_day,day,start", [
    (3, 31, "2026-03-31", "2025-04-01"), (3, 31, "2026-04-01", "2026-04-01"), (12, 31, "2026-06-30", "2026-01-01"),
    (2, 31, "2024-02-29", "2023-03-01"), (2, 31, "2024-03-01", "2024-03-01"), (6, 15, "2026-06-16", "2026-06-16"),
])
def test_financial_year_start(ledger, fy_month, fy_day, day, start):
    sql = f"SELECT {fy_start_sql('d')} FROM (SELECT DATE '{day}' AS d, {fy_month} AS fy_month, {fy_day} AS fy_day) f"
    assert ledger.execute(sql).fetchone()[0] == date.fromisoformat(start)


def test_profit_and_loss_and_cash_movements(ledger):
    pl = {(r["month_start"], r["account_id"]): r for r in rows(ledger, "SELECT * FROM ledger.profit_and_loss_monthly")}
    feb_sales = pl[(date(2026, 2, 1), SALES)]
    assert (feb_sales["amount"], feb_sales["profit"], feb_sales["net_amount"], feb_sales["section"]) == (
        100, 100, -100, "Income")
    april_rent = pl[(date(2026, 4, 1), RENT)]
    assert (april_rent["amount"], april_rent["section"]) == (0, "Operating Expenses")
    assert {a for _, a in pl} == {SALES, RENT}
    cash = {r["month_start"]: r for r in rows(ledger, "SELECT * FROM ledger.cash_movements WHERE account_id = ?",
                                              [BANK])}
    feb, mar, apr = cash[date(2026, 2, 1)], cash[date(2026, 3, 1)], cash[date(2026, 4, 1)]
    assert (feb["opening_balance"], feb["received"], feb["spent"], feb["closing_balance"]) == (0, 60, 0, 60)
    assert (mar["opening_balance"], mar["net_movement"], mar["closing_balance"]) == (60, 0, 60)
    # The rent paid and voided on the same day nets to nothing rather than 30 in and 30 out.
    assert (apr["received"], apr["spent"], apr["closing_balance"], apr["account_code"]) == (40, 0, 100, "090")


def test_ageing_buckets_and_what_counts_as_open(ledger):
    as_of = date(2026, 11, 1)
    docs = [  # (id, type, status, date, due date, amount due, currency, rate, deleted)
        ("i1", "ACCREC", "AUTHORISED", "2026-10-01", "2026-11-01", "1", "NZD", "1", None),  # due today: current
        ("i2", "ACCREC", "AUTHORISED", "2026-09-01", "2026-10-31", "2", "NZD", "1", None),  # 1 day
        ("i3", "ACCREC", "AUTHORISED", "2026-09-01", "2026-10-02", "4", "NZD", "1", None),  # 30 days
        ("i4", "ACCREC", "AUTHORISED", "2026-09-01", "2026-10-01", "8", "NZD", "1", None),  # 31 days
        ("i5", "ACCREC", "AUTHORISED", "2026-07-01", "2026-08-03", "16", "NZD", "1", None),  # 90 days
        ("i6", "ACCREC", "AUTHORISED", "2026-07-01", "2026-08-02", "32", "NZD", "1", None),  # 91 days
        ("i7", "ACCREC", "DRAFT", "2026-10-01", "2026-10-01", "64", "NZD", "1", None),
        ("i8", "ACCREC", "PAID", "2026-10-01", "2026-10-01", "0", "NZD", "1", None),
        ("i9", "ACCREC", "AUTHORISED", "2026-10-01", "2026-10-01", "128", "NZD", "1", "2026-10-05"),
        ("i10", "ACCREC", "AUTHORISED", "2026-11-02", "2026-12-01", "256", "NZD", "1", None),  # dated later
        ("i11", "ACCPAY", "AUTHORISED", "2026-10-01", "2026-10-20", "512", "NZD", "1", None),
        ("i12", "ACCREC", "AUTHORISED", "2026-10-01", "2026-12-01", "50", "EUR", "0.5", None),
    ]
    for iid, kind, status, day, due, amount, currency, rate, deleted in docs:
        insert(ledger, "invoices", tenant_id=T, invoice_id=iid, type=kind, status=status, date=day, due_date=due,
               amount_due=Decimal(amount), currency_code=currency, currency_rate=Decimal(rate), contact_id="c1",
               _deleted_at=deleted)
    ar = {r["currency_code"]: r for r in rows(ledger, "SELECT * FROM ledger.receivables_ageing_at(DATE '2026-11-01')")}
    nzd = ar["NZD"]
    assert (nzd["as_of"], nzd["contact_name"], nzd["documents"]) == (as_of, "Current Name Ltd", 6)
    assert [nzd[c] for c in ("due_current", "due_1_30", "due_31_60", "due_61_90", "due_over_90")] == [1, 6, 8, 16, 32]
    assert nzd["total_due"] == nzd["total_due_base"] == 63
    assert (ar["EUR"]["due_current"], ar["EUR"]["total_due"], ar["EUR"]["total_due_base"]) == (50, 50, 100)
    ap = rows(ledger, "SELECT * FROM ledger.payables_ageing_at(DATE '2026-11-01')")
    assert [(r["due_1_30"], r["total_due"]) for r in ap] == [(512, 512)]
    today = rows(ledger, "SELECT DISTINCT as_of FROM ledger.receivables_ageing")
    assert [r["as_of"] for r in today] == [ledger.execute("SELECT current_date").fetchone()[0]]


def test_every_source_type_of_the_spec_maps_to_at_most_one_table():
    types = [t for ts in SOURCE_DOCUMENTS.values() for t in ts]
    assert len(types) == len(set(types))
    assert {"ACCREC", "ACCPAY", "CASHREC", "TRANSFER", "MANJOURNAL", "ARPREPAYMENT"} <= set(types)


# ----------------------------------------------------------------------------- end to end


def _fresh(api: Api, report: str, call) -> list[dict]:
    resp = api.get(f"Reports/{report}", **call.params)
    assert resp.status_code == 200, resp.text
    body = json.loads(resp.content, parse_float=Decimal)["Reports"][0]
    return flatten_report(body, call, tenant_id=api.tenant_id)


def _num(v) -> Decimal:
    return Decimal(0) if v is None else Decimal(v)


def check_ledger(sb, db: Path) -> None:
    today = sb.clock.now().date()
    latest = month_ends(today, 1)[0]
    truth = sb.ground_truth()
    conn = open_warehouse(db, read_only=True)
    try:
        unbalanced = rows(conn, "SELECT tenant_id, month_end, sum(balance) AS s FROM ledger.trial_balance "
                                "GROUP BY ALL HAVING sum(balance) <> 0")
        assert not unbalanced, unbalanced[:3]
        for tenant in sb.tenant_ids:
            api = Api(sb, tenant)
            # Trial balance at the latest month end == Xero's TrialBalance for that date, account by account.
            call = plan_calls(REPORTS_BY_NAME["trialbalance"], today=today, months_back=1)[0]
            report: dict[str, dict[str, Decimal]] = {}
            for r in _fresh(api, "TrialBalance", call):
                if r["account_id"]:
                    report.setdefault(r["account_id"], {})[r["column_label"]] = _num(r["value"])
            want = {a: (v["YTD Debit"] - v["YTD Credit"], v["Debit"] - v["Credit"]) for a, v in report.items()}
            got = {r["account_id"]: (r["balance"], r["movement"]) for r in rows(
                conn, "SELECT * FROM ledger.trial_balance WHERE tenant_id = ? AND month_end = ?", [tenant, latest])}
            assert got == want and len(got) > 5
            # Profit and loss by month == Xero's ProfitAndLoss (a call per month).
            pl_calls = plan_calls(REPORTS_BY_NAME["profitandloss"], today=today)
            want_pl = {(r["account_id"], r["period_start"]): r["value"] for call in pl_calls
                       for r in _fresh(api, "ProfitAndLoss", call) if r["account_id"] and r["value"]}
            got_pl = {(r["account_id"], r["month_start"]): r["amount"] for r in rows(
                conn, "SELECT * FROM ledger.profit_and_loss_monthly WHERE tenant_id = ? AND amount <> 0 "
                      "AND month_start >= ? AND month_end <= ?",
                [tenant, pl_calls[-1].span(1).start, pl_calls[0].span(1).end])}
            assert got_pl == want_pl and want_pl
            # Cash movements of the last complete month == Xero's BankSummary for it.
            start, end = months(today, 2)[1]
            month = ReportCall(REPORTS_BY_NAME["banksummary"], {"fromDate": start.isoformat(),
                                                                "toDate": end.isoformat()}, end)
            bank: dict[str, dict[str, Decimal]] = {}
            for r in _fresh(api, "BankSummary", month):
                if r["account_id"]:
                    bank.setdefault(r["account_id"], {})[r["column_label"]] = _num(r["value"])
            assert bank
            got_cash = {r["account_id"]: (r["opening_balance"], r["received"], r["spent"], r["closing_balance"])
                        for r in rows(conn, "SELECT * FROM ledger.cash_movements WHERE tenant_id = ? "
                                            "AND month_start = ?", [tenant, start])}
            for account, v in bank.items():
                expect = (v["Opening Balance"], v["Cash Received"], v["Cash Spent"], v["Closing Balance"])
                assert got_cash.get(account, (0, 0, 0, 0)) == expect, account
            # Ageing totals == what the open invoices owe; per customer == Xero's aged report.
            invoices = truth[tenant]["Invoices"]
            for kind, view in (("ACCREC", "receivables_ageing"), ("ACCPAY", "payables_ageing")):
                owed = sum((i["AmountDue"] for i in invoices if i["Type"] == kind and i["Status"] == "AUTHORISED"),
                           Decimal(0))
                total = conn.execute(f"SELECT coalesce(sum(total_due), 0) FROM ledger.{view} WHERE tenant_id = ?",
                                     [tenant]).fetchone()[0]
                assert total == owed and owed > 0
            closing = {r[0]: r[1] for r in conn.execute(
                "SELECT contact_id, value FROM xero.report_aged_receivables WHERE tenant_id = ? "
                "AND row_title = 'Closing Balance' AND column_label = 'Due'", [tenant]).fetchall()}
            ageing = {r["contact_id"]: r for r in rows(
                conn, "SELECT contact_id, sum(total_due_base) AS due, sum(documents) AS n "
                      "FROM ledger.receivables_ageing WHERE tenant_id = ? GROUP BY 1", [tenant])}
            assert closing.keys() == ageing.keys() and closing
            for contact, due in closing.items():  # base amounts may differ by a cent per foreign document
                assert abs(ageing[contact]["due"] - due) <= Decimal("0.01") * ageing[contact]["n"], contact
            # The general ledger has every journal line once, and sales journals name the invoice's contact.
            journals = truth[tenant]["Journals"]
            assert conn.execute("SELECT count(*) FROM ledger.general_ledger WHERE tenant_id = ?",
                                [tenant]).fetchone()[0] == sum(len(j["JournalLines"]) for j in journals)
            contact_of = {i["InvoiceID"]: i["Contact"]["ContactID"] for i in invoices}
            sales = rows(conn, "SELECT DISTINCT source_id, contact_id FROM ledger.general_ledger "
                               "WHERE tenant_id = ? AND source_type = 'ACCREC'", [tenant])
            assert sales and all(r["contact_id"] == contact_of[r["source_id"]] for r in sales)
            unmatched = rows(conn, "SELECT DISTINCT source_type FROM ledger.general_ledger WHERE tenant_id = ? "
                                   "AND source_number IS NULL AND contact_id IS NULL AND source_type IN "
                                   "('ACCREC', 'ACCPAY', 'ACCRECCREDIT', 'ACCPAYCREDIT', 'ACCRECPAYMENT')", [tenant])
            assert not unmatched
    finally:
        conn.close()


@pytest.mark.heavy(80)
def test_report_tables_and_ledger_views_agree_with_xero_after_a_full_and_an_incremental_sync(world):  # noqa: F811
    sb, instance, tmp = world
    db = tmp / "xero.duckdb"
    first = full_sync(sb, instance, tmp)
    calls = sb.stats()["calls"]
    for tenant in sb.tenant_ids:  # the sandbox saw exactly the planned report calls
        assert calls[tenant]["Reports/TrialBalance"] == 12 and calls[tenant]["Reports/BankSummary"] == 1
        assert calls[tenant]["Reports/ProfitAndLoss"] == 12 and calls[tenant]["Reports/BalanceSheet"] == 1
    assert_reports_match_fresh_reads(sb, db, first)
    check_ledger(sb, db)
    assert sb.simulate_day()
    second = full_sync(sb, instance, tmp)
    assert {o.metadata.get("sync_mode") for o in second.outcomes if o.table == "invoices"} == {"incremental"}
    assert_reports_match_fresh_reads(sb, db, second)
    check_ledger(sb, db)


def test_every_column_of_every_ledger_view_is_described(tmp_path):
    """What the UI shows beside each view column (the view assets' column schemas)."""
    conn = open_warehouse(tmp_path / "empty.duckdb")
    try:
        for view in LEDGER_VIEWS:
            create_view(conn, view)
            docs = ledger_column_docs(view.name)
            undescribed = [name for name, _ in view_columns(conn, view.name) if not docs.get(name)]
            assert not undescribed, (view.name, undescribed)
    finally:
        conn.close()
