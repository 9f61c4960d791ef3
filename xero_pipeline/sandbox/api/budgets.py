"""A single budget as ``GET /Budgets/{BudgetID}`` serves it: its lines, and their
balances only for the months of ``DateFrom``..``DateTo``.

Xero's documentation: budget lines come only with a single budget (``GET /Budgets``
sends ``"BudgetLines": []``); with no period requested the balances cover three months,
the previous, the current and the next; at most 24 months come in one request.
Assumptions where it is silent (also in the package docstring):

* A month is in the window when any of its days is: ``DateFrom`` 2026-03-15 includes
  March's balance.
* With only one of the two dates, the other is two months away (three months in all,
  like the default). ``DateTo`` before ``DateFrom``, more than 24 months, or a date that
  is not ``YYYY-MM-DD`` is a 400 ``ValidationException``.
* Every line is sent, with ``"BudgetBalances": []`` when none of its months is in the
  window; only months that hold an amount are sent.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from xero_pipeline.sandbox.reports.rows import param_date

MAX_MONTHS = 24


def _month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


def _month(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def _param_date(params: dict[str, str], name: str, today: date) -> date | None:
    return param_date(params, name, today) if params.get(name.lower()) else None


def budget_window(params: dict[str, str], *, today: date) -> tuple[date, date]:
    """The first and last month (as first days) whose balances a read sends; ``params``
    has lower-cased names, as ``query.Params`` gives them."""
    start, end = _param_date(params, "DateFrom", today), _param_date(params, "DateTo", today)
    if start is None and end is None:
        now = _month_index(today)
        return _month(now - 1), _month(now + 1)
    first = _month_index(start) if start else _month_index(end or today) - 2
    last = _month_index(end) if end else first + 2
    if last < first:
        raise ValueError("DateTo must not be before DateFrom")
    if last - first + 1 > MAX_MONTHS:
        raise ValueError(f"A budget can be read for at most {MAX_MONTHS} months at a time; "
                         f"DateFrom..DateTo spans {last - first + 1}")
    return _month(first), _month(last)


def within(budget: dict[str, Any], first: date, last: date) -> dict[str, Any]:
    """A copy of ``budget`` whose lines keep only the balances of months first..last."""
    lines = [
        {**line, "BudgetBalances": [b for b in line.get("BudgetBalances") or [] if first <= b["Period"] <= last]}
        for line in budget.get("BudgetLines") or []
    ]
    return {**budget, "BudgetLines": lines}
