"""Xero's reports of a period's movements, Profit and Loss and Bank Summary, from the journals.

How the numbers are defined (Xero's layout; the arithmetic is ours where Xero's
documentation is silent):

* Profit and Loss: movements between ``fromDate`` and ``toDate`` (default: this
  month), with ``periods`` earlier columns each shifted by ``timeframe``. Xero applies
  the requested day range to every earlier period: each starts ``timeframe`` earlier
  and covers as many days as ``fromDate``..``toDate``, never reaching the next period's
  start. After a 30-day month each earlier month is cut to its first 30 days; in
  February every column is 28 days (``comparison_periods``). A column's heading is
  its last day. Tracking filters (``trackingOptionID``/``trackingOptionID2``) keep
  only lines tagged with the option.
* Bank Summary: per bank account, the Opening Balance as at the start of ``fromDate``
  (every journal before it), money in and out from ``fromDate`` to ``toDate``, netted
  per source document (a receipt and its reversal cancel rather than showing twice),
  and the Closing Balance as at the end of ``toDate``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from xero_pipeline.sandbox.books.chart import ZERO
from xero_pipeline.sandbox.books.ledger import ledger_index
from xero_pipeline.sandbox.books.store import TenantBooks
from xero_pipeline.sandbox.reports.rows import (
    COST_OF_SALES_TYPES,
    EXPENSE_TYPES,
    INCOME_TYPES,
    OTHER_INCOME_TYPES,
    account_rows,
    add_months,
    fmt,
    header,
    long_date,
    month_end,
    param_date,
    param_int,
    param_timeframe,
    report,
    row,
    section,
    short_date,
    sorted_accounts,
    summary,
    today,
)

# --- profit and loss --------------------------------------------------------------------


def profit_and_loss_report(books: TenantBooks, params: dict[str, str]) -> dict:
    now = today(books)
    start = param_date(params, "fromDate", now.replace(day=1))
    end = param_date(params, "toDate", month_end(start))
    if end < start:
        raise ValueError("toDate must not be before fromDate")
    periods = param_int(params, "periods", 0, low=0, high=12)
    step = param_timeframe(params)
    options = {o for o in (params.get("trackingoptionid"), params.get("trackingoptionid2")) if o}
    columns = comparison_periods(start, end, periods=periods, months=step)
    moves = [_movements(books, s, e, options) for s, e in columns]
    accounts = sorted_accounts(books)
    rows: list[dict] = [header("", *(short_date(e) for _, e in columns))]

    def block(title: str, types: tuple[str, ...], sign: int, total_title: str) -> list[Decimal]:
        section_rows, totals = account_rows(accounts, types, sign, moves)
        rows.append(section(title, [*section_rows, summary([total_title, *(fmt(t) for t in totals)])]))
        return totals

    income = block("Income", INCOME_TYPES, -1, "Total Income")
    costs = block("Less Cost of Sales", COST_OF_SALES_TYPES, 1, "Total Cost of Sales")
    gross = [i - c for i, c in zip(income, costs, strict=True)]
    rows.append(section("", [row(["Gross Profit", *(fmt(g) for g in gross)])]))
    other = block("Plus Other Income", OTHER_INCOME_TYPES, -1, "Total Other Income")
    expenses = block("Less Operating Expenses", EXPENSE_TYPES, 1, "Total Operating Expenses")
    net = [g + o - x for g, o, x in zip(gross, other, expenses, strict=True)]
    rows.append(section("", [row(["Net Profit", *(fmt(n) for n in net)])]))
    return report(
        books,
        report_type="ProfitAndLoss",
        name="Profit and Loss",
        titles=["Profit and Loss", books.name, f"For the period {long_date(start)} to {long_date(end)}"],
        rows=rows,
    )


def comparison_periods(start: date, end: date, *, periods: int, months: int) -> list[tuple[date, date]]:
    """The (first, last) day of each column, newest first, as Xero computes them."""
    days = end - start
    out = [(start, end)]
    for k in range(1, periods + 1):
        first = add_months(start, -months * k)
        out.append((first, min(first + days, out[-1][0] - timedelta(days=1))))
    return out


def _movements(books: TenantBooks, start: date, end: date, options: set[str]) -> dict[str, Decimal]:
    if not options:
        return ledger_index(books).balances(upto=end, since=start)
    out: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for j in books.records("Journals"):
        if start <= j["JournalDate"] <= end:
            for ln in j["JournalLines"]:
                tagged = {t["TrackingOptionID"] for t in ln["TrackingCategories"]}
                if options <= tagged:
                    out[ln["AccountID"]] += ln["NetAmount"]
    return dict(out)


# --- bank summary -----------------------------------------------------------------------


def bank_summary_report(books: TenantBooks, params: dict[str, str]) -> dict:
    now = today(books)
    start = param_date(params, "fromDate", now.replace(day=1))
    end = param_date(params, "toDate", max(now, start))
    if end < start:
        raise ValueError("toDate must not be before fromDate")
    index = ledger_index(books)
    opening = index.balances(upto=start - timedelta(days=1))
    received, spent = index.bank_flows(since=start, upto=end)
    rows: list[dict] = [
        header("Bank Accounts", "Opening Balance", "Cash Received", "Cash Spent", "Closing Balance")
    ]
    body, totals = [], [ZERO] * 4
    for a in sorted_accounts(books):
        if a["Type"] != "BANK":
            continue
        o, r, s = (
            opening.get(a["AccountID"], ZERO),
            received.get(a["AccountID"], ZERO),
            spent.get(a["AccountID"], ZERO),
        )
        if a["Status"] != "ACTIVE" and not (o or r or s):
            continue
        values = [o, r, s, o + r - s]
        totals = [t + v for t, v in zip(totals, values, strict=True)]
        body.append(row([a["Name"], *(fmt(v) for v in values)], attr=("account", a["AccountID"]),
                        first_attr=("accountID", a["AccountID"])))
    rows.append(section("", [*body, summary(["Total", *(fmt(t) for t in totals)])]))
    return report(
        books,
        report_type="BankSummary",
        name="Bank Summary",
        titles=["Bank Summary", books.name, f"From {long_date(start)} to {long_date(end)}"],
        rows=rows,
    )
