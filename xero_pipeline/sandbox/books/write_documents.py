"""Writes of documents with lines and a status: invoices and bills, credit notes, purchase
orders and quotes, through the same books code the simulated bookkeeper uses, so an
authorised document posts its journal and a void or an edit reverses it.

Status rules (Xero's, fact sheet §7): DRAFT -> SUBMITTED -> AUTHORISED; only AUTHORISED
documents can be VOIDED, only DRAFT and SUBMITTED ones DELETED; a document with a
payment or credit applied (PAID among them) cannot be edited or voided. Purchase orders
go on to BILLED, quotes DRAFT -> SENT -> ACCEPTED/DECLINED -> INVOICED; neither posts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from xero_pipeline.sandbox.books import invoicing, orders
from xero_pipeline.sandbox.books import write_values as wv
from xero_pipeline.sandbox.books.desk import Desk
from xero_pipeline.sandbox.books.store import Record
from xero_pipeline.sandbox.books.write_values import Invalid

_LEDGER_MOVES = {
    "DRAFT": frozenset({"SUBMITTED", "AUTHORISED", "DELETED"}),
    "SUBMITTED": frozenset({"DRAFT", "AUTHORISED", "DELETED"}),
    "AUTHORISED": frozenset({"VOIDED"}),
}
APPLIED = "This document cannot be edited as it has a payment or credit note allocated to it."


@dataclass(frozen=True)
class _Kind:
    path: str
    schema: str
    id_field: str
    number_field: str
    types: tuple[str, ...]  # allowed Type values; () when the document has none
    created_as: tuple[str, ...]  # statuses a create may ask for; the first is the default
    moves: dict[str, frozenset[str]]  # status -> statuses an update may move it to (absent: frozen)
    posts: bool  # authorised documents are in the ledger
    fields: tuple[str, ...]  # plain text fields an element may set


_KINDS = {
    "Invoices": _Kind("Invoices", "Invoice", "InvoiceID", "InvoiceNumber", ("ACCREC", "ACCPAY"),
                      ("DRAFT", "SUBMITTED", "AUTHORISED"), _LEDGER_MOVES, True, ("Reference",)),
    "CreditNotes": _Kind("CreditNotes", "CreditNote", "CreditNoteID", "CreditNoteNumber",
                         ("ACCRECCREDIT", "ACCPAYCREDIT"), ("DRAFT", "SUBMITTED", "AUTHORISED"), _LEDGER_MOVES,
                         True, ("Reference",)),
    "PurchaseOrders": _Kind(
        "PurchaseOrders", "PurchaseOrder", "PurchaseOrderID", "PurchaseOrderNumber", (),
        ("DRAFT", "SUBMITTED", "AUTHORISED"),
        {"DRAFT": frozenset({"SUBMITTED", "AUTHORISED", "DELETED"}),
         "SUBMITTED": frozenset({"DRAFT", "AUTHORISED", "DELETED"}), "AUTHORISED": frozenset({"BILLED"})},
        False, ("Reference", "AttentionTo", "Telephone", "DeliveryAddress", "DeliveryInstructions")),
    "Quotes": _Kind(
        "Quotes", "Quote", "QuoteID", "QuoteNumber", (), ("DRAFT", "SENT"),
        {"DRAFT": frozenset({"SENT", "DELETED"}), "SENT": frozenset({"DRAFT", "ACCEPTED", "DECLINED", "DELETED"}),
         "ACCEPTED": frozenset({"INVOICED"}), "DECLINED": frozenset({"SENT", "DELETED"})},
        False, ("Reference", "Title", "Summary", "Terms")),
}
PATHS = tuple(_KINDS)


def write(desk: Desk, path: str, element: Record, existing: Record | None) -> Record:
    kind = _KINDS[path]
    if existing is None:  # an id naming no record was refused before (``writes.apply``)
        return _create(desk, kind, element)
    return _update(desk, kind, element, existing)


def _sales_side(kind: _Kind, doc_type: str) -> bool:
    return kind.path == "Quotes" or doc_type in ("ACCREC", "ACCPAYCREDIT")


def _create(desk: Desk, kind: _Kind, el: Record) -> Record:
    doc_type = wv.text(el, "Type")
    if kind.types and doc_type not in kind.types:
        raise Invalid(f"Type must be one of {', '.join(kind.types)}" if doc_type else "Type is required")
    status = wv.text(el, "Status") or kind.created_as[0]
    if status not in kind.created_as:
        raise Invalid(f"{kind.schema} not of valid status for creation")
    amounts = wv.line_amount_types(el, upper=kind.path == "Quotes")
    profile = desk.chart.profile
    tax = profile.sales_tax if _sales_side(kind, doc_type) else profile.purchase_tax
    lines = wv.lines(desk, el.get("LineItems"), amounts=amounts, default_tax=tax, need_account=kind.posts)
    if status == "AUTHORISED" and not lines:
        raise Invalid(f"An authorised {kind.schema} must have at least one line item")
    currency = wv.text(el, "CurrencyCode") or desk.chart.base
    if currency not in desk.chart.currencies:
        raise Invalid(f"The currency {currency} is not enabled for this organisation")
    if kind.posts and currency != desk.chart.base and kind.path == "CreditNotes":
        raise Invalid("Credit notes are written in the base currency here")
    day = wv.day(el.get("Date"), "Date", desk.now().date())
    number = wv.text(el, kind.number_field)
    if number and doc_type != "ACCPAY" and any(
        r.get(kind.number_field) == number and r["Status"] != "DELETED" for r in desk.books.records(kind.path)
    ):
        raise Invalid(f"{kind.schema} # must be unique.")
    due = wv.day(el["DueDate"], "DueDate") if el.get("DueDate") else None
    # Last of the checks: a contact named but unknown is created, which must not happen
    # for an element refused for another reason.
    contact = wv.contact(desk, el.get("Contact"))
    if kind.path == "Invoices":
        doc = invoicing.new_invoice(desk, kind=doc_type, contact=contact, day=day, lines=lines, status="DRAFT",
                                    currency=currency, reference=wv.text(el, "Reference"), line_amount_types=amounts,
                                    due_days=(due - day).days if due else None)
        doc["HasAttachments"] = doc["SentToContact"] = False
    elif kind.path == "CreditNotes":
        doc = invoicing.new_credit_note(desk, kind=doc_type, contact=contact, day=day, lines=lines, status="DRAFT",
                                        currency=currency, reference=wv.text(el, "Reference"))
    elif kind.path == "PurchaseOrders":
        doc = orders.new_purchase_order(desk, contact=contact, day=day, lines=lines, status="DRAFT")
        doc["DeliveryDate"] = due or wv.day(el.get("DeliveryDate"), "DeliveryDate", day + timedelta(days=14))
        doc["SentToContact"] = False
    else:
        doc = orders.new_quote(desk, contact=contact, day=day, lines=lines, status="DRAFT")
        if el.get("ExpiryDate"):
            doc["ExpiryDate"] = wv.day(el["ExpiryDate"], "ExpiryDate")
            doc["ExpiryDateString"] = f"{doc['ExpiryDate'].isoformat()}T00:00:00"
    if number:
        doc[kind.number_field] = number
    for name in kind.fields:
        doc[name] = wv.text(el, name, doc.get(name, ""))
    _retotal(desk, doc, amounts)
    return _move(desk, kind, doc, status)


def _retotal(desk: Desk, doc: Record, amounts: str) -> None:
    doc["LineAmountTypes"] = amounts
    desk.set_totals(doc, with_discount="TotalDiscount" in doc)
    if "AmountDue" in doc:
        doc["AmountDue"] = doc["Total"] - doc.get("AmountPaid", 0) - doc.get("AmountCredited", 0)
    if "RemainingCredit" in doc:
        doc["RemainingCredit"] = doc["Total"]


def _update(desk: Desk, kind: _Kind, el: Record, doc: Record) -> Record:
    status = doc["Status"]
    target = wv.text(el, "Status") or status
    if status not in kind.moves or (target != status and target not in kind.moves[status]):
        raise Invalid(f"{kind.schema} not of valid status for modification")
    if kind.posts and invoicing.has_applied(doc):
        raise Invalid(APPLIED)
    if target in ("VOIDED", "DELETED"):
        return _move(desk, kind, doc, target)  # Xero ignores other changes sent with a void or delete
    amounts = wv.line_amount_types(el, doc["LineAmountTypes"], upper=kind.path == "Quotes")
    profile = desk.chart.profile
    tax = profile.sales_tax if _sales_side(kind, doc.get("Type", "")) else profile.purchase_tax
    lines = (wv.lines(desk, el["LineItems"], amounts=amounts, default_tax=tax, need_account=kind.posts)
             if "LineItems" in el else None)
    day = wv.day(el["Date"], "Date") if el.get("Date") else None
    due = wv.day(el["DueDate"], "DueDate") if el.get("DueDate") else None
    posted = kind.posts and status == "AUTHORISED"
    if lines is not None:
        doc["LineItems"] = lines
    elif amounts != doc["LineAmountTypes"]:  # the same lines, taxed the other way
        for ln in doc["LineItems"]:
            desk.price_line(ln, amounts)
    if day is not None:
        doc["Date"] = day
    if due is not None:
        doc["DueDate"] = due
    if el.get(kind.number_field):
        doc[kind.number_field] = str(el[kind.number_field])
    for name in kind.fields:
        if name in el:
            doc[name] = wv.text(el, name)
    _retotal(desk, doc, amounts)
    if posted and (lines is not None or day is not None or "LineAmountTypes" in el):
        invoicing.repost(desk, doc)
    desk.save(kind.path, doc)
    return _move(desk, kind, doc, target)


def _move(desk: Desk, kind: _Kind, doc: Record, target: str) -> Record:
    """Apply a status change through the books' own rules (journals posted or reversed)."""
    if target == doc["Status"]:
        return desk.save(kind.path, doc)
    if kind.posts:
        if target == "SUBMITTED":
            return invoicing.submit(desk, doc)
        if target == "AUTHORISED":
            return invoicing.approve(desk, doc)
        if target == "VOIDED":
            return invoicing.void(desk, doc)
        if target == "DELETED":
            return invoicing.delete_draft(desk, doc)
        doc["Status"] = target  # SUBMITTED back to DRAFT: nothing posted either way
        return desk.save(kind.path, doc)
    if kind.path == "PurchaseOrders":
        return orders.set_po_status(desk, doc, target)
    return orders.set_quote_status(desk, doc, target)
