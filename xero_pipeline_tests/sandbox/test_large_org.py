"""A very large organisation in small: generated history journals before the seeded books,
served by offset over HTTP, with reports and a compact ground truth that agree with them."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest
import requests

from xero_pipeline.sandbox import Sandbox
from xero_pipeline.sandbox.reports.rows import PROFIT_AND_LOSS_CLASSES as PROFIT_AND_LOSS
from xero_pipeline.sandbox.reports.rows import fy_start
from xero_pipeline.xero.dates import parse_date, parse_instant
from xero_pipeline_tests.conftest import Api

HISTORY = 3_000


def parsed(resp: requests.Response) -> dict:
    assert resp.status_code == 200, resp.text
    return json.loads(resp.content, parse_float=Decimal)


@pytest.fixture(scope="module")
def large() -> Iterator[Sandbox]:
    with Sandbox(tenants=1, scale=0.02, seed=5, limits=False, history_journals=HISTORY) as sb:
        yield sb


@pytest.fixture(scope="module")
def walked(large: Sandbox) -> list[dict]:
    """Every journal, read as a client does: offset = the last JournalNumber read."""
    api, out, offset, sizes = Api(large), [], 0, []
    while True:
        page = parsed(api.get("Journals", offset=offset))["Journals"]
        sizes.append(len(page))
        if not page:
            break
        out += page
        offset = page[-1]["JournalNumber"]
    assert all(s == 100 for s in sizes[:-2]) and sizes[-1] == 0
    return out


def test_history_journals_page_by_offset_without_gaps_and_balance(large: Sandbox, walked: list[dict]) -> None:
    tid = large.tenant_ids[0]
    seeded = len(large.ground_truth(tenant_id=tid)[tid]["Journals"])  # the history is not in it
    assert seeded > 0 and len(walked) == HISTORY + seeded
    assert [j["JournalNumber"] for j in walked] == list(range(1, HISTORY + seeded + 1))
    created = [parse_instant(j["CreatedDateUTC"]) for j in walked]
    assert all(a < b for a, b in zip(created, created[1:], strict=False))  # number order is creation order
    days = [parse_date(j["JournalDate"]) for j in walked[:HISTORY]]
    assert days == sorted(days) and (days[-1] - days[0]).days > 3 * 365  # several past years
    for j in walked:
        nets = [ln["NetAmount"] for ln in j["JournalLines"]]
        assert sum(nets) == 0 and all(n == n.quantize(Decimal("0.01")) for n in nets)
    for j in walked[:HISTORY]:
        assert 2 <= len(j["JournalLines"]) <= 4 and j["SourceType"] and j["SourceID"]
    assert len({j["JournalID"] for j in walked}) == len(walked)


def test_summary_and_stream_equal_the_offset_walk(large: Sandbox, walked: list[dict]) -> None:
    tid = large.tenant_ids[0]
    net: dict[str, Decimal] = defaultdict(Decimal)
    for j in walked:
        for ln in j["JournalLines"]:
            net[ln["AccountCode"]] += ln["NetAmount"]
    summary = large.journal_summary(tid)
    assert summary == {
        "count": len(walked), "first_number": 1, "last_number": walked[-1]["JournalNumber"],
        "number_sum": sum(j["JournalNumber"] for j in walked),
        "lines": sum(len(j["JournalLines"]) for j in walked),
        "net_by_account_code": dict(sorted(net.items())),
    }
    streamed = large.iter_journals(tid)
    for read, truth in zip(walked, streamed, strict=True):
        assert read == truth


def test_history_journals_by_if_modified_since_and_singly(large: Sandbox, walked: list[dict]) -> None:
    api = Api(large)
    pivot = walked[1234]
    since = parse_instant(pivot["CreatedDateUTC"]).replace(microsecond=0)
    page = parsed(api.get("Journals", headers={"If-Modified-Since": since.isoformat()}))["Journals"]
    expected = [j for j in walked if parse_instant(j["CreatedDateUTC"]) >= since][:100]
    assert page == expected and page[0]["JournalNumber"] <= pivot["JournalNumber"]
    one = parsed(api.get(f"Journals/{pivot['JournalNumber']}"))["Journals"]
    by_id = parsed(api.get(f"Journals/{pivot['JournalID']}"))["Journals"]
    without_source = {k: v for k, v in pivot.items() if k not in ("SourceID", "SourceType")}
    assert one == by_id == [without_source]
    assert api.get(f"Journals/{len(walked) + 1}").status_code == 404


def test_trial_balance_equals_every_journal_line_history_included(large: Sandbox, walked: list[dict]) -> None:
    api = Api(large)
    org = parsed(api.get("Organisation"))["Organisations"][0]
    classes = {a["AccountID"]: a for a in parsed(api.get("Accounts"))["Accounts"]}
    as_at = max(parse_date(j["JournalDate"]) for j in walked)
    start = fy_start({"FinancialYearEndDay": org["FinancialYearEndDay"],
                      "FinancialYearEndMonth": org["FinancialYearEndMonth"]}, as_at)
    cumulative: dict[str, Decimal] = defaultdict(Decimal)
    this_year: dict[str, Decimal] = defaultdict(Decimal)
    history_only: dict[str, Decimal] = defaultdict(Decimal)
    for j in walked:
        day = parse_date(j["JournalDate"])
        for ln in j["JournalLines"]:
            cumulative[ln["AccountID"]] += ln["NetAmount"]
            if day >= start:
                this_year[ln["AccountID"]] += ln["NetAmount"]
            if j["JournalNumber"] <= HISTORY:
                history_only[ln["AccountID"]] += ln["NetAmount"]
    expected = {}
    retained = next(a for a, r in classes.items() if r.get("SystemAccount") == "RETAINEDEARNINGS")
    for account, amount in cumulative.items():
        if classes[account]["Class"] in PROFIT_AND_LOSS:
            expected[account] = this_year[account]
            expected[retained] = expected.get(retained, Decimal(0)) + amount - this_year[account]
        else:
            expected[account] = expected.get(account, Decimal(0)) + amount
    report = parsed(api.get("Reports/TrialBalance", date=as_at.isoformat()))["Reports"][0]
    shown = {}
    for section in report["Rows"]:
        for row in section.get("Rows") or []:
            attrs = row["Cells"][0].get("Attributes") or []
            if attrs:
                values = [c["Value"] for c in row["Cells"]]
                shown[attrs[0]["Value"]] = Decimal(values[3] or 0) - Decimal(values[4] or 0)
    assert shown == {a: v for a, v in expected.items() if v}
    assert any(history_only.values())  # the history moved the balances the report shows


def test_bank_summary_inside_the_history(large: Sandbox, walked: list[dict]) -> None:
    api = Api(large)
    first = parse_date(walked[0]["JournalDate"])
    since, until = first + timedelta(days=400), first + timedelta(days=500)
    report = parsed(api.get("Reports/BankSummary", fromDate=since.isoformat(), toDate=until.isoformat()))
    opening: dict[str, Decimal] = defaultdict(Decimal)
    closing: dict[str, Decimal] = defaultdict(Decimal)
    for j in walked:
        day = parse_date(j["JournalDate"])
        for ln in j["JournalLines"]:
            if ln["AccountType"] == "BANK":
                if day < since:
                    opening[ln["AccountID"]] += ln["NetAmount"]
                if day <= until:
                    closing[ln["AccountID"]] += ln["NetAmount"]
    rows = [r for s in report["Reports"][0]["Rows"] for r in s.get("Rows") or [] if r["RowType"] == "Row"]
    seen = 0
    for row in rows:
        account = row["Cells"][0]["Attributes"][0]["Value"]
        o, received, spent, c = (Decimal(x["Value"]) for x in row["Cells"][1:])
        assert (o, c) == (opening[account], closing[account]) and o + received - spent == c
        seen += bool(o or c)
    assert seen and until < date(2025, 1, 1)
