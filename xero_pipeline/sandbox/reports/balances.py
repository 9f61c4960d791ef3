"""Xero's standard reports, computed from the same journals the Journals endpoint serves.

``build_report(books, "TrialBalance", {"date": "2026-10-31"})`` returns one Report in
the ``ReportWithRow`` shape; the HTTP layer wraps it in ``{"Reports": [...]}``. An
unknown report name raises ``KeyError``; a missing or malformed parameter raises
``ValueError`` with a message fit for a 400 response.

How the numbers are defined (Xero's layout; the arithmetic is ours where Xero's
documentation is silent):

* Trial Balance: *Debit/Credit* are each account's net movement in the month of
  ``date`` (first of the month to ``date``); *YTD Debit/YTD Credit* are its balance at
  ``date`` — cumulative for balance-sheet accounts, since the start of the financial
  year for profit-and-loss accounts, with earlier years' profit rolled into Retained
  Earnings. So the YTD columns balance, and for balance-sheet accounts they equal the
  sum of journal lines up to ``date``.
* Balance Sheet: balances at each column's date; equity shows Current Year Earnings
  (profit since the financial year began) and Retained Earnings (the account plus all
  earlier profit), so Net Assets equals Total Equity.
* Profit and Loss: movements between ``fromDate`` and ``toDate`` (default: this
  month), with ``periods`` earlier columns each shifted by ``timeframe``. Tracking
  filters (``trackingOptionID``/``trackingOptionID2``) keep only lines tagged with
  the option.
* Bank Summary: per bank account, money in and out between the dates, netted per
  source document (a receipt and its reversal cancel rather than showing twice).
* ``paymentsOnly`` (cash basis) and ``standardLayout`` are accepted and ignored:
  every report is on the accrual basis in the standard layout.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from xero_pipeline.sandbox.books.chart import ZERO
from xero_pipeline.sandbox.books.ledger import ledger_index
from xero_pipeline.sandbox.books.store import Record, TenantBooks
from xero_pipeline.sandbox.reports.rows import (
    COST_OF_SALES_TYPES,
    EXPENSE_TYPES,
    INCOME_TYPES,
    OTHER_INCOME_TYPES,
    PROFIT_AND_LOSS_CLASSES,
    add_months,
    fmt,
    fy_start,
    header,
    long_date,
    month_end,
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
)


def build_report(books: TenantBooks, name: str, params: dict[str, str]) -> dict:
    """One report by its path name (``TrialBalance``, ``ProfitAndLoss``, …)."""
    from xero_pipeline.sandbox.reports import more as reports_more
    builders: dict[str, Callable[[TenantBooks, dict[str, str]], dict]] = {
        "trialbalance": trial_balance_report,
        "profitandloss": profit_and_loss_report,
        "balancesheet": balance_sheet_report,
        "banksummary": bank_summary_report,
        "executivesummary": reports_more.executive_summary_report,
        "budgetsummary": reports_more.budget_summary_report,
        "agedreceivablesbycontact": reports_more.aged_receivables_report,
        "agedpayablesbycontact": reports_more.aged_payables_report,
    }
    try:
        builder = builders[name.lower()]
    except KeyError:
        raise KeyError(f"no report named {name!r}") from None
    with books.lock:
        return builder(books, {str(k).lower(): v for k, v in (params or {}).items()})


def org(books: TenantBooks) -> Record:
    return books.records("Organisation")[0]


def today(books: TenantBooks) -> date:
    return books.clock.now().date()


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
    columns = [(add_months(start, -step * k), add_months(end, -step * k)) for k in range(periods + 1)]
    moves = [_movements(books, s, e, options) for s, e in columns]
    accounts = sorted_accounts(books)
    rows: list[dict] = [header("", *(short_date(e) for _, e in columns))]

    def block(title: str, types: tuple[str, ...], sign: int, total_title: str) -> list[Decimal]:
        section_rows, totals = [], [ZERO] * len(columns)
        for a in accounts:
            if a["Type"] not in types:
                continue
            values = [sign * m.get(a["AccountID"], ZERO) for m in moves]
            if not any(values):
                continue
            totals = [t + v for t, v in zip(totals, values, strict=True)]
            section_rows.append(row([a["Name"], *(fmt(v) for v in values)], attr=("account", a["AccountID"])))
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
        section_rows, totals = [], [ZERO] * len(dates)
        for a in accounts:
            if a["Type"] not in types:
                continue
            values = [sign * v.get(a["AccountID"], ZERO) for v in views]
            if not any(values):
                continue
            totals = [t + x for t, x in zip(totals, values, strict=True)]
            section_rows.append(row([a["Name"], *(fmt(x) for x in values)], attr=("account", a["AccountID"])))
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
