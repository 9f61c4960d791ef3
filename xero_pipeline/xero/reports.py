"""Xero's reports as rows: which calls to make, how to read them, how to flatten them.

No Dagster here (``report_assets`` wraps it). A report asset, for one tenant:

1. takes "today" from Xero's own clock (the envelope of one ``GET /Organisation``), so
   the books and the report dates agree even when this machine's clock does not;
2. plans its calls (``plan_calls``) with explicit dates, never Xero's defaults, so each
   stored row says exactly which request produced it (``request``) and any row can be
   checked by repeating that request;
3. flattens each response (``flatten_report``) to one row per value cell: the row's
   first cell is its title (an account name, "Total Income", an invoice date), every
   further cell becomes a row with its column heading, its text and, when the text is a
   number, a DECIMAL ``value``;
4. ``report_assets`` replaces the tenant's rows of that report in one transaction: a
   report is a snapshot, so rows of a previous load must not linger.

Calls per tenant with the default 12 months: TrialBalance 12 (it has no ``periods``);
ProfitAndLoss 12, one per calendar month (with ``periods`` Xero cuts every earlier month
to the first one's number of days); BalanceSheet and BudgetSummary 1 each
(``periods``/``timeframe`` put 12 month ends or budget months in one response);
BankSummary and ExecutiveSummary 1 each (as at today); the aged reports one per contact
with an open balance, capped; plus one call per tenant and run to read Xero's clock: 29
and the aged ones. Xero allows 60 calls a minute per tenant, so a daily run that also
syncs ~35 objects spends a minute or two, and 5,000 a day.

Dates: ``report_date`` is the day a value is as at, by its end (a balance includes that
day's journals); ``period_start``/``period_end`` bound a movement and are None for a
balance. BankSummary's Opening Balance, "as at the start of fromDate" in Xero's words,
is therefore dated the day before ``fromDate``.
"""

from __future__ import annotations

import re
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from xero_pipeline.errors import XeroApiError
from xero_pipeline.registry import BY_TABLE, XeroReport
from xero_pipeline.xero.client import XeroClient
from xero_pipeline.xero.dates import parse_instant

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")  # Xero's report amounts: plain, 2 dp, no separators
_ACCOUNT_IDS = ("account", "accountid")
# The invoices behind each aged report: sales invoices for receivables, bills for payables.
AGED_INVOICE_TYPE = {"AgedReceivablesByContact": "ACCREC", "AgedPayablesByContact": "ACCPAY"}


@dataclass(frozen=True)
class Span:
    """What one value column of a response means in time."""

    report_date: date
    start: date | None = None
    end: date | None = None


@dataclass(frozen=True)
class ReportCall:
    """One request for one report; ``spans[i]`` describes value column ``i + 1``."""

    report: XeroReport
    params: dict[str, str]
    as_at: date
    spans: tuple[Span, ...] = ()
    contact_id: str | None = None

    @property
    def request(self) -> str:
        return urlencode(sorted(self.params.items()))

    def span(self, column: int) -> Span:
        return self.spans[column - 1] if 0 < column <= len(self.spans) else Span(self.as_at)


# ----------------------------------------------------------------------------- planning


