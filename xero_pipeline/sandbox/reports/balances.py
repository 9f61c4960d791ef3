"""Xero's point-in-time reports, Trial Balance and Balance Sheet, from the journals.

Both are computed from the same journals the Journals endpoint serves. How the
numbers are defined (Xero's layout; the arithmetic is ours where Xero's documentation
is silent):

* Trial Balance: *Debit/Credit* are each account's net movement in the month of
  ``date`` (first of the month to ``date``); *YTD Debit/YTD Credit* are its balance at
  ``date`` — cumulative for balance-sheet accounts, since the start of the financial
  year for profit-and-loss accounts, with earlier years' profit rolled into Retained
  Earnings. So the YTD columns balance, and for balance-sheet accounts they equal the
  sum of journal lines up to ``date``.
* Balance Sheet: balances at each column's date; equity shows Current Year Earnings
  (profit since the financial year began) and Retained Earnings (the account plus all
  earlier profit), so Net Assets equals Total Equity.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from xero_pipeline.sandbox.books.chart import ZERO
from xero_pipeline.sandbox.books.ledger import ledger_index
from xero_pipeline.sandbox.books.store import TenantBooks
from xero_pipeline.sandbox.reports.rows import (
    PROFIT_AND_LOSS_CLASSES,
    account_rows,
    add_months,
    fmt,
    fy_start,
    header,
    long_date,
    org,
    param_date,
    param_int,
    param_timeframe,
    profit,
    report,
    row,
    section,
    short_date,
    sorted_accounts,
    summary,
    today,
)


def balances_at(books: TenantBooks, d: date) -> dict[str, Decimal]:
    """Balance-sheet view at ``d``: earlier years' profit moved into Retained Earnings."""
    index = ledger_index(books)
    cumulative = index.balances(upto=d)
    start = fy_start(org(books), d)
    before_year = index.balances(upto=start - timedelta(days=1))
    accounts = books.records("Accounts")
    out = dict(cumulative)
    retained = next(a for a in accounts if a.get("SystemAccount") == "RETAINEDEARNINGS")["AccountID"]
    for a in accounts:
        if a["Class"] in PROFIT_AND_LOSS_CLASSES:
            earlier = before_year.get(a["AccountID"], ZERO)
            if earlier:
                out[a["AccountID"]] = out.get(a["AccountID"], ZERO) - earlier
                out[retained] = out.get(retained, ZERO) + earlier
    return out


# --- trial balance ----------------------------------------------------------------------

_TB_SECTIONS = (
    ("Revenue", "REVENUE"),
    ("Expenses", "EXPENSE"),
    ("Assets", "ASSET"),
    ("Liabilities", "LIABILITY"),
    ("Equity", "EQUITY"),
)


def trial_balance_report(books: TenantBooks, params: dict[str, str]) -> dict:
    d = param_date(params, "date", today(books))
    ytd = balances_at(books, d)
    month = ledger_index(books).balances(upto=d, since=d.replace(day=1))
    totals = [ZERO] * 4
    rows: list[dict] = [header("Account", "Debit", "Credit", "YTD Debit", "YTD Credit")]
    for title, cls in _TB_SECTIONS:
        section_rows = []
        for a in sorted_accounts(books):
            if a["Class"] != cls:
                continue
            m, y = month.get(a["AccountID"], ZERO), ytd.get(a["AccountID"], ZERO)
            if not m and not y:
                continue
            debit_side = cls in ("ASSET", "EXPENSE")
            cells = [*_sides(m, debit_side), *_sides(y, debit_side)]
            for i, value in enumerate((max(m, ZERO), max(-m, ZERO), max(y, ZERO), max(-y, ZERO))):
                totals[i] += value
            section_rows.append(row([f"{a['Name']} ({a['Code']})", *cells], attr=("account", a["AccountID"])))
        if section_rows:
            rows.append(section(title, section_rows))
    rows.append(section("", [summary(["Total", *(fmt(t) for t in totals)])]))
    return report(books, report_type="TrialBalance", name="Trial Balance",
                  titles=["Trial Balance", books.name, f"As at {long_date(d)}"], rows=rows)


def _sides(amount: Decimal, debit_side: bool) -> list[str]:
    """Debit and credit cells: the amount on its side, the natural side shows 0.00 for zero."""
    if amount > 0:
        return [fmt(amount), ""]
    if amount < 0:
        return ["", fmt(-amount)]
    return ["0.00", ""] if debit_side else ["", "0.00"]


# --- balance sheet ----------------------------------------------------------------------

_ASSET_GROUPS = (("Bank", ("BANK",)), ("Current Assets", ("CURRENT", "INVENTORY", "PREPAYMENT")),
                 ("Fixed Assets", ("FIXED",)), ("Non-current Assets", ("NONCURRENT",)))
_LIABILITY_GROUPS = (("Current Liabilities", ("CURRLIAB", "LIABILITY", "PAYG")),
                     ("Non-current Liabilities", ("TERMLIAB",)))


def balance_sheet_report(books: TenantBooks, params: dict[str, str]) -> dict:
    d = param_date(params, "date", today(books))
    periods = param_int(params, "periods", 0, low=0, high=12)
    step = param_timeframe(params)
    dates = [add_months(d, -step * k) for k in range(periods + 1)]
    views = [balances_at(books, x) for x in dates]
    accounts = sorted_accounts(books)
    the_org = org(books)
    rows: list[dict] = [header("", *(short_date(x) for x in dates)), section("Assets", [])]

    def group(title: str, types: tuple[str, ...], sign: int) -> list[Decimal]:
        section_rows, totals = account_rows(accounts, types, sign, views)
        if section_rows:
            rows.append(
                section(title, [*section_rows, summary([f"Total {title}", *(fmt(t) for t in totals)])])
            )
        return totals

    def add(*parts: list[Decimal]) -> list[Decimal]:
        return [sum(xs, ZERO) for xs in zip(*parts, strict=True)]

    assets = add(*(group(t, types, 1) for t, types in _ASSET_GROUPS))
    rows.append(section("", [summary(["Total Assets", *(fmt(x) for x in assets)])]))
    rows.append(section("Liabilities", []))
    liabilities = add(*(group(t, types, -1) for t, types in _LIABILITY_GROUPS))
    rows.append(section("", [summary(["Total Liabilities", *(fmt(x) for x in liabilities)])]))
    net_assets = [a - li for a, li in zip(assets, liabilities, strict=True)]
    rows.append(section("", [row(["Net Assets", *(fmt(x) for x in net_assets)])]))
    equity_rows, equity = [], [ZERO] * len(dates)
    index = ledger_index(books)
    earnings = [profit(index.balances(upto=x, since=fy_start(the_org, x)), accounts) for x in dates]
    for a in accounts:
        if a["Class"] != "EQUITY":
            continue
        values = [-v.get(a["AccountID"], ZERO) for v in views]
        if a.get("SystemAccount") == "RETAINEDEARNINGS":
            equity_rows.append(row(["Current Year Earnings", *(fmt(e) for e in earnings)]))
            equity = [q + e for q, e in zip(equity, earnings, strict=True)]
        if any(values):
            equity = [q + x for q, x in zip(equity, values, strict=True)]
            equity_rows.append(row([a["Name"], *(fmt(x) for x in values)], attr=("account", a["AccountID"])))
    rows.append(section("Equity", [*equity_rows, summary(["Total Equity", *(fmt(x) for x in equity)])]))
    return report(books, report_type="BalanceSheet", name="Balance Sheet",
                  titles=["Balance Sheet", books.name, f"As at {long_date(d)}"], rows=rows)
