"""Budgets as Xero serves them (facts sheet §7): lines only from a read by id, balances
only for the months asked, at most 24 a request. The budgets asset must still store
every line and every month of every budget, end to end against the sandbox."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest

from xero_pipeline.registry import BY_TABLE
from xero_pipeline.sandbox import Sandbox
from xero_pipeline.warehouse.connection import open_warehouse
from xero_pipeline.xero.budgets import MONTHS_PER_REQUEST, window
from xero_pipeline_tests.sync_helpers import resources, run_tenant, step_failures
from xero_pipeline_tests.truth import diff_warehouse

BUDGETS = BY_TABLE["budgets"]


def test_requests_are_24_months_aligned_on_this_month():
    today = date(2026, 2, 17)
    assert window(today, 0) == (date(2026, 2, 1), date(2028, 1, 31))
    assert window(today, -1) == (date(2024, 2, 1), date(2026, 1, 31))
    assert window(today, -3) == (date(2020, 2, 1), date(2022, 1, 31))
    assert window(date(2024, 3, 31), 1) == (date(2026, 3, 1), date(2028, 2, 29))
    assert MONTHS_PER_REQUEST == 24  # Xero's most in one request


def months(first: date, count: int) -> list[date]:
    index = first.year * 12 + first.month - 1
    return [date((index + k) // 12, (index + k) % 12 + 1, 1) for k in range(count)]


@pytest.fixture
def world(tmp_path) -> Iterator[tuple[Sandbox, dg.DagsterInstance, Path]]:
    with Sandbox(tenants=1, scale=0.02, seed=7, limits=False) as sb, dg.DagsterInstance.ephemeral() as instance:
        yield sb, instance, tmp_path


def add_budget(sb: Sandbox, description: str, periods: list[date]) -> dict:
    books = sb.books[sb.tenant_ids[0]]
    accounts = [a for a in books.records("Accounts") if a["Type"] in ("REVENUE", "EXPENSE")][:3]
    budget = {
        "BudgetID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"test/budget/{description}")), "Type": "OVERALL",
        "Description": description, "Tracking": [],
        "BudgetLines": [{"AccountID": a["AccountID"], "AccountCode": a["Code"], "BudgetBalances": [
            {"Period": p, "Amount": Decimal(100 * i + k), "Notes": "long" if k == 0 else ""}
            for k, p in enumerate(periods)]} for i, a in enumerate(accounts, 1)],
    }
    books.put("Budgets", budget)
    return budget


def test_every_budget_is_stored_with_every_month_of_every_line(world):
    sb, instance, tmp = world
    tenant = sb.tenant_ids[0]
    # Beside the three seeded budgets (up to 24 months around today): one of ten and a
    # half years (2019-01 to 2029-06), and one of three months, four years back.
    add_budget(sb, "Decade plan", months(date(2019, 1, 1), 126))
    add_budget(sb, "Old quarter", months(date(2022, 12, 1), 3))
    truth = sb.ground_truth(tenant_id=tenant)
    wanted = sum(len(line["BudgetBalances"]) for b in truth[tenant]["Budgets"] for line in b["BudgetLines"])
    assert wanted > 126 * 3 and len(truth[tenant]["Budgets"]) == 5

    sb.reset_stats()
    result = run_tenant(instance, resources(sb, tmp), tenant, [BUDGETS])
    assert result.success, step_failures(result)

    db = tmp / "xero.duckdb"
    assert diff_warehouse(db, truth, [BUDGETS]) == []
    conn = open_warehouse(db, read_only=True)
    try:
        stored = conn.execute("SELECT count(*) FROM xero.budget_balances WHERE tenant_id = ?", [tenant]).fetchone()[0]
        lines = conn.execute("SELECT count(*) FROM xero.budget_lines WHERE tenant_id = ?", [tenant]).fetchone()[0]
    finally:
        conn.close()
    assert stored == wanted and lines == sum(len(b["BudgetLines"]) for b in truth[tenant]["Budgets"])

    # One list read, then three requests a budget (48 months back to 23 ahead); the
    # decade plan runs past both ends of that, so it costs two more back (to 2018-11)
    # and one more ahead (to 2030-10). The sandbox counts reads by id under "Budgets".
    assert sb.stats()["calls"][tenant]["Budgets"] == 1 + 5 * 3 + 2 + 1
