"""The sandbox's books: deterministic seed, coherent ledger, reports, daily activity."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from xero_pipeline.registry import OBJECTS
from xero_pipeline.registry.fields import field_kinds
from xero_pipeline.sandbox.books.activity import simulate_day
from xero_pipeline.sandbox.books.chart import to_base
from xero_pipeline.sandbox.books.edits import edit_records
from xero_pipeline.sandbox.books.ledger import trial_balance
from xero_pipeline.sandbox.books.store import EPOCH, SandboxClock, TenantBooks
from xero_pipeline.sandbox.reports.build import build_report
from xero_pipeline.sandbox.reports.rows import fy_start
from xero_pipeline.sandbox.seeding.tenants import build_tenants, connections_for

CENT = Decimal("0.01")


@pytest.fixture(scope="module")
def tenants() -> list[TenantBooks]:
    return build_tenants(count=2, scale=0.03, seed=11, clock=SandboxClock())


def fresh(scale: float = 0.02, count: int = 1, seed: int = 5) -> list[TenantBooks]:
    return build_tenants(count=count, scale=scale, seed=seed, clock=SandboxClock())


def journals_of(books: TenantBooks, source_id: str) -> list[dict]:
    return sorted((j for j in books.records("Journals") if j["SourceID"] == source_id),
                  key=lambda j: j["JournalNumber"])


def net_by_account(journals: list[dict]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = defaultdict(Decimal)
    for j in journals:
        for ln in j["JournalLines"]:
            out[ln["AccountID"]] += ln["NetAmount"]
    return out


def report_rows(report: dict) -> list[dict]:
    out = []
    for r in report["Rows"]:
        out.append(r)
        out.extend(r.get("Rows", []))
    return out


# --- seed -----------------------------------------------------------------------------------


def test_same_seed_gives_identical_books_and_another_seed_does_not():
    a, b, c = fresh(seed=5), fresh(seed=5), fresh(seed=6)
    assert a[0].collections == b[0].collections
    assert a[0].next_journal_number == b[0].next_journal_number
    assert a[0].collections["Invoices"].keys() != c[0].collections["Invoices"].keys()
    assert connections_for(a) == connections_for(b)


def test_every_collection_has_records_even_at_tiny_scale():
    for books in fresh(scale=0.01, count=2):
        empty = [o.path for o in OBJECTS if not books.records(o.path)]
        assert not empty, f"{books.name}: empty {empty}"


def test_tenants_are_distinct_organisations(tenants):
    orgs = [t.records("Organisation")[0] for t in tenants]
    assert [o["BaseCurrency"] for o in orgs] == ["NZD", "GBP"]
    assert [o["CountryCode"] for o in orgs] == ["NZ", "GB"]
    assert [o["OrganisationID"] for o in orgs] == [t.tenant_id for t in tenants]
    assert all(o["OrganisationStatus"] == "ACTIVE" and o["PeriodLockDate"] < EPOCH.date() for o in orgs)
    names = [t.name for t in build_tenants(count=5, scale=0.01, seed=1, clock=SandboxClock())]
    assert names == ["Demo Company (NZ)", "Demo Company (UK)", "Demo Company (AU)", "Demo Company (US)",
                     "Demo Company (NZ) 2"]


def _shape_errors(value, kind: str, where: str, errors: list[str]) -> None:
    expected = {"msdate": lambda v: isinstance(v, date) and not isinstance(v, datetime),
                "msdatetime": lambda v: isinstance(v, datetime) and v.tzinfo is not None,
                "decimal": lambda v: isinstance(v, Decimal),
                "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
                "boolean": lambda v: isinstance(v, bool), "string": lambda v: isinstance(v, str)}
    if kind in expected:
        if not expected[kind](value):
            errors.append(f"{where}: {type(value).__name__} is not {kind}")
    elif kind.startswith("object:"):
        _record_errors(value, kind[7:], where, errors)
    elif kind.startswith("array:"):
        for v in value:
            _shape_errors(v, kind[6:] if kind[6:] in expected else f"object:{kind[6:]}", where, errors)


def _record_errors(record: dict, schema: str, where: str, errors: list[str]) -> None:
    kinds = field_kinds(schema)
    for name, value in record.items():
        if name not in kinds:
            errors.append(f"{where}.{name}: not a field of {schema}")
        else:
            _shape_errors(value, kinds[name], f"{where}.{name}", errors)


def test_records_use_spec_field_names_and_value_types(tenants):
    errors: list[str] = []
    for books in tenants:
        for o in OBJECTS:
            for rec in books.records(o.path):
                _record_errors(rec, o.schema, o.path, errors)
    assert not errors, sorted(set(errors))[:20]


def test_history_covers_xero_statuses_and_features(tenants):
    for books in tenants:
        def statuses(path: str, field: str = "Status") -> set[str]:
            return {r[field] for r in books.records(path)}
        lifecycle = {"DRAFT", "SUBMITTED", "AUTHORISED", "PAID", "VOIDED", "DELETED"}
        assert lifecycle <= statuses("Invoices")
        assert lifecycle <= statuses("CreditNotes")
        assert {"DRAFT", "POSTED", "VOIDED", "DELETED", "ARCHIVED"} <= statuses("ManualJournals")
        assert {"AUTHORISED", "DELETED", "VOIDED"} <= statuses("BankTransactions")
        assert {"AUTHORISED", "DELETED"} <= statuses("BankTransfers") & statuses("Payments") & statuses(
            "BatchPayments"
        )
        assert {"AUTHORISED", "PAID", "VOIDED"} <= statuses("Overpayments") & statuses("Prepayments")
        assert {"SUBMITTED", "AUTHORISED", "PAID", "VOIDED", "DELETED"} <= statuses("ExpenseClaims")
        assert {"ACTIVE", "ARCHIVED"} <= statuses("Contacts", "ContactStatus") & statuses("Accounts")
        assert "ARCHIVED" in statuses("TrackingCategories") | statuses("TaxRates")
        assert any(
            o["Status"] == "ARCHIVED" for c in books.records("TrackingCategories") for o in c["Options"]
        )
        invoices = books.records("Invoices")
        assert {"ACCREC", "ACCPAY"} == {i["Type"] for i in invoices}
        foreign = [i for i in invoices if i["CurrencyCode"] != books.base_currency]
        assert foreign and all(
            i["CurrencyRate"] != 1 and i["CurrencyRate"].as_tuple().exponent == -6 for i in foreign
        )
        assert any(ln["Tracking"] for i in invoices for ln in i["LineItems"])
        for path in ("CreditNotes", "Overpayments", "Prepayments"):
            assert any(r["Allocations"] for r in books.records(path)), path
        assert any(len(i["LineItems"]) >= 3 for i in invoices)
        assert any(p.get("BatchPaymentID") for p in books.records("Payments"))
        assert any(len(g["Contacts"]) >= 1 for g in books.records("ContactGroups"))
        assert any(t.get("OverpaymentID") for t in books.records("BankTransactions"))


def test_seeded_timestamps_are_history_before_epoch(tenants):
    for books in tenants:
        for o in OBJECTS:
            if o.updated_field:
                stamps = [r[o.updated_field] for r in books.records(o.path) if o.updated_field in r]
                assert all(EPOCH - timedelta(days=600) < s < EPOCH for s in stamps), o.path
        span = [j["CreatedDateUTC"] for j in books.records("Journals")]
        assert max(span) - min(span) > timedelta(days=500)


# --- money rules ----------------------------------------------------------------------------


def _round(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def test_invoice_lines_tax_and_totals_follow_xero_rounding(tenants):
    for books in tenants:
        rates = {t["TaxType"]: t["EffectiveRate"] for t in books.records("TaxRates")}
        for inv in books.records("Invoices"):
            for ln in inv["LineItems"]:
                gross = ln["Quantity"] * ln["UnitAmount"] * (100 - ln.get("DiscountRate", 0)) / 100
                assert ln["LineAmount"] == _round(gross)
                assert ln["UnitAmount"].as_tuple().exponent == -4
                rate = Decimal(0) if inv["LineAmountTypes"] == "NoTax" else rates[ln["TaxType"]]
                if inv["LineAmountTypes"] == "Inclusive":
                    assert ln["TaxAmount"] == _round(ln["LineAmount"] * rate / (100 + rate))
                else:
                    assert ln["TaxAmount"] == _round(ln["LineAmount"] * rate / 100)
            lines = sum(ln["LineAmount"] for ln in inv["LineItems"])
            tax = sum(ln["TaxAmount"] for ln in inv["LineItems"])
            assert inv["TotalTax"] == tax
            assert inv["Total"] == inv["SubTotal"] + inv["TotalTax"]
            assert inv["Total"] == (lines if inv["LineAmountTypes"] == "Inclusive" else lines + tax)


def test_amount_due_follows_payments_and_credits(tenants):
    for books in tenants:
        paid: dict[str, Decimal] = defaultdict(Decimal)
        for p in books.records("Payments"):
            if p["Status"] == "AUTHORISED" and "Invoice" in p:
                paid[p["Invoice"]["InvoiceID"]] += p["Amount"]
        for inv in books.records("Invoices"):
            if inv["Status"] in ("VOIDED", "DELETED"):
                assert inv["AmountDue"] == 0 and inv["AmountPaid"] == 0
                continue
            assert inv["AmountPaid"] == paid[inv["InvoiceID"]] == sum(p["Amount"] for p in inv["Payments"])
            credited = sum(
                c["AppliedAmount"] for k in ("CreditNotes", "Overpayments", "Prepayments") for c in inv[k]
            )
            assert inv["AmountCredited"] == credited
            assert inv["AmountDue"] == inv["Total"] - inv["AmountPaid"] - inv["AmountCredited"]
            assert (inv["Status"] == "PAID") == (
                inv["AmountDue"] == 0 and inv["Status"] not in ("DRAFT", "SUBMITTED")
            )
            assert ("FullyPaidOnDate" in inv) == (inv["Status"] == "PAID")
        for cn in books.records("CreditNotes"):
            if cn["Status"] in ("AUTHORISED", "PAID"):
                used = sum(a["Amount"] for a in cn["Allocations"]) + sum(p["Amount"] for p in cn["Payments"])
                assert cn["RemainingCredit"] == cn["Total"] - used
                assert (cn["Status"] == "PAID") == (cn["RemainingCredit"] == 0)


# --- ledger ---------------------------------------------------------------------------------


def test_every_journal_balances_and_numbers_follow_time(tenants):
    for books in tenants:
        journals = sorted(books.records("Journals"), key=lambda j: j["JournalNumber"])
        assert [j["JournalNumber"] for j in journals] == list(range(1, len(journals) + 1))
        assert books.next_journal_number == len(journals) + 1
        for before, after in zip(journals, journals[1:]):
            assert before["CreatedDateUTC"] <= after["CreatedDateUTC"]
        for j in journals:
            assert sum(ln["NetAmount"] for ln in j["JournalLines"]) == 0, j["JournalNumber"]
            assert all(ln["GrossAmount"] == ln["NetAmount"] + ln["TaxAmount"] for ln in j["JournalLines"])
        assert sum(trial_balance(books).values()) == 0


def test_posting_follows_document_status(tenants):
    for books in tenants:
        for inv in books.records("Invoices"):
            js = journals_of(books, inv["InvoiceID"])
            if inv["Status"] in ("DRAFT", "SUBMITTED", "DELETED"):
                assert not js
            elif inv["Status"] == "VOIDED":
                assert len(js) >= 2 and len(js) % 2 == 0
                assert not any(net_by_account(js).values())
                last, prior = js[-1]["JournalLines"], js[-2]["JournalLines"]
                assert [ln["NetAmount"] for ln in last] == [-ln["NetAmount"] for ln in prior]
                assert js[-1]["JournalDate"] == js[-2]["JournalDate"]
                assert js[-1]["CreatedDateUTC"] > js[-2]["CreatedDateUTC"]
            else:
                control = net_by_account(js)
                assert len(js) % 2 == 1 and any(control.values())
        deleted = [p for p in books.records("Payments") if p["Status"] == "DELETED"]
        assert deleted
        for p in deleted:
            js = journals_of(books, p["PaymentID"])
            assert len(js) == 2 and not any(net_by_account(js).values())


# --- reports --------------------------------------------------------------------------------


def test_trial_balance_report_equals_the_journals(tenants):
    for books in tenants:
        as_at = date(2026, 10, 31)
        report = build_report(books, "TrialBalance", {"date": as_at.isoformat()})
        assert (
            report["ReportType"] == "TrialBalance" and report["ReportTitles"][-1] == "As at 31 October 2026"
        )
        accounts = {a["AccountID"]: a for a in books.records("Accounts")}
        ledger = trial_balance(books, upto=as_at)
        start = fy_start(books.records("Organisation")[0], as_at)
        this_year: dict[str, Decimal] = defaultdict(Decimal)
        for j in books.records("Journals"):
            if start <= j["JournalDate"] <= as_at:
                for ln in j["JournalLines"]:
                    this_year[ln["AccountID"]] += ln["NetAmount"]
        shown = {}
        for r in report_rows(report):
            if r["RowType"] == "Row":
                values = [c["Value"] for c in r["Cells"]]
                account_id = r["Cells"][0]["Attributes"][0]["Value"]
                shown[account_id] = Decimal(values[3] or 0) - Decimal(values[4] or 0)
            if r["RowType"] == "SummaryRow":
                total = [c["Value"] for c in r["Cells"]]
        assert total[1] == total[2] and total[3] == total[4]
        earlier_profit = sum(
            v - this_year[k] for k, v in ledger.items() if accounts[k]["Class"] in ("REVENUE", "EXPENSE")
        )
        for account_id, amount in shown.items():
            a = accounts[account_id]
            if a["Class"] in ("REVENUE", "EXPENSE"):
                assert amount == this_year[account_id], a["Name"]
            elif a.get("SystemAccount") == "RETAINEDEARNINGS":
                assert amount == ledger.get(account_id, 0) + earlier_profit
            else:
                assert amount == ledger[account_id], a["Name"]
        missing = [accounts[k]["Name"] for k, v in ledger.items() if v and accounts[k]["Class"] not in
                   ("REVENUE", "EXPENSE") and k not in shown]
        assert not missing


def test_balance_sheet_bank_summary_and_aged_reports_agree_with_the_books(tenants):
    books = tenants[0]
    bs = build_report(books, "BalanceSheet", {"date": "2026-10-31", "periods": "2", "timeframe": "MONTH"})
    cells = {
        r["Cells"][0]["Value"]: [c["Value"] for c in r["Cells"][1:]] for r in report_rows(bs) if "Cells" in r
    }
    assert cells[""] == ["31 Oct 2026", "30 Sep 2026", "31 Aug 2026"]
    assert cells["Net Assets"] == cells["Total Equity"]
    bank = build_report(books, "BankSummary", {"fromDate": "2026-10-01", "toDate": "2026-10-31"})
    ledger = trial_balance(books, upto=date(2026, 10, 31))
    for r in report_rows(bank):
        if r["RowType"] == "Row":
            opening, received, spent, closing = (Decimal(c["Value"]) for c in r["Cells"][1:])
            assert (
                closing
                == opening + received - spent
                == ledger.get(r["Cells"][0]["Attributes"][0]["Value"], 0)
            )
    contact_id = next(i["Contact"]["ContactID"] for i in books.records("Invoices")
                      if i["Type"] == "ACCREC" and i["Status"] == "AUTHORISED")
    aged = build_report(books, "AgedReceivablesByContact", {"contactId": contact_id})
    due = sum(
        to_base(i["AmountDue"], i["CurrencyRate"])
        for i in books.records("Invoices")
        if i["Type"] == "ACCREC" and i["Status"] == "AUTHORISED" and i["Contact"]["ContactID"] == contact_id
    )
    closing = next(r for r in report_rows(aged) if r["RowType"] == "SummaryRow"
                   and r["Cells"][0]["Value"] == "Closing Balance")
    assert Decimal(closing["Cells"][-1]["Value"]) == due > 0
    for name in ("ProfitAndLoss", "ExecutiveSummary", "BudgetSummary", "AgedPayablesByContact"):
        params = {"contactId": contact_id} if name.startswith("Aged") else {}
        rep = build_report(books, name, params)
        values = [c["Value"] for r in report_rows(rep) for c in r.get("Cells", [])]
        assert values and all(isinstance(v, str) for v in values) and "-0.00" not in values


def test_report_errors_are_clear(tenants):
    with pytest.raises(KeyError):
        build_report(tenants[0], "CashFlowForecast", {})
    with pytest.raises(ValueError, match="contactId"):
        build_report(tenants[0], "AgedPayablesByContact", {})
    with pytest.raises(ValueError, match="date"):
        build_report(tenants[0], "TrialBalance", {"date": "31/10/2026"})
    with pytest.raises(ValueError, match="timeframe"):
        build_report(tenants[0], "ProfitAndLoss", {"timeframe": "WEEK"})


# --- daily activity -------------------------------------------------------------------------


def test_a_simulated_day_makes_every_kind_of_change_coherently():
    books = fresh(scale=0.05)[0]
    before = {o.path: {k: dict(r) for k, r in books.collections[o.path].items()} for o in OBJECTS}
    last_journal = books.next_journal_number
    seeded_max = max(r["UpdatedDateUTC"] for r in books.records("Invoices"))
    counts = simulate_day(books, rng=random.Random(3))
    for kind in (
        "invoices_created",
        "drafts_created",
        "drafts_edited",
        "drafts_approved",
        "drafts_deleted",
        "invoices_paid",
        "partial_payments",
        "invoices_voided",
        "invoices_reposted",
        "contacts_archived",
        "items_deleted",
        "bank_transactions_created",
        "bank_transactions_edited",
        "manual_journals",
        "tracking_options_deleted",
        "contact_group_removals",
    ):
        assert counts.get(kind, 0) >= 1, kind
    assert books.clock.now() > EPOCH + timedelta(days=1)
    changed = {k for k, r in books.collections["Invoices"].items() if r != before["Invoices"].get(k)}
    assert len(changed) >= sum(counts[k] for k in ("invoices_created", "drafts_created", "invoices_voided"))
    assert all(books.collections["Invoices"][k]["UpdatedDateUTC"] > seeded_max for k in changed)
    statuses = [(before["Invoices"].get(k, {}).get("Status"), books.collections["Invoices"][k]["Status"])
                for k in changed]
    for transition in (
        ("AUTHORISED", "VOIDED"),
        ("AUTHORISED", "PAID"),
        (None, "DRAFT"),
        (None, "AUTHORISED"),
    ):
        assert transition in statuses, transition
    assert any(old in ("DRAFT", "SUBMITTED") and new == "AUTHORISED" for old, new in statuses)
    assert any(old in ("DRAFT", "SUBMITTED") and new == "DELETED" for old, new in statuses)
    voided = next(
        k for k, (old, new) in zip(changed, statuses, strict=True) if (old, new) == ("AUTHORISED", "VOIDED")
    )
    assert not any(net_by_account(journals_of(books, voided)).values())
    new_journals = [j for j in books.records("Journals") if j["JournalNumber"] >= last_journal]
    assert new_journals and all(j["CreatedDateUTC"] > EPOCH for j in new_journals)
    assert sum(trial_balance(books).values()) == 0
    gone = books.hard_deleted["Items"]
    assert gone and not gone & books.collections["Items"].keys() and gone <= before["Items"].keys()
    archived = [
        k
        for k, c in books.collections["Contacts"].items()
        if c["ContactStatus"] == "ARCHIVED" and before["Contacts"].get(k, {}).get("ContactStatus") == "ACTIVE"
    ]
    assert archived and all(books.collections["Contacts"][k]["UpdatedDateUTC"] > EPOCH for k in archived)
    options_before = {
        o["TrackingOptionID"] for c in before["TrackingCategories"].values() for o in c["Options"]
    }
    options_after = {o["TrackingOptionID"] for c in books.records("TrackingCategories") for o in c["Options"]}
    assert options_before - options_after
    used = {t["TrackingOptionID"] for j in books.records("Journals") for ln in j["JournalLines"]
            for t in ln["TrackingCategories"]}
    assert not (options_before - options_after) & used
    members_before = sum(len(g["Contacts"]) for g in before["ContactGroups"].values())
    assert counts["contact_group_removals"] >= 1 and members_before > 0


def test_tenants_sharing_a_clock_advance_once():
    a, b = fresh(count=2)
    clock = a.clock
    clock.advance(86400)
    start = clock.now()
    simulate_day(a, rng=random.Random(1), advance_clock=False)
    simulate_day(b, rng=random.Random(2), advance_clock=False)
    assert clock.now() - start < timedelta(hours=1)
    assert sum(trial_balance(a).values()) == sum(trial_balance(b).values()) == 0


def test_edit_records_moves_updated_date_with_a_real_change():
    books = fresh()[0]
    before = {k: dict(r) for k, r in books.collections["Invoices"].items()}
    keys = edit_records(books, "Invoices", 5, rng=random.Random(9))
    assert len(set(keys)) == 5
    for k in keys:
        now = books.collections["Invoices"][k]
        assert now["Reference"] != before[k]["Reference"]
        assert now["UpdatedDateUTC"] > before[k]["UpdatedDateUTC"]
    untouched = set(before) - set(keys)
    assert all(books.collections["Invoices"][k] == before[k] for k in untouched)
    phones = {k: c["Phones"][0]["PhoneNumber"] for k, c in books.collections["Contacts"].items()}
    for k in edit_records(books, "Contacts", 2, rng=random.Random(1)):
        assert books.collections["Contacts"][k]["Phones"][0]["PhoneNumber"] != phones[k]
    for o in OBJECTS:
        if o.path != "Journals":
            assert edit_records(books, o.path, 1, rng=random.Random(2))
    with pytest.raises(ValueError):
        edit_records(books, "Journals", 1, rng=random.Random(1))
