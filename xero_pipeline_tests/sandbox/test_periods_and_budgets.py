"""The sandbox serves report periods and budgets as Xero computes and serves them
(facts sheet §7): ProfitAndLoss columns cut to the requested day range, BankSummary's
balances at their own dates, budget lines only by id and balances only for the months
asked."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
import requests

from xero_pipeline.sandbox import Sandbox
from xero_pipeline.xero.dates import parse_date
from xero_pipeline_tests.conftest import Api
from xero_pipeline_tests.journal_truth import CREDIT_SECTIONS, balances, journal_lines, movements


def parsed(resp: requests.Response) -> dict:
    assert resp.status_code == 200, resp.text
    return json.loads(resp.content, parse_float=Decimal)


def month_back(first: date, k: int) -> date:
    index = first.year * 12 + first.month - 1 - k
    return date(index // 12, index % 12 + 1, 1)


def month_last(first: date) -> date:
    return month_back(first, -1) - timedelta(days=1)


def account_cells(report: dict) -> dict[str, list[tuple[str, Decimal]]]:
    """Per account row: (section, value) of each column."""
    out = {}
    for section in report["Rows"]:
        for row in section.get("Rows") or []:
            cells = row["Cells"]
            account = next((a["Value"] for a in cells[0].get("Attributes") or [] if a["Id"] == "account"), None)
            if account:
                out[account] = [(section["Title"], Decimal(c["Value"])) for c in cells[1:]]
    return out


@pytest.mark.parametrize("month,days", [(date(2026, 2, 1), 28), (date(2026, 11, 1), 30), (date(2026, 12, 1), 31)])
def test_profit_and_loss_applies_the_requested_day_range_to_every_earlier_month(
    sandbox: Sandbox, month: date, days: int
) -> None:
    api = Api(sandbox)
    lines = journal_lines(sandbox.ground_truth(tenant_id=api.tenant_id)[api.tenant_id]["Journals"])
    end = month_last(month)
    report = parsed(api.get("Reports/ProfitAndLoss", fromDate=month.isoformat(), toDate=end.isoformat(),
                            periods=11, timeframe="MONTH"))["Reports"][0]
    # Each earlier month: its first `days` days, or all of it when it is shorter.
    firsts = [month_back(month, k) for k in range(12)]
    spans = [(f, min(f + timedelta(days=days - 1), month_last(f))) for f in firsts]
    assert [c["Value"] for c in report["Rows"][0]["Cells"][1:]] == [f"{e.day} {e:%b %Y}" for _, e in spans]
    rows = account_cells(report)
    assert rows
    truncated_differs = False
    for k, (start, last) in enumerate(spans):
        moved = movements(lines, start, last)
        full = movements(lines, start, month_last(start))
        for account, cells in rows.items():
            section, value = cells[k]
            sign = -1 if section in CREDIT_SECTIONS else 1
            assert value == sign * moved.get(account, Decimal(0)), (start, last, section, account)
            truncated_differs |= value != sign * full.get(account, Decimal(0))
    # Only a shorter month cuts the others: then some column must differ from its full month.
    assert truncated_differs == (days < 31)


def test_bank_summary_opens_at_the_start_of_from_date_and_closes_at_the_end_of_to_date(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    lines = journal_lines(sandbox.ground_truth(tenant_id=api.tenant_id)[api.tenant_id]["Journals"])
    start, end = date(2026, 4, 10), date(2026, 5, 20)
    report = parsed(api.get("Reports/BankSummary", fromDate=start.isoformat(), toDate=end.isoformat()))["Reports"][0]
    assert [c["Value"] for c in report["Rows"][0]["Cells"]] == [
        "Bank Accounts", "Opening Balance", "Cash Received", "Cash Spent", "Closing Balance"]
    opening, closing = balances(lines, start - timedelta(days=1)), balances(lines, end)
    banks = {r["Cells"][0]["Attributes"][0]["Value"]: [Decimal(c["Value"]) for c in r["Cells"][1:]]
             for r in report["Rows"][1]["Rows"] if r["RowType"] == "Row"}
    assert banks
    for account, (o, received, spent, c) in banks.items():
        assert (o, c) == (opening.get(account, 0), closing.get(account, 0)), account
        assert o + received - spent == c
    assert any(o != c for o, _, _, c in banks.values())


def periods(budget: dict) -> list[list[date]]:
    return [[parse_date(b["Period"]) for b in line["BudgetBalances"]] for line in budget["BudgetLines"]]


def test_budget_lines_come_only_by_id_and_balances_only_for_the_months_asked(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    truth = {b["BudgetID"]: b for b in sandbox.ground_truth(tenant_id=api.tenant_id)[api.tenant_id]["Budgets"]}
    listed = parsed(api.get("Budgets"))["Budgets"]
    assert {b["BudgetID"] for b in listed} == truth.keys()
    assert all(b["BudgetLines"] == [] for b in listed)  # "not returned unless requesting a single budget"
    overall = next(b for b in truth.values() if b["Description"] == "Overall Budget")
    every = sorted({p for line in periods(overall) for p in line})
    assert len(every) == 24  # the seeded overall budget: more than one request's worth with its neighbours
    path = f"Budgets/{overall['BudgetID']}"

    # No dates: the previous, current and next month by Xero's clock.
    today = sandbox.clock.now().date().replace(day=1)
    default = parsed(api.get(path))["Budgets"][0]
    assert len(default["BudgetLines"]) == len(overall["BudgetLines"])
    assert {p for line in periods(default) for p in line} == {month_back(today, 1), today, month_back(today, -1)}

    # A month is in when any of its days is.
    start, end = date(2025, 8, 15), date(2026, 2, 1)
    some = parsed(api.get(path, DateFrom=start.isoformat(), DateTo=end.isoformat()))["Budgets"][0]
    want = [p for p in every if date(2025, 8, 1) <= p <= date(2026, 2, 1)]
    assert all(line == want for line in periods(some)) and want

    # One date alone: three months from it.
    alone = parsed(api.get(path, DateFrom="2026-01-10"))["Budgets"][0]
    assert {p for line in periods(alone) for p in line} == {date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)}

    # Two requests of 24 months make the whole budget; 25 months is refused.
    first, second = (parsed(api.get(path, DateFrom=a, DateTo=b))["Budgets"][0]
                     for a, b in (("2024-01-01", "2025-12-31"), ("2026-01-01", "2027-12-31")))
    joined = [{**a, "BudgetBalances": a["BudgetBalances"] + b["BudgetBalances"]}
              for a, b in zip(first["BudgetLines"], second["BudgetLines"], strict=True)]
    assert joined == overall["BudgetLines"]
    refused = ({"DateFrom": "2024-01-01", "DateTo": "2026-01-31"}, {"DateFrom": "2026-02-01", "DateTo": "2026-01-01"},
               {"DateFrom": "2026-13-01"})
    for params in refused:
        resp = api.get(path, **params)
        assert resp.status_code == 400 and resp.json()["Type"] == "ValidationException", params