def first_of_month(d: date, shift: int = 0) -> date:
    index = d.year * 12 + d.month - 1 + shift
    return date(index // 12, index % 12 + 1, 1)


def last_of_month(d: date) -> date:
    return first_of_month(d, 1) - timedelta(days=1)


def month_ends(today: date, count: int) -> list[date]:
    """The last ``count`` month ends before ``today``, newest first (today's month is not over)."""
    return [first_of_month(today, -k) - timedelta(days=1) for k in range(count)]


def months(today: date, count: int) -> list[tuple[date, date]]:
    """This calendar month and the ``count - 1`` before it, newest first, as (first, last) days."""
    return [(first_of_month(today, -k), last_of_month(first_of_month(today, -k))) for k in range(count)]


def _iso(d: date) -> str:
    return d.isoformat()


def _with_periods(params: dict[str, str], count: int, timeframe: str) -> dict[str, str]:
    # Xero takes periods 1-12 (earlier columns besides the first); one column needs none.
    return {**params, "periods": str(count - 1), "timeframe": timeframe} if count > 1 else params


def plan_calls(
    report: XeroReport, *, today: date, months_back: int = 12, contact_ids: Sequence[str] = ()
) -> list[ReportCall]:
    """Every call that builds ``report``'s snapshot for one tenant as at ``today``."""
    if not 1 <= months_back <= 12:
        raise ValueError("months_back must be between 1 and 12 (Xero compares at most 12 periods)")
    name = report.name
    spans_by_month = [Span(end, start, end) for start, end in months(today, months_back)]
    if name == "TrialBalance":
        # Debit/Credit: the month's movement; YTD Debit/YTD Credit: the balance at the date.
        return [
            ReportCall(report, {"date": _iso(d)}, d, (Span(d, first_of_month(d), d),) * 2 + (Span(d),) * 2)
            for d in month_ends(today, months_back)
        ]
    if name == "BalanceSheet":
        ends = month_ends(today, months_back)
        params = _with_periods({"date": _iso(ends[0])}, months_back, "MONTH")
        return [ReportCall(report, params, ends[0], tuple(Span(d) for d in ends))]
    if name == "ProfitAndLoss":
        # One call per month, not periods=11: Xero applies the first column's day range to
        # every earlier period, so after a 30-day month each earlier month loses its 31st
        # and in February every month is cut to 28 days.
        return [ReportCall(report, {"fromDate": _iso(start), "toDate": _iso(end)}, end, (Span(end, start, end),))
                for start, end in months(today, months_back)]
    if name == "BankSummary":
        # This month to date: the bank position now. Earlier months would cost a call each
        # and add nothing: ledger.cash_movements has every month, equal to this report.
        # Xero's opening balance is as at the start of fromDate, i.e. the end of the day
        # before: the same "as at the end of report_date" as every other balance stored.
        start = first_of_month(today)
        flow = Span(today, start, today)
        spans = (Span(start - timedelta(days=1)), flow, flow, Span(today))
        return [ReportCall(report, {"fromDate": _iso(start), "toDate": _iso(today)}, today, spans)]
    if name == "BudgetSummary":
        # The same months as ProfitAndLoss, oldest first as Xero lays budgets out, so that
        # budget and actual join on period_start. Its timeframe is a number of months.
        oldest = list(reversed(spans_by_month))
        params = {"date": _iso(oldest[0].start or today), "periods": str(months_back), "timeframe": "1"}
        return [ReportCall(report, params, today, tuple(oldest))]
    if name == "ExecutiveSummary":
        previous_end = first_of_month(today) - timedelta(days=1)
        spans = (Span(today, first_of_month(today), today),
                 Span(previous_end, first_of_month(previous_end), previous_end), Span(today))
        return [ReportCall(report, {"date": _iso(today)}, today, spans)]
    if report.per_contact:
        return [
            ReportCall(report, {"contactId": cid, "date": _iso(today)}, today, contact_id=cid)
            for cid in contact_ids
        ]
    raise ValueError(f"no plan for the report {name}")


# ----------------------------------------------------------------------------- reading


def report_path(report: XeroReport) -> str:
    return f"/api.xro/2.0/Reports/{report.name}"


_TODAY: weakref.WeakKeyDictionary[XeroClient, dict[str, tuple[date, float]]] = weakref.WeakKeyDictionary()


def xero_today(client: XeroClient, tenant_id: str, *, max_age_seconds: float = 600.0) -> date:
    """Today by Xero's clock: the UTC date of a response envelope.

    One ``GET /Organisation`` per tenant and client, remembered for ``max_age_seconds``,
    so the eight report assets of one run spend one call on it, not eight.
    """
    seen = _TODAY.setdefault(client, {})
    cached = seen.get(tenant_id)
    if cached and time.monotonic() - cached[1] < max_age_seconds:
        return cached[0]
    org = BY_TABLE["organisations"]
    body = client.get_json(f"/api.xro/2.0/{org.path}", tenant_id=tenant_id, scope=org.scope,
                           what="the organisation's date")
    stamp = parse_instant(body.get("DateTimeUTC")) if isinstance(body, dict) else None
    today = (stamp or datetime.now(UTC)).date()
    seen[tenant_id] = (today, time.monotonic())
    return today


def fetch_report(client: XeroClient, tenant_id: str, call: ReportCall, *, keep: int | None = None) -> dict[str, Any]:
    """One report response (the first element of ``Reports``)."""
    path = report_path(call.report)
    body = client.get_json(path, tenant_id=tenant_id, params=call.params, scope=call.report.scope, keep=keep,
                           what=call.report.table)
    reports = body.get("Reports") if isinstance(body, dict) else None
    if not isinstance(reports, list) or not reports or not isinstance(reports[0], dict):
        raise XeroApiError(status=200, path=path, tenant_id=tenant_id,
                           message="the response has no report in its 'Reports' array")
    return reports[0]


# ----------------------------------------------------------------------------- flattening


def parse_amount(text: Any) -> Decimal | None:
    """A report cell as a number, or None for text, blanks, dates and percentages."""
    if isinstance(text, (int, Decimal)) and not isinstance(text, bool):
        return Decimal(text)
    if isinstance(text, str) and _NUMBER.match(text.strip()):
        return Decimal(text.strip())
    return None


def _attributes(cells: list[dict[str, Any]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for c in cells:
        for a in c.get("Attributes") or []:
            if isinstance(a, dict) and a.get("Id") is not None:
                out.setdefault(str(a["Id"]), str(a.get("Value", "")))
    return out


@dataclass
class _Walk:
    call: ReportCall
    tenant_id: str
    titles: list[Any]
    loaded_at: datetime
    labels: list[str] = field(default_factory=list)
    position: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)

    def walk(self, items: list[Any], section: str | None) -> None:
        for item in items or []:
            if not isinstance(item, dict):
                continue
            kind = item.get("RowType")
            cells = [c for c in item.get("Cells") or [] if isinstance(c, dict)]
            if kind == "Header":
                self.labels = [str(c.get("Value", "")) for c in cells]
            elif kind == "Section":
                self.walk(item.get("Rows") or [], str(item.get("Title") or ""))
            elif cells:
                self.position += 1
                self.emit(str(kind or "Row"), cells, section)

    def emit(self, kind: str, cells: list[dict[str, Any]], section: str | None) -> None:
        attrs = _attributes(cells)
        account = next((v for k, v in attrs.items() if k.lower() in _ACCOUNT_IDS), None)
        title = str(cells[0].get("Value", ""))
        # A row with only a title still says something (a heading line); keep it as column 0.
        columns = range(1, len(cells)) if len(cells) > 1 else range(0, 1)
        for i in columns:
            text = cells[i].get("Value")
            span = self.call.span(i) if i else Span(self.call.as_at)
            value = parse_amount(text) if i else None
            self.rows.append({
                "tenant_id": self.tenant_id, "report": self.call.report.name, "request": self.call.request,
                "report_date": span.report_date, "period_start": span.start, "period_end": span.end,
                "contact_id": self.call.contact_id, "section": section, "row_type": kind,
                "row_position": self.position, "row_title": title, "account_id": account, "column_index": i,
                "column_label": self.labels[i] if i < len(self.labels) else "",
                "value": value, "value_text": None if text is None else str(text),
                "attributes": attrs or None, "report_titles": self.titles, "loaded_at": self.loaded_at,
            })


def flatten_report(
    report: dict[str, Any], call: ReportCall, *, tenant_id: str, loaded_at: datetime | None = None
) -> list[dict[str, Any]]:
    """One dict per value cell, keyed by ``COLUMN_NAMES``; values are Python objects."""
    titles = [str(t) for t in report.get("ReportTitles") or []]
    walk = _Walk(call, tenant_id, titles, (loaded_at or datetime.now(UTC)).replace(tzinfo=None))
    walk.walk(report.get("Rows") or [], None)
    return walk.rows
