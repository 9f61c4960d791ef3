"""Budgets read whole: each budget by id, month range by month range.

Xero lists budgets without their lines ("Budget lines will not be returned unless
requesting a single budget"), and ``GET /Budgets/{BudgetID}`` sends balances only for
the months of ``DateFrom``..``DateTo`` (default: the previous, current and next month),
at most 24 months a request. A budget says nothing of the months it covers (Xero's
Budget schema has no start or end; Budget Manager shows any 3 to 24 months from any
start), so the months are found by reading:

1. always the 72 months from 48 before this month (by Xero's clock) to 23 after it,
   in three 24-month requests: last year's and older budgets as well as the current
   and next ones;
2. then further back, and further ahead, 24 months at a time, for as long as the
   outermost month read so far holds an amount (a budget runs on past it).

So a typical budget costs three calls a sync. A budget whose amounts lie only more than
four years back, or beyond a month with no amount at the edge of what was read, is not
seen. The balances of all requests are merged per line, in month order.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

from xero_pipeline.errors import XeroApiError
from xero_pipeline.registry import XeroObject
from xero_pipeline.xero.client import XeroClient
from xero_pipeline.xero.dates import parse_date

MONTHS_PER_REQUEST = 24  # Xero's limit for one read of a budget
ALWAYS_BACK = 2  # requests before this month that are always made
ALWAYS_AHEAD = 1  # requests from this month on that are always made
MAX_REQUESTS_EACH_WAY = 10  # 20 years either side: a guard, not a limit a budget reaches

Window = tuple[date, date]  # first day of the first month, last day of the last month


def reads_by_month_range(obj: XeroObject) -> bool:
    """Whether ``obj``'s records are completed by ``read_budget`` (Budgets only)."""
    return obj.path == "Budgets"


def _month(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def _last_day(index: int) -> date:
    return date.fromordinal(_month(index + 1).toordinal() - 1)


def window(today: date, step: int) -> Window:
    """The ``step``-th 24-month request from this month: 0 starts at it, -1 ends just before it."""
    first = today.year * 12 + today.month - 1 + step * MONTHS_PER_REQUEST
    return _month(first), _last_day(first + MONTHS_PER_REQUEST - 1)


def _period(balance: dict[str, Any]) -> date | None:
    raw = balance.get("Period")
    try:
        return parse_date(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


def _has_amount(balances: list[dict[str, Any]], month: date) -> bool:
    return any(_period(b) == month and (b.get("Amount") or b.get("Notes")) for b in balances)


class _Reading:
    """The lines of one budget as its requests come in."""

    def __init__(self) -> None:
        self.order: list[Any] = []
        self.lines: dict[Any, dict[str, Any]] = {}
        self.balances: dict[Any, dict[str, dict[str, Any]]] = {}

    def add(self, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Merge one response's lines; returns the balances it brought."""
        brought: list[dict[str, Any]] = []
        for line in lines:
            key = line.get("AccountID") or line.get("AccountCode")
            if key not in self.lines:
                self.order.append(key)
                self.lines[key] = line
                self.balances[key] = {}
            for b in line.get("BudgetBalances") or []:
                self.balances[key].setdefault(str(b.get("Period")), b)
                brought.append(b)
        return brought

    def merged(self) -> list[dict[str, Any]]:
        def when(b: dict[str, Any]) -> tuple[bool, date]:
            d = _period(b)
            return d is None, d or date.min

        return [{**self.lines[k], "BudgetBalances": sorted(self.balances[k].values(), key=when)} for k in self.order]


def read_budget(
    client: XeroClient, obj: XeroObject, tenant_id: str, record: dict[str, Any], *, today: date,
    keep: int | None = None,
) -> dict[str, Any]:
    """``record`` as listed, with its ``BudgetLines`` read by id over every month found."""
    path = f"/api.xro/2.0/{obj.path}/{quote(str(record[obj.primary_key]))}"
    reading = _Reading()

    def read(step: int) -> bool | None:
        """Read one request's months; whether its outermost month holds an amount (None: gone)."""
        first, last = window(today, step)
        params = {"DateFrom": first.isoformat(), "DateTo": last.isoformat()}
        try:
            body = client.get_json(path, tenant_id=tenant_id, params=params, scope=obj.scope, keep=keep,
                                   what=f"budget months {first:%Y-%m} to {last:%Y-%m}")
        except XeroApiError as exc:
            if exc.status == 404:  # deleted since the list read; the next sync will not list it
                return None
            raise
        found = next(iter(body.get(obj.envelope) or []), None) if isinstance(body, dict) else None
        if not isinstance(found, dict):
            return None
        brought = reading.add(found.get("BudgetLines") or [])
        return _has_amount(brought, last.replace(day=1) if step >= 0 else first)

    fixed = range(-ALWAYS_BACK, ALWAYS_AHEAD)
    edge: dict[int, bool] = {}
    for step in fixed:
        more = read(step)
        if more is None:
            return record
        edge[step] = more
    # Past the fixed months, go on outward while the outermost month read holds an amount.
    for outermost, going in ((fixed[0], -1), (fixed[-1], 1)):
        at, more = outermost, edge[outermost]
        while more and abs(at + going) <= MAX_REQUESTS_EACH_WAY:
            at += going
            more = read(at)
            if more is None:
                return record
    return {**record, "BudgetLines": reading.merged()}
