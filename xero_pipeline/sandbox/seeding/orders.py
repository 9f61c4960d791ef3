"""The seed's documents that never post: quotes, purchase orders, repeating-invoice
templates (and the invoices they issue), billable expenses, budgets and contact groups.

Proportions per 3,000 invoices and bills: ~180 quotes, ~120 purchase orders,
~10 repeating templates, ~36 billable expenses; three budgets and five contact groups
whatever the scale. Budgets are sized from the expected monthly sales at the scale.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import Decimal

from xero_pipeline.sandbox.books import invoicing as inv
from xero_pipeline.sandbox.books import orders
from xero_pipeline.sandbox.books.chart import money, unit_amount
from xero_pipeline.sandbox.books.store import Record
from xero_pipeline.sandbox.seeding.history import (
    HISTORY_DAYS,
    INVOICES_PER_SCALE,
    History,
)
from xero_pipeline.sandbox.seeding.invoices import new_invoice
from xero_pipeline.sandbox.seeding.streams import fixed

_N = INVOICES_PER_SCALE


def plan_all(h: History) -> None:
    _quotes_and_orders(h)
    _repeating(h)
    _billable_expenses(h)
    _budgets(h)


def finish(h: History) -> None:
    _contact_groups(h)


def _quotes_and_orders(h: History) -> None:
    n = h.count(_N * 0.06, len(orders.QUOTE_STATUSES))
    days = h.spread(n, start=1)
    for d, fate in zip(
        days, h.fates(n, days, orders.QUOTE_STATUSES, fixed(8, 15, 12, 15, 40, 10)), strict=True
    ):
        h.buckets[d].append(lambda f=fate: _quote(h, f))
    n = h.count(_N * 0.04, len(orders.PO_STATUSES))
    days = h.spread(n, start=1)
    for d, fate in zip(days, h.fates(n, days, orders.PO_STATUSES, fixed(8, 10, 25, 47, 10)), strict=True):
        h.buckets[d].append(lambda f=fate: _purchase_order(h, f))


def _quote(h: History, fate: str) -> None:
    desk, rng = h.desk, h.rng
    quote = orders.new_quote(desk, contact=h.contact_for("ACCREC"), day=h.day(), status="DRAFT",
                             lines=h.lines_for("ACCREC", h.profile.currency))
    if fate in ("DRAFT",):
        return
    if fate == "DELETED":
        h.later(rng.randint(0, 10), lambda: orders.set_quote_status(desk, quote, "DELETED"))
        return

    def send() -> None:
        orders.set_quote_status(desk, quote, "SENT")
        if fate != "SENT":
            h.later(rng.randint(2, 30), lambda: orders.set_quote_status(desk, quote, fate))
    h.later(rng.randint(0, 2), send)


def _purchase_order(h: History, fate: str) -> None:
    desk, rng = h.desk, h.rng
    po = orders.new_purchase_order(desk, contact=h.contact_for("ACCPAY"), day=h.day(), status="DRAFT",
                                   lines=h.lines_for("ACCPAY", h.profile.currency))
    path = {"DRAFT": (), "DELETED": ("DELETED",), "SUBMITTED": ("SUBMITTED",),
            "AUTHORISED": ("SUBMITTED", "AUTHORISED"), "BILLED": ("SUBMITTED", "AUTHORISED", "BILLED")}[fate]

    def step(rest: tuple[str, ...]) -> None:
        orders.set_po_status(desk, po, rest[0])
        if rest[1:]:
            h.later(rng.randint(1, 15), lambda: step(rest[1:]))
    if path:
        h.later(rng.randint(0, 3), lambda: step(path))


def _repeating(h: History) -> None:
    options = ("AUTHORISED", "DRAFT", "DELETED")
    n = h.count(10, len(options))
    days = h.spread(n, start=1)
    days = [min(d, HISTORY_DAYS // 3) for d in days]
    for i, (d, fate) in enumerate(zip(days, h.fates(n, days, options, fixed(75, 15, 10)), strict=True)):
        kind = "ACCPAY" if i % 5 == 4 else "ACCREC"
        h.buckets[d].append(lambda k=kind, f=fate: _template(h, k, f))


def _template(h: History, kind: str, fate: str) -> None:
    desk, rng = h.desk, h.rng
    contact = h.contact_for(kind)
    lines = h.lines_for(kind, h.profile.currency, count=rng.choice((1, 2)))
    weekly = rng.random() < 0.15
    start = h.day() + timedelta(days=rng.randint(1, 10))
    template = orders.new_repeating_invoice(
        desk, kind=kind, contact=contact, start=start, lines=lines, status="DRAFT",
        unit="WEEKLY" if weekly else "MONTHLY", period=2 if weekly else 1,
        end=start + timedelta(days=365 * 2) if rng.random() < 0.5 else None)
    if fate == "DRAFT":
        return
    template["Status"] = "AUTHORISED"
    desk.save("RepeatingInvoices", template)
    stop_after = rng.randint(60, 200) if fate == "DELETED" else None
    began = h.d

    def issue() -> None:
        if stop_after is not None and h.d - began >= stop_after:
            template["Status"] = "DELETED"
            desk.save("RepeatingInvoices", template)
            return
        age = h.last_index - h.d
        fate_now = h.rng.choices(("PAID", "OPEN", "OPEN_PARTIAL"),
                                 weights=(90, 5, 5) if age > 45 else (30, 60, 10))[0]
        doc = new_invoice(h, kind, fate_now, contact=contact, repeating_id=template["RepeatingInvoiceID"],
                          lines=[dict(ln, LineItemID=desk.id()) for ln in template["LineItems"]])
        orders.advance_schedule(desk, template, issued=doc["Date"])
        gap = (template["Schedule"]["NextScheduledDate"] - h.day()).days
        if h.within(gap):
            h.later(gap, issue)
    h.later((start - h.day()).days, issue)


def _billable_expenses(h: History) -> None:
    options = ("BILLED", "APPROVED", "ONDRAFT", "DRAFT", "VOIDED")
    n = h.count(_N * 0.012, len(options))
    days = h.spread(n, start=5)
    for d, fate in zip(days, h.fates(n, days, options, fixed(55, 25, 10, 5, 5)), strict=True):
        h.buckets[d].append(lambda f=fate: _billable(h, f))


def _billable(h: History, fate: str) -> None:
    desk, ch, rng = h.desk, h.desk.chart, h.rng
    bill_fate = {"DRAFT": "DRAFT", "VOIDED": "OPEN"}.get(fate, "PAID")
    bill = new_invoice(h, "ACCPAY", bill_fate)
    line = bill["LineItems"][0]
    customer = h.contact_for("ACCREC")
    link = orders.new_linked_transaction(desk, bill=bill, line=line, customer=customer,
                                         status="DRAFT" if fate == "DRAFT" else "APPROVED")
    if fate == "VOIDED":
        def void() -> None:
            if bill["Status"] == "AUTHORISED" and not bill["Payments"] and not bill["AmountCredited"]:
                inv.void(desk, bill)
            link["Status"] = "VOIDED"
            desk.save("LinkedTransactions", link)
        h.later(rng.randint(1, 20), void)
    elif fate in ("BILLED", "ONDRAFT"):
        def recharge() -> None:
            target_line = desk.line(
                account=ch.by_code["260"],
                description=f"Recharge: {line['Description']}",
                tax_type=ch.profile.sales_tax,
                line_amount_types="Exclusive",
                quantity=Decimal("1.0000"),
                unit=unit_amount(line["LineAmount"] * Decimal("1.2")),
            )
            invoice = new_invoice(h, "ACCREC", "DRAFT" if fate == "ONDRAFT" else "PAID", contact=customer,
                                  lines=[target_line])
            link["Status"] = fate
            link["TargetTransactionID"] = invoice["InvoiceID"]
            link["TargetLineItemID"] = target_line["LineItemID"]
            desk.save("LinkedTransactions", link)
        h.later(rng.randint(3, 40), recharge)


# --- budgets and contact groups ---------------------------------------------------------


def _months(start: date, count: int) -> list[date]:
    out = []
    y, m = start.year, start.month
    for _ in range(count):
        out.append(date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _budgets(h: History) -> None:
    ch = h.desk.chart
    sales_month = 35000 * h.scale
    plan = {
        "200": sales_month,
        "260": sales_month * 0.05,
        "310": sales_month * 0.2,
        "400": sales_month * 0.04,
        "412": sales_month * 0.03,
        "469": sales_month * 0.08,
        "477": sales_month * 0.25,
        "489": sales_month * 0.01,
    }
    region = next(c for c in h.books.records("TrackingCategories") if c["Status"] == "ACTIVE")
    north = region["Options"][0]
    specs = (
        ("Overall Budget", "OVERALL", None, 24, 1.0),
        (f"{north['Name']} region", "TRACKING", north, 12, 0.3),
        ("Stretch targets", "OVERALL", None, 12, 1.15),
    )

    def create(description: str, kind: str, option: dict | None, months: int, factor: float) -> None:
        first = _months(h.day().replace(day=1), 2)[1]
        budget: Record = {
            "BudgetID": h.desk.id(),
            "Type": kind,
            "Description": description,
            "BudgetLines": [],
            "Tracking": (
                [
                    {
                        "TrackingCategoryID": region["TrackingCategoryID"],
                        "Name": region["Name"],
                        "Option": option["Name"],
                        "TrackingOptionID": option["TrackingOptionID"],
                    }
                ]
                if option
                else []
            ),
        }
        for code, monthly in plan.items():
            account = ch.by_code[code]
            budget["BudgetLines"].append(
                {
                    "AccountID": account["AccountID"],
                    "AccountCode": code,
                    "BudgetBalances": [
                        {
                            "Period": p,
                            "Amount": money(monthly * factor * (1 + 0.1 * math.sin(p.month))),
                            "Notes": "",
                        }
                        for p in _months(first, months)
                    ],
                }
            )
        h.desk.save("Budgets", budget)

        def revise() -> None:  # a mid-year reforecast touches the budget again
            for line in budget["BudgetLines"][:2]:
                for bal in line["BudgetBalances"][-3:]:
                    bal["Amount"] = money(bal["Amount"] * Decimal("1.05"))
                    bal["Notes"] = "Reforecast"
            h.desk.save("Budgets", budget)
        h.later(h.rng.randint(120, 300), revise)
    for i, spec in enumerate(specs):
        h.buckets[min(HISTORY_DAYS - 1, 1 + i * 150)].append(lambda s=spec: create(*s))


def _contact_groups(h: History) -> None:
    desk, rng = h.desk, h.rng
    contacts = [c for c in h.books.records("Contacts") if c["ContactStatus"] == "ACTIVE"]
    size = max(2, len(contacts) // 20)
    groups = (("VIP Customers", "ACTIVE", [c for c in contacts if c["IsCustomer"]]),
              ("Preferred Suppliers", "ACTIVE", [c for c in contacts if c["IsSupplier"]]),
              ("Overseas", "ACTIVE", [c for c in contacts if c.get("DefaultCurrency")]),
              ("Wholesale", "ACTIVE", contacts),
              ("Old mailing list", "DELETED", []))
    for name, status, pool in groups:
        members = rng.sample(pool, min(size, len(pool)))
        desk.save(
            "ContactGroups",
            {
                "ContactGroupID": desk.id(),
                "Name": name,
                "Status": status,
                "Contacts": [{"ContactID": c["ContactID"], "Name": c["Name"]} for c in members],
            },
        )
