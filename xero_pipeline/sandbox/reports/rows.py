"""Building blocks of Xero's ``ReportWithRow`` shape, shared by the report modules.

Every cell value is a string; amounts have exactly two decimals and no thousands
separator ("154355.72"), report dates are human text ("21 November 2026") and
column headings short dates ("30 Apr 2026"), as in Xero's responses.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from xero_pipeline.sandbox.books.chart import CENT, ZERO
from xero_pipeline.sandbox.books.store import Record, TenantBooks

TIMEFRAME_MONTHS = {"MONTH": 1, "QUARTER": 3, "YEAR": 12}


def org(books: TenantBooks) -> Record:
    return books.records("Organisation")[0]


def today(books: TenantBooks) -> date:
    return books.clock.now().date()


def fmt(amount: Decimal) -> str:
    amount = amount.quantize(CENT)
    return "0.00" if not amount else f"{amount:.2f}"  # never "-0.00"


def long_date(d: date) -> str:
    return f"{d.day} {d:%B %Y}"


def short_date(d: date) -> str:
    return f"{d.day} {d:%b %Y}"


def iso_cell(d: date) -> str:
    return f"{d.isoformat()}T00:00:00"


def cell(value: str, *attrs: tuple[str, str]) -> dict:
    out: dict = {"Value": value}
    if attrs:
        out["Attributes"] = [{"Value": v, "Id": k} for k, v in attrs]
    return out


def header(*values: str) -> dict:
    return {"RowType": "Header", "Cells": [cell(v) for v in values]}


def row(
    values: list[str], *, attr: tuple[str, str] | None = None, first_attr: tuple[str, str] | None = None
) -> dict:
    cells = []
    for i, v in enumerate(values):
        a = first_attr if i == 0 and first_attr else attr
        cells.append(cell(v, a) if a else cell(v))
    return {"RowType": "Row", "Cells": cells}


def summary(values: list[str]) -> dict:
    return {"RowType": "SummaryRow", "Cells": [cell(v) for v in values]}


def section(title: str, rows: list[dict]) -> dict:
    return {"RowType": "Section", "Title": title, "Rows": rows}


def report(books: TenantBooks, *, report_type: str, name: str, titles: list[str], rows: list[dict]) -> dict:
    return {
        "ReportID": report_type, "ReportName": name, "ReportType": report_type, "ReportTitles": titles,
        "ReportDate": long_date(books.clock.now().date()), "UpdatedDateUTC": books.clock.now(),
        "Fields": [], "Rows": rows,
    }


# --- parameters -------------------------------------------------------------------------


# Parameter dicts reach the builders with lower-cased keys: Xero's query string is
# case-insensitive (fromDate, fromdate and FROMDATE all work).


def param_date(params: dict[str, str], key: str, default: date) -> date:
    raw = params.get(key.lower())
    if raw in (None, ""):
        return default
    try:
        return date.fromisoformat(str(raw)[:10])
    except ValueError:
        raise ValueError(f"{key} must be a date such as 2026-10-31, not {raw!r}") from None


def param_int(params: dict[str, str], key: str, default: int, *, low: int, high: int) -> int:
    raw = params.get(key.lower())
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{key} must be a whole number, not {raw!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{key} must be between {low} and {high}, not {value}")
    return value


def param_timeframe(params: dict[str, str]) -> int:
    raw = str(params.get("timeframe") or "MONTH").upper()
    if raw not in TIMEFRAME_MONTHS:
        raise ValueError(f"timeframe must be MONTH, QUARTER or YEAR, not {raw!r}")
    return TIMEFRAME_MONTHS[raw]


# --- calendar ---------------------------------------------------------------------------


def month_end(d: date) -> date:
    return (d.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def add_months(d: date, months: int) -> date:
    """Shift by whole months; a month end stays a month end (31 Oct - 1 = 30 Sep)."""
    index = d.year * 12 + d.month - 1 + months
    first = date(index // 12, index % 12 + 1, 1)
    if d == month_end(d):
        return month_end(first)
    return first.replace(day=min(d.day, month_end(first).day))


def _fy_end(org: Record, year: int) -> date:
    last = month_end(date(year, org["FinancialYearEndMonth"], 1))
    return last if org["FinancialYearEndDay"] >= last.day else last.replace(day=org["FinancialYearEndDay"])


def fy_start(org: Record, d: date) -> date:
    """First day of the financial year that contains ``d``."""
    end = _fy_end(org, d.year)
    return end + timedelta(days=1) if d > end else _fy_end(org, d.year - 1) + timedelta(days=1)


# --- account groupings ------------------------------------------------------------------

INCOME_TYPES = ("REVENUE", "SALES")
COST_OF_SALES_TYPES = ("DIRECTCOSTS",)
OTHER_INCOME_TYPES = ("OTHERINCOME",)
EXPENSE_TYPES = ("EXPENSE", "OVERHEADS", "DEPRECIATN")
PROFIT_AND_LOSS_CLASSES = ("REVENUE", "EXPENSE")


def sorted_accounts(books: TenantBooks) -> list[Record]:
    return sorted(books.records("Accounts"), key=lambda a: a["Code"])


def profit(balances: dict[str, Decimal], accounts: list[Record]) -> Decimal:
    """Profit (credit-positive) of the P&L accounts in ``balances``."""
    return -sum((balances.get(a["AccountID"], Decimal(0)) for a in accounts
                 if a["Class"] in PROFIT_AND_LOSS_CLASSES), Decimal(0))


def account_rows(accounts: list[Record], types: tuple[str, ...], sign: int,
                 columns: list[dict[str, Decimal]]) -> tuple[list[dict], list[Decimal]]:
    """A row per account of ``types`` with a value in any column (each an account id ->
    amount map, times ``sign``), and the column totals."""
    out, totals = [], [ZERO] * len(columns)
    for a in accounts:
        if a["Type"] not in types:
            continue
        values = [sign * c.get(a["AccountID"], ZERO) for c in columns]
        if not any(values):
            continue
        totals = [t + v for t, v in zip(totals, values, strict=True)]
        out.append(row([a["Name"], *(fmt(v) for v in values)], attr=("account", a["AccountID"])))
    return out, totals
