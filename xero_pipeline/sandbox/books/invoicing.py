"""Invoices, bills and credit notes: lines, totals, and the status rules Xero enforces,
with the journal each step posts. Payments and allocations live in ``settlement``.

Status rules (Xero's): only DRAFT/SUBMITTED documents can be DELETED; only AUTHORISED
documents with nothing paid or credited can be VOIDED; editing an authorised document
reverses its journal and posts a new one.

Assumptions where the fact sheet is silent:

* VOIDED and DELETED documents show ``AmountDue`` 0 (the spec's own GET /Invoices
  example shows a VOIDED invoice with AmountDue 0.0).
* Sales to overseas customers use the zero-rated export tax type and bills from
  overseas suppliers the import one; items are only put on base-currency invoices.
* A bill's journal Reference is its InvoiceNumber (the supplier's number); a sales
  invoice's is its Reference.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from xero_pipeline.sandbox.books.chart import ZERO
from xero_pipeline.sandbox.books.desk import Desk
from xero_pipeline.sandbox.books.store import Record

SALES, PURCHASES = "ACCREC", "ACCPAY"
CREDIT_TYPE = {SALES: "ACCRECCREDIT", PURCHASES: "ACCPAYCREDIT"}
# +1: the document's lines are debits (costs, or revenue given back).
LINE_SIGN = {"ACCREC": -1, "ACCPAY": 1, "ACCRECCREDIT": 1, "ACCPAYCREDIT": -1}

_SALES_WORDS = ("Professional services", "Monthly retainer", "Project work", "Support hours",
                "Installation", "Supply of goods", "Design services", "Maintenance visit")
_COST_WORDS = {"310": "Stock purchases", "400": "Online ads", "404": "Account fees",
               "408": "Office cleaning", "412": "Accounting fees", "420": "Client lunch",
               "425": "Courier", "429": "Sundries", "433": "Insurance premium",
               "445": "Power", "449": "Fuel", "453": "Office supplies", "461": "Printing",
               "469": "Office rent", "473": "Repairs", "485": "Software subscription",
               "489": "Mobile & broadband", "493": "Domestic travel", "494": "Overseas travel"}


def is_foreign(desk: Desk, currency: str) -> bool:
    return currency != desk.chart.base


def sales_lines(desk: Desk, *, count: int, currency: str, items: list[Record]) -> list[dict]:
    ch, rng = desk.chart, desk.rng
    tax = ch.profile.export_tax if is_foreign(desk, currency) else ch.profile.sales_tax
    out = []
    for _ in range(count):
        line_tax = ch.profile.alt_sales_tax if rng.random() < 0.08 and not is_foreign(desk, currency) else tax
        item = rng.choice(items) if items and rng.random() < 0.4 and not is_foreign(desk, currency) else None
        if item is not None:
            out.append(desk.line(
                account=ch.by_code[item["SalesDetails"]["AccountCode"]], description=item["Description"],
                tax_type=line_tax, line_amount_types="Exclusive", item=item,
                unit=item["SalesDetails"]["UnitPrice"],
                discount=Decimal("10.00") if rng.random() < 0.05 else None,
            ))
            continue
        account = ch.by_code["200"] if rng.random() < 0.85 else rng.choice(ch.revenue)
        out.append(desk.line(account=account, description=rng.choice(_SALES_WORDS),
                             tax_type=line_tax, line_amount_types="Exclusive"))
    return out


def purchase_lines(desk: Desk, *, count: int, currency: str) -> list[dict]:
    ch, rng = desk.chart, desk.rng
    tax = ch.profile.import_tax if is_foreign(desk, currency) else ch.profile.purchase_tax
    out = []
    for _ in range(count):
        account = rng.choice(ch.expenses)
        word = _COST_WORDS.get(account["Code"], account["Name"])
        line_tax = ch.profile.exempt_tax if account["Code"] in ("404", "433") else tax
        out.append(desk.line(account=account, description=word, tax_type=line_tax,
                             line_amount_types="Exclusive", unit=desk.random_unit(median=60.0)))
    return out


def reprice(desk: Desk, doc: Record) -> None:
    for ln in doc["LineItems"]:
        desk.price_line(ln, doc["LineAmountTypes"])
    desk.set_totals(doc, with_discount="TotalDiscount" in doc)


# --- invoices and bills -----------------------------------------------------------------


def new_invoice(
    desk: Desk, *, kind: str, contact: Record, day: date, lines: list[dict], status: str = "AUTHORISED",
    currency: str | None = None, reference: str | None = None, line_amount_types: str = "Exclusive",
    repeating_id: str | None = None, due_days: int | None = None,
) -> Record:
    rng, ch = desk.rng, desk.chart
    currency = currency or ch.base
    if kind == SALES:
        number = desk.next_number("INV-", "Invoices", "InvoiceNumber")
        reference = (
            reference if reference is not None else rng.choice(("", "", f"PO {rng.randint(1000, 9999)}"))
        )
    else:
        number = f"{rng.choice(('SI', 'BILL', 'INV', 'TAX'))}-{rng.randint(10000, 99999)}"
        reference = reference if reference is not None else ""
    due = day + timedelta(days=due_days if due_days is not None else rng.choice((7, 14, 20, 30, 30)))
    inv: Record = {
        "Type": kind, "InvoiceID": desk.id(), "InvoiceNumber": number, "Reference": reference,
        "Payments": [], "CreditNotes": [], "Prepayments": [], "Overpayments": [],
        "AmountDue": ZERO, "AmountPaid": ZERO, "AmountCredited": ZERO,
        "CurrencyRate": ch.rate(currency, day), "IsDiscounted": False, "HasAttachments": rng.random() < 0.1,
        "HasErrors": False, "Contact": desk.contact_ref(contact), "Date": day, "DueDate": due,
        "Status": status, "LineAmountTypes": line_amount_types, "LineItems": lines,
        "CurrencyCode": currency,
    }
    if kind == SALES:
        inv["SentToContact"] = status == "AUTHORISED" and rng.random() < 0.9
        themes = desk.books.records("BrandingThemes")
        if themes:
            inv["BrandingThemeID"] = themes[0 if rng.random() < 0.85 else rng.randrange(len(themes))][
                "BrandingThemeID"
            ]
    if repeating_id:
        inv["RepeatingInvoiceID"] = repeating_id
    if line_amount_types != "Exclusive":
        reprice(desk, inv)
    desk.set_totals(inv, with_discount=any(ln.get("DiscountRate") for ln in lines))
    inv["AmountDue"] = inv["Total"]
    if status == "AUTHORISED":
        _post_document(desk, inv)
    return desk.save("Invoices", inv)


def _post_document(desk: Desk, doc: Record) -> None:
    kind = doc["Type"]
    control = desk.chart.receivable if kind in ("ACCREC", "ACCRECCREDIT") else desk.chart.payable
    doc_id = doc.get("InvoiceID") or doc["CreditNoteID"]
    reference = doc.get("Reference") or ""
    if kind in ("ACCPAY", "ACCPAYCREDIT"):
        reference = doc.get("InvoiceNumber") or doc.get("CreditNoteNumber") or reference
    desk.post(key=doc_id, source_type=kind, source_id=doc_id, journal_date=doc["Date"], reference=reference,
              postings=desk.document_postings(doc, sign=LINE_SIGN[kind], control=control,
                                              control_description=doc["Contact"]["Name"]))


def path_of(doc: Record) -> str:
    return "Invoices" if "InvoiceID" in doc else "CreditNotes"


def approve(desk: Desk, doc: Record) -> Record:
    if doc["Status"] not in ("DRAFT", "SUBMITTED"):
        raise ValueError(f"cannot approve a {doc['Status']} document")
    doc["Status"] = "AUTHORISED"
    if "CurrencyRate" in doc and doc["CurrencyCode"] != desk.chart.base:
        doc["CurrencyRate"] = desk.chart.rate(doc["CurrencyCode"], doc["Date"])
    _post_document(desk, doc)
    if doc.get("Type") == SALES:
        doc["SentToContact"] = True
    return desk.save(path_of(doc), doc)


def submit(desk: Desk, doc: Record) -> Record:
    if doc["Status"] != "DRAFT":
        raise ValueError(f"cannot submit a {doc['Status']} document")
    doc["Status"] = "SUBMITTED"
    return desk.save(path_of(doc), doc)


def delete_draft(desk: Desk, doc: Record) -> Record:
    if doc["Status"] not in ("DRAFT", "SUBMITTED"):
        raise ValueError(f"only drafts can be deleted, not {doc['Status']}")
    doc["Status"] = "DELETED"
    _clear_due(doc)
    return desk.save(path_of(doc), doc)


def void(desk: Desk, doc: Record) -> Record:
    if not _untouched_authorised(doc):
        raise ValueError("only authorised documents with no payments or credits can be voided")
    doc["Status"] = "VOIDED"
    desk.reverse(doc.get("InvoiceID") or doc["CreditNoteID"])
    _clear_due(doc)
    return desk.save(path_of(doc), doc)


def _untouched_authorised(doc: Record) -> bool:
    """Xero voids or freely edits an authorised document only while nothing is applied to it."""
    return doc["Status"] == "AUTHORISED" and not (
        doc.get("Payments") or doc.get("Allocations") or doc.get("AmountCredited")
    )


def _clear_due(doc: Record) -> None:
    if "AmountDue" in doc:
        doc["AmountDue"] = ZERO
    if "RemainingCredit" in doc:
        doc["RemainingCredit"] = ZERO


def edit_draft(desk: Desk, doc: Record) -> Record:
    """A bookkeeper fixes a draft: a quantity changes, or a line is added."""
    if doc["Status"] not in ("DRAFT", "SUBMITTED"):
        raise ValueError("only drafts are edited freely")
    _change_a_line(desk, doc)
    return desk.save(path_of(doc), doc)


def edit_authorised(desk: Desk, doc: Record) -> Record:
    """Editing an authorised, unpaid document: Xero reverses its journal and re-posts."""
    if not _untouched_authorised(doc):
        raise ValueError("only authorised documents with nothing applied can be edited")
    desk.reverse(doc.get("InvoiceID") or doc["CreditNoteID"])
    _change_a_line(desk, doc)
    _post_document(desk, doc)
    return desk.save(path_of(doc), doc)


def repost(desk: Desk, doc: Record) -> None:
    """An authorised document was edited (a write): its journal is reversed and posted anew."""
    if not _untouched_authorised(doc):
        raise ValueError("only authorised documents with nothing applied can be edited")
    desk.reverse(doc.get("InvoiceID") or doc["CreditNoteID"])
    _post_document(desk, doc)


def has_applied(doc: Record) -> bool:
    """A payment or credit is applied: Xero refuses edits and voids until it is removed."""
    return bool(doc.get("Payments") or doc.get("Allocations") or doc.get("AmountCredited"))


def _change_a_line(desk: Desk, doc: Record) -> None:
    ln = desk.rng.choice(doc["LineItems"])
    ln["Quantity"] = ln["Quantity"] + 1
    reprice(desk, doc)
    if "AmountDue" in doc:
        doc["AmountDue"] = doc["Total"] - doc["AmountPaid"] - doc["AmountCredited"]
    if "RemainingCredit" in doc:
        doc["RemainingCredit"] = doc["Total"]


# --- credit notes -----------------------------------------------------------------------


def new_credit_note(
    desk: Desk, *, kind: str, contact: Record, day: date, lines: list[dict], status: str = "AUTHORISED",
    currency: str | None = None, reference: str = "", rate: Decimal | None = None,
) -> Record:
    ch = desk.chart
    currency = currency or ch.base
    number = (desk.next_number("CN-", "CreditNotes", "CreditNoteNumber") if kind == "ACCRECCREDIT"
              else f"CR-{desk.rng.randint(1000, 99999)}")
    cn: Record = {
        "CreditNoteID": desk.id(), "CreditNoteNumber": number, "Type": kind, "Reference": reference,
        "Contact": desk.contact_ref(contact), "Date": day, "Status": status, "LineAmountTypes": "Exclusive",
        "LineItems": lines, "CurrencyCode": currency, "CurrencyRate": rate or ch.rate(currency, day),
        "Allocations": [], "Payments": [], "HasAttachments": False, "SentToContact": False,
    }
    desk.set_totals(cn)
    cn["RemainingCredit"] = cn["Total"]
    cn["AppliedAmount"] = ZERO
    if status == "AUTHORISED":
        _post_document(desk, cn)
    return desk.save("CreditNotes", cn)
