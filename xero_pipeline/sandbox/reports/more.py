"""Executive Summary, Budget Summary and the two aged-by-contact reports.

Definitions where Xero's documentation is silent:

* Executive Summary compares the month of ``date`` (first of the month to ``date``)
  with the whole previous month. Variance is the relative change, "0.0%" when the
  earlier value is zero. Invoices issued are sales invoices dated in the month that
  were authorised (AUTHORISED or PAID); their average is in base currency.
* Budget Summary reads the organisation's first OVERALL budget, ``periods`` columns
  (default 12) of ``timeframe`` months (1, 3 or 12) from the month of ``date``.
* Aged Receivables/Payables by contact list that contact's authorised invoices/bills
  dated from ``fromDate`` (default: its first document) to ``date``, with what was
  paid and credited by ``date`` and what was still due; amounts are in base currency
  at each document's own rate. Documents dated before ``fromDate`` that are still
  outstanding make up the opening balance.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from xero_pipeline.sandbox.books.chart import ZERO, to_base
from xero_pipeline.sandbox.books.ledger import ledger_index
from xero_pipeline.sandbox.books.store import Record, TenantBooks
from xero_pipeline.sandbox.reports.balances import balances_at
from xero_pipeline.sandbox.reports.rows import (
    COST_OF_SALES_TYPES,
    EXPENSE_TYPES,
    INCOME_TYPES,
    OTHER_INCOME_TYPES,
    add_months,
    fmt,
    header,
    iso_cell,
    long_date,
    month_end,
    param_date,
    param_int,
    report,
    row,
    section,
    sorted_accounts,
    summary,
    today,
)

# --- executive summary ------------------------------------------------------------------


def _pct(value: Decimal) -> str:
    return f"{value:.1f}%"


def _variance(now: Decimal, before: Decimal) -> str:
    if not before:
        return "0.0%"
    return _pct((now - before) / abs(before) * 100)


def executive_summary_report(books: TenantBooks, params: dict[str, str]) -> dict:
    d = param_date(params, "date", today(books))
    first = d.replace(day=1)
    prev_end = first - timedelta(days=1)
    periods = [(first, d), (prev_end.replace(day=1), prev_end)]
    index = ledger_index(books)
    accounts = sorted_accounts(books)
    banks = [a["AccountID"] for a in accounts if a["Type"] == "BANK"]
    by_type: dict[str, list[str]] = {}
    for a in accounts:
        by_type.setdefault(a["Type"], []).append(a["AccountID"])

    def total(balances: dict[str, Decimal], types: tuple[str, ...]) -> Decimal:
        return sum((balances.get(i, ZERO) for t in types for i in by_type.get(t, ())), ZERO)

    figures = []
    for start, end in periods:
        moves = index.balances(upto=end, since=start)
        received, spent = index.bank_flows(since=start, upto=end)
        closing = index.balances(upto=end)
        view = balances_at(books, end)
        income = -total(moves, INCOME_TYPES)
        direct = total(moves, COST_OF_SALES_TYPES)
        other = -total(moves, OTHER_INCOME_TYPES)
        expenses = total(moves, EXPENSE_TYPES)
        issued = [i for i in books.records("Invoices") if i["Type"] == "ACCREC" and start <= i["Date"] <= end
                  and i["Status"] in ("AUTHORISED", "PAID")]
        issued_value = sum((to_base(i["Total"], i["CurrencyRate"]) for i in issued), ZERO)
        equity = -sum((view.get(a["AccountID"], ZERO) for a in accounts if a["Class"] == "EQUITY"), ZERO)
        net_profit = income - direct + other - expenses
        figures.append(
            {
                "Cash received": sum((received.get(b, ZERO) for b in banks), ZERO),
                "Cash spent": sum((spent.get(b, ZERO) for b in banks), ZERO),
                "Closing bank balance": sum((closing.get(b, ZERO) for b in banks), ZERO),
                "Income": income,
                "Direct costs": direct,
                "Gross profit (loss)": income - direct,
                "Other Income": other,
                "Expenses": expenses,
                "Profit (loss)": net_profit,
                "Debtors": sum(
                    (view.get(a["AccountID"], ZERO) for a in accounts if a.get("SystemAccount") == "DEBTORS"),
                    ZERO,
                ),
                "Creditors": -sum(
                    (
                        view.get(a["AccountID"], ZERO)
                        for a in accounts
                        if a.get("SystemAccount") == "CREDITORS"
                    ),
                    ZERO,
                ),
                "Net assets": equity
                - sum(
                    (
                        view.get(a["AccountID"], ZERO)
                        for a in accounts
                        if a["Class"] in ("REVENUE", "EXPENSE")
                    ),
                    ZERO,
                ),
                "Number of invoices issued": Decimal(len(issued)),
                "Average value of invoices": (issued_value / len(issued)) if issued else ZERO,
                "_net_profit": net_profit,
            }
        )
    for f in figures:
        f["Cash surplus (deficit)"] = f["Cash received"] - f["Cash spent"]
    layout = (("Cash", ("Cash received", "Cash spent", "Cash surplus (deficit)", "Closing bank balance")),
              ("Profitability", ("Income", "Direct costs", "Gross profit (loss)", "Other Income", "Expenses",
                                 "Profit (loss)")),
              ("Balance Sheet", ("Debtors", "Creditors", "Net assets")),
              ("Income", ("Number of invoices issued", "Average value of invoices")))
    rows: list[dict] = [header("", f"{first:%b %Y}", f"{periods[1][0]:%b %Y}", "Variance")]
    for title, names in layout:
        body = []
        for name in names:
            now_v, before_v = figures[0][name], figures[1][name]
            shown = (
                (str(int(now_v)), str(int(before_v)))
                if name.startswith("Number")
                else (fmt(now_v), fmt(before_v))
            )
            body.append(row([name, *shown, _variance(now_v, before_v)]))
        rows.append(section(title, body))
    margins = []
    for f in figures:
        inc = f["Income"]
        margins.append(("" if not inc else _pct(f["Gross profit (loss)"] / inc * 100),
                        "" if not inc else _pct(f["_net_profit"] / inc * 100)))
    rows.append(section("Performance", [
        row(["Gross profit margin", margins[0][0], margins[1][0], "0.0%"]),
        row(["Net profit margin", margins[0][1], margins[1][1], "0.0%"]),
    ]))
    return report(books, report_type="ExecutiveSummary", name="Executive Summary",
                  titles=["Executive Summary", books.name, f"For the month of {d:%B %Y}"], rows=rows)


# --- budget summary ---------------------------------------------------------------------


def budget_summary_report(books: TenantBooks, params: dict[str, str]) -> dict:
    d = param_date(params, "date", today(books))
    periods = param_int(params, "periods", 12, low=1, high=12)
    step = param_int(params, "timeframe", 1, low=1, high=12)
    if step not in (1, 3, 12):
        raise ValueError("timeframe must be 1 (month), 3 (quarter) or 12 (year)")
    starts = [add_months(d.replace(day=1), step * k) for k in range(periods)]
    last = month_end(add_months(starts[-1], step - 1))
    budget = next((b for b in books.records("Budgets") if b["Type"] == "OVERALL"), None)
    amounts: dict[str, list[Decimal]] = {}
    for line in (budget or {}).get("BudgetLines", []):
        cols = [ZERO] * periods
        for bal in line["BudgetBalances"]:
            for k, s in enumerate(starts):
                if s <= bal["Period"] <= month_end(add_months(s, step - 1)):
                    cols[k] += bal["Amount"]
        amounts[line["AccountID"]] = cols
    accounts = sorted_accounts(books)
    rows: list[dict] = [header("Account", *(f"{s:%b-%y}" for s in starts))]

    def block(title: str, types: tuple[str, ...], total_title: str) -> list[Decimal]:
        body, totals = [], [ZERO] * periods
        for a in accounts:
            if a["Type"] in types and a["AccountID"] in amounts:
                values = amounts[a["AccountID"]]
                totals = [t + v for t, v in zip(totals, values, strict=True)]
                body.append(row([a["Name"], *(fmt(v) for v in values)], attr=("account", a["AccountID"])))
        rows.append(section(title, [*body, summary([total_title, *(fmt(t) for t in totals)])]))
        return totals

    income = block("Income", INCOME_TYPES + OTHER_INCOME_TYPES, "Total Income")
    costs = block("Less Cost of Sales", COST_OF_SALES_TYPES, "Total Cost of Sales")
    gross = [i - c for i, c in zip(income, costs, strict=True)]
    rows.append(section("", [summary(["Gross Profit", *(fmt(g) for g in gross)])]))
    expenses = block("Less Operating Expenses", EXPENSE_TYPES, "Total Expenses")
    rows.append(
        section("", [summary(["Net Profit", *(fmt(g - x) for g, x in zip(gross, expenses, strict=True))])])
    )
    title = budget["Description"] if budget else "Overall Budget"
    return report(
        books,
        report_type="BudgetSummary",
        name="Budget Summary",
        titles=[title, "Budget Summary", books.name, f"{starts[0]:%B %Y} to {last:%B %Y}"],
        rows=rows,
    )


# --- aged by contact --------------------------------------------------------------------


def aged_receivables_report(books: TenantBooks, params: dict[str, str]) -> dict:
    return _aged(books, params, kind="ACCREC")


def aged_payables_report(books: TenantBooks, params: dict[str, str]) -> dict:
    return _aged(books, params, kind="ACCPAY")


def _as_at(doc: Record, d: date) -> tuple[Decimal, Decimal]:
    """What had been paid and credited on ``doc`` by the end of ``d``."""
    paid = sum((p["Amount"] for p in doc["Payments"] if p["Date"] <= d), ZERO)
    credited = sum((c["AppliedAmount"] for key in ("CreditNotes", "Overpayments", "Prepayments")
                    for c in doc[key] if c["Date"] <= d), ZERO)
    return paid, credited


def _aged(books: TenantBooks, params: dict[str, str], *, kind: str) -> dict:
    contact_id = params.get("contactid")
    if not contact_id:
        raise ValueError("contactId is required: the aged reports are run for one contact")
    contact = books.get("Contacts", contact_id)
    if contact is None:
        raise ValueError(f"contactId {contact_id} is not a contact of this organisation")
    d = param_date(params, "date", param_date(params, "toDate", today(books)))
    docs = sorted(
        (
            i
            for i in books.records("Invoices")
            if i["Type"] == kind
            and i["Contact"]["ContactID"] == contact_id
            and i["Status"] in ("AUTHORISED", "PAID", "VOIDED")
            and i["Date"] <= d
        ),
        key=lambda i: (i["Date"], i.get("InvoiceNumber", "")),
    )
    start = param_date(params, "fromDate", docs[0]["Date"] if docs else d)
    opening, body, totals = ZERO, [], [ZERO] * 4
    for doc in docs:
        if doc["Status"] == "VOIDED":
            continue  # a voided document is reversed at its own date: never outstanding
        paid, credited = _as_at(doc, d)
        rate = doc["CurrencyRate"]
        total_b, paid_b, credited_b = (to_base(x, rate) for x in (doc["Total"], paid, credited))
        due = total_b - paid_b - credited_b
        if not due:
            continue
        if doc["Date"] < start:
            opening += due
            continue
        overdue = (d - doc["DueDate"]).days
        number = doc["InvoiceNumber"] if kind == "ACCREC" else doc.get("Reference") or doc["InvoiceNumber"]
        values = [total_b, paid_b, credited_b, due]
        totals = [t + v for t, v in zip(totals, values, strict=True)]
        body.append(row([iso_cell(doc["Date"]), number, iso_cell(doc["DueDate"]),
                         f"{overdue} days overdue" if overdue > 0 else "", *(fmt(v) for v in values)],
                        attr=("invoiceID", doc["InvoiceID"])))
    closing = [totals[0], totals[1], totals[2], opening + totals[3]]
    rows = [
        header(
            "Date",
            "Number" if kind == "ACCREC" else "Reference",
            "Due Date",
            "",
            "Total",
            "Paid",
            "Credited",
            "Due",
        ),
        section("", [row([iso_cell(start), "Opening Balance", "", "", "", "", "", fmt(opening)])]),
        section("", [*body, summary(["Total", "", "", "", *(fmt(t) for t in totals)])]),
        section("", [summary(["Closing Balance", "", "", "", *(fmt(c) for c in closing)])]),
    ]
    payables = kind == "ACCPAY"
    return report(
        books,
        report_type="AgedPayablesByContact" if payables else "AgedReceivablesByContact",
        name="Aged Payables By Contact" if payables else "Aged Receivables By Contact",
        titles=[
            "Bills" if payables else "Invoices",
            contact["Name"],
            f"From {long_date(start)} to {long_date(d)}",
            f"Showing payments to {long_date(d)}",
        ],
        rows=rows,
    )
