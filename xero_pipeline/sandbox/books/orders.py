"""Documents that never touch the ledger: quotes, purchase orders, repeating-invoice
templates and billable-expense links.

Xero quirks kept here: a Quote's ``LineAmountTypes`` uses the upper-case enum
(EXCLUSIVE/INCLUSIVE/NOTAX) where every other document uses Exclusive/Inclusive/NoTax;
repeating invoices carry both ``RepeatingInvoiceID`` and ``ID`` and have no
UpdatedDateUTC; a linked transaction ties a bill line (the billable expense) to a
customer and, once invoiced, to the sales invoice line that recharges it.
"""

from __future__ import annotations

from datetime import date, timedelta

from xero_pipeline.sandbox.books.desk import Desk
from xero_pipeline.sandbox.books.store import Record

QUOTE_STATUSES = ("DRAFT", "SENT", "DECLINED", "ACCEPTED", "INVOICED", "DELETED")
PO_STATUSES = ("DRAFT", "SUBMITTED", "AUTHORISED", "BILLED", "DELETED")


def _iso(day: date) -> str:
    return f"{day.isoformat()}T00:00:00"


def new_quote(desk: Desk, *, contact: Record, day: date, lines: list[dict], status: str) -> Record:
    rng = desk.rng
    expiry = day + timedelta(days=30)
    quote: Record = {
        "QuoteID": desk.id(), "QuoteNumber": desk.next_number("QU-", "Quotes", "QuoteNumber"),
        "Reference": rng.choice(("", f"RFQ {rng.randint(100, 999)}")), "Terms": "Valid for 30 days",
        "Contact": desk.contact_ref(contact), "LineItems": lines, "Date": day, "DateString": _iso(day),
        "ExpiryDate": expiry, "ExpiryDateString": _iso(expiry), "Status": status,
        "CurrencyCode": desk.chart.base, "CurrencyRate": desk.chart.rate(desk.chart.base, day),
        "Title": "Quote", "Summary": lines[0]["Description"], "LineAmountTypes": "EXCLUSIVE",
    }
    desk.set_totals(quote, with_discount=True)
    return desk.save("Quotes", quote)


def set_quote_status(desk: Desk, quote: Record, status: str) -> Record:
    quote["Status"] = status
    return desk.save("Quotes", quote)


def new_purchase_order(desk: Desk, *, contact: Record, day: date, lines: list[dict], status: str) -> Record:
    rng = desk.rng
    city = rng.choice(desk.chart.profile.cities)
    po: Record = {
        "PurchaseOrderID": desk.id(),
        "PurchaseOrderNumber": desk.next_number("PO-", "PurchaseOrders", "PurchaseOrderNumber"),
        "Date": day,
        "DeliveryDate": day + timedelta(days=rng.randint(3, 21)),
        "AttentionTo": "Receiving",
        "DeliveryAddress": f"{rng.randint(1, 200)} Main Street, {city[0]} {city[2]}",
        "DeliveryInstructions": rng.choice(("", "Leave at reception", "Call on arrival")),
        "Telephone": "",
        "Reference": "",
        "SentToContact": status != "DRAFT",
        "HasAttachments": False,
        "CurrencyCode": desk.chart.base,
        "CurrencyRate": desk.chart.rate(desk.chart.base, day),
        "Contact": desk.contact_ref(contact),
        "Status": status,
        "LineAmountTypes": "Exclusive",
        "LineItems": lines,
    }
    desk.set_totals(po, with_discount=True)
    return desk.save("PurchaseOrders", po)


def set_po_status(desk: Desk, po: Record, status: str) -> Record:
    po["Status"] = status
    if status == "AUTHORISED":
        po["ExpectedArrivalDate"] = po["DeliveryDate"]
    return desk.save("PurchaseOrders", po)


def new_repeating_invoice(desk: Desk, *, kind: str, contact: Record, start: date, lines: list[dict],
                          status: str, unit: str, period: int, end: date | None) -> Record:
    rid = desk.id()
    schedule = {"Period": period, "Unit": unit, "DueDate": 20, "DueDateType": "OFFOLLOWINGMONTH",
                "StartDate": start, "NextScheduledDate": start}
    if end is not None:
        schedule["EndDate"] = end
    template: Record = {
        "Schedule": schedule, "RepeatingInvoiceID": rid, "ID": rid, "Type": kind,
        "Reference": "[Month] [Year]" if unit == "MONTHLY" else "[Week]", "HasAttachments": False,
        "ApprovedForSending": status == "AUTHORISED" and kind == "ACCREC", "SendCopy": False,
        "MarkAsSent": False, "IncludePDF": kind == "ACCREC", "Contact": desk.contact_ref(contact),
        "Status": status, "LineAmountTypes": "Exclusive", "LineItems": lines, "CurrencyCode": desk.chart.base,
    }
    themes = desk.books.records("BrandingThemes")
    if kind == "ACCREC" and themes:
        template["BrandingThemeID"] = themes[0]["BrandingThemeID"]
    desk.set_totals(template)
    return desk.save("RepeatingInvoices", template)


def advance_schedule(desk: Desk, template: Record, *, issued: date) -> Record:
    """After the template issues an invoice, its NextScheduledDate moves one period on."""
    s = template["Schedule"]
    if s["Unit"] == "WEEKLY":
        nxt = issued + timedelta(weeks=s["Period"])
    else:
        month = issued.month - 1 + s["Period"]
        year = issued.year + month // 12
        nxt = date(year, month % 12 + 1, min(issued.day, 28))
    s["NextScheduledDate"] = nxt
    return desk.save("RepeatingInvoices", template)


def new_linked_transaction(desk: Desk, *, bill: Record, line: dict, customer: Record, status: str,
                           invoice: Record | None = None, invoice_line: dict | None = None) -> Record:
    link: Record = {
        "LinkedTransactionID": desk.id(), "SourceTransactionID": bill["InvoiceID"],
        "SourceLineItemID": line["LineItemID"], "ContactID": customer["ContactID"],
        "Status": status, "Type": "BILLABLEEXPENSE", "SourceTransactionTypeCode": "ACCPAY",
    }
    if invoice is not None and invoice_line is not None:
        link["TargetTransactionID"] = invoice["InvoiceID"]
        link["TargetLineItemID"] = invoice_line["LineItemID"]
    return desk.save("LinkedTransactions", link)
