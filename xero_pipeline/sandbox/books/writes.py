"""One element of a PUT or POST, applied to a tenant's books as Xero would apply it.

``apply`` validates the element completely before it changes anything, then makes the
change through the books code (``invoicing``, ``settlement``, ``banking``,
``manual_journals``, ``orders``), so journals post and reverse exactly as for the
simulated bookkeeper and the trial balance stays balanced. A refused element raises
``Invalid`` and leaves the books as they were.

PUT creates only: an element naming an existing record is refused (an assumption; the
fact sheet says only that PUT creates). POST updates the record its id names, or
creates one when it names none.
"""

from __future__ import annotations

from collections.abc import Callable

from xero_pipeline.registry import BY_PATH
from xero_pipeline.sandbox.books import banking, settlement
from xero_pipeline.sandbox.books import write_documents as documents
from xero_pipeline.sandbox.books import write_values as wv
from xero_pipeline.sandbox.books.chart import ZERO, money, unit_amount
from xero_pipeline.sandbox.books.desk import Desk
from xero_pipeline.sandbox.books.manual_journals import new_manual_journal, set_manual_journal_status
from xero_pipeline.sandbox.books.store import Record
from xero_pipeline.sandbox.books.write_values import Invalid

__all__ = ["Invalid", "WRITABLE_PATHS", "apply"]


def apply(desk: Desk, path: str, element: Record, *, put: bool) -> Record:
    """Create or update one record from ``element``; returns the record as stored."""
    if not isinstance(element, dict):
        raise Invalid(f"Each element of {path} must be an object")
    obj = BY_PATH[path.lower()]
    existing = _FIND.get(obj.path, _by_id)(desk, obj.path, element)
    if put and existing is not None:
        raise Invalid(f"A {obj.schema} with this {obj.primary_key} already exists; PUT only creates (use POST)")
    return _WRITERS[obj.path](desk, obj.path, element, existing)


def _by_id(desk: Desk, path: str, element: Record) -> Record | None:
    key = BY_PATH[path.lower()].primary_key
    if not element.get(key):
        return None
    found = desk.books.get(path, str(element[key]).lower())
    if found is None:
        raise Invalid(wv.NOT_FOUND)
    return found


# --- contacts and items -----------------------------------------------------------------

_CONTACT_TEXT = ("FirstName", "LastName", "EmailAddress", "ContactNumber", "AccountNumber", "TaxNumber",
                 "BankAccountDetails", "Website", "CompanyNumber", "DefaultCurrency")


def _contact(desk: Desk, path: str, el: Record, existing: Record | None) -> Record:
    name = wv.text(el, "Name", (existing or {}).get("Name", "")).strip()
    if not name:
        raise Invalid("The contact name must be specified")
    status = wv.text(el, "ContactStatus", (existing or {}).get("ContactStatus", "ACTIVE"))
    if status not in ("ACTIVE", "ARCHIVED"):
        raise Invalid(f"ContactStatus '{status}' is not one of ACTIVE, ARCHIVED")
    own = (existing or {}).get("ContactID")
    if status == "ACTIVE" and any(c["Name"] == name and c.get("ContactStatus") == "ACTIVE" and c["ContactID"] != own
                                  for c in desk.books.records("Contacts")):
        # The spec's example answer (PUT /Contacts).
        raise Invalid(f"The contact name {name} is already assigned to another contact. The contact name must be "
                      "unique across all active contacts.")
    rec = existing if existing is not None else {
        "ContactID": desk.id(), "Addresses": [], "Phones": [], "ContactPersons": [], "IsSupplier": False,
        "IsCustomer": False, "HasAttachments": False, "HasValidationErrors": False,
    }
    rec["Name"], rec["ContactStatus"] = name, status
    for field in _CONTACT_TEXT:
        if field in el:
            rec[field] = wv.text(el, field)
    for field in ("Addresses", "Phones", "ContactPersons"):
        if isinstance(el.get(field), list):
            rec[field] = [dict(x) for x in el[field] if isinstance(x, dict)]
    return desk.save("Contacts", rec)


def _find_item(desk: Desk, path: str, el: Record) -> Record | None:
    if el.get("ItemID"):
        return _by_id(desk, path, el)
    return next((i for i in desk.books.records("Items") if el.get("Code") and i["Code"] == el["Code"]), None)


def _item(desk: Desk, path: str, el: Record, existing: Record | None) -> Record:
    code = wv.text(el, "Code", (existing or {}).get("Code", "")).strip()
    if not code:
        raise Invalid("Item Code is required")
    own = (existing or {}).get("ItemID")
    if any(i["Code"] == code and i["ItemID"] != own for i in desk.books.records("Items")):
        raise Invalid(f"Price List Item with Code '{code}' already exists")  # the spec's example answer
    details = {}
    for side in ("SalesDetails", "PurchaseDetails"):
        given = el.get(side)
        if given is None:
            continue
        if not isinstance(given, dict):
            raise Invalid(f"{side} must be an object")
        out: dict = {}
        if given.get("UnitPrice") is not None:
            out["UnitPrice"] = unit_amount(wv.decimal(given["UnitPrice"], f"{side}.UnitPrice"))
        if given.get("AccountCode"):
            out["AccountCode"] = wv.account_by_code(desk, given["AccountCode"])["Code"]
        if given.get("TaxType"):
            if given["TaxType"] not in desk.chart.taxes:
                raise Invalid(f"The TaxType code '{given['TaxType']}' does not exist")
            out["TaxType"] = given["TaxType"]
        details[side] = out
    rec = existing if existing is not None else {
        "ItemID": desk.id(), "IsTrackedAsInventory": False, "IsSold": True, "IsPurchased": True,
        "SalesDetails": {}, "PurchaseDetails": {},
    }
    rec["Code"] = code
    rec["Name"] = wv.text(el, "Name", rec.get("Name", code))
    for field in ("Description", "PurchaseDescription"):
        if field in el:
            rec[field] = wv.text(el, field)
    for flag in ("IsSold", "IsPurchased"):
        if flag in el:
            rec[flag] = bool(el[flag])
    rec.update(details)
    return desk.save("Items", rec)


# --- payments -------------------------------------------------------------------------

def _payment(desk: Desk, path: str, el: Record, existing: Record | None) -> Record:
    if existing is not None:
        # Xero removes a payment by setting its status; a payment is never edited.
        if wv.text(el, "Status") != "DELETED":
            raise Invalid("A payment can only be deleted (Status DELETED), not edited")
        if existing["Status"] != "AUTHORISED":
            raise Invalid("Payment not of valid status for modification")
        return settlement.delete_payment(desk, existing)
    if isinstance(el.get("Invoice"), dict):
        doc = _document(desk, "Invoices", el["Invoice"], "InvoiceID", "InvoiceNumber")
    elif isinstance(el.get("CreditNote"), dict):
        doc = _document(desk, "CreditNotes", el["CreditNote"], "CreditNoteID", "CreditNoteNumber")
    else:
        raise Invalid("A payment must name an Invoice or a CreditNote")
    bank = wv.account(desk, el.get("Account"), "Account")
    if bank["Type"] != "BANK" and not bank.get("EnablePaymentsToAccount"):
        raise Invalid(f"Account {bank['Code']} does not accept payments (not a bank account)")
    if doc["Status"] != "AUTHORISED":
        raise Invalid("Payments can only be made against Authorised documents")
    amount = money(wv.decimal(el.get("Amount"), "Amount"))
    outstanding = doc["AmountDue"] if "AmountDue" in doc else doc["RemainingCredit"]
    if amount <= ZERO:
        raise Invalid("Payment amount must be greater than zero")
    if amount > outstanding:
        raise Invalid("Payment amount exceeds the amount outstanding on this document")  # the spec's example
    day = wv.day(el.get("Date"), "Date", desk.now().date())
    return settlement.pay(desk, doc, amount=amount, day=day, bank=bank, reference=wv.text(el, "Reference"))


def _document(desk: Desk, path: str, ref: dict, id_field: str, number_field: str) -> Record:
    if ref.get(id_field):
        found = desk.books.get(path, str(ref[id_field]).lower())
    else:
        found = next((d for d in desk.books.records(path)
                      if ref.get(number_field) and d.get(number_field) == ref[number_field]), None)
    if found is None:
        raise Invalid(wv.NOT_FOUND)
    return found


# --- spend and receive money ------------------------------------------------------------

def _bank_transaction(desk: Desk, path: str, el: Record, existing: Record | None) -> Record:
    if existing is not None:
        if existing["Status"] != "AUTHORISED" or existing["Type"] not in ("RECEIVE", "SPEND"):
            raise Invalid("BankTransaction not of valid status for modification")
        target = wv.text(el, "Status") or "AUTHORISED"
        if target == "DELETED":  # Xero removes spend/receive money by deleting it; there is no void
            return banking.remove_bank_transaction(desk, existing, status="DELETED")
        if target != "AUTHORISED":
            raise Invalid("BankTransaction not of valid status for modification")
        amounts = wv.line_amount_types(el, existing["LineAmountTypes"])
        day = wv.day(el.get("Date"), "Date", existing["Date"])
        if "LineItems" in el:
            lines = wv.lines(desk, el["LineItems"], amounts=amounts, default_tax=_tax(desk, existing["Type"]))
        else:  # the same lines, taxed as asked (every check is behind us: changing them is safe)
            lines = existing["LineItems"]
            for ln in lines:
                desk.price_line(ln, amounts)
        existing.update(LineItems=lines, LineAmountTypes=amounts, Date=day,
                        Reference=wv.text(el, "Reference", existing.get("Reference", "")))
        return banking.repost_bank_transaction(desk, existing)
    kind = wv.text(el, "Type")
    if kind not in ("RECEIVE", "SPEND"):
        raise Invalid("Type must be RECEIVE or SPEND" if kind else "Type is required")
    if wv.text(el, "Status", "AUTHORISED") != "AUTHORISED":
        raise Invalid("BankTransaction not of valid status for creation")
    bank = wv.account(desk, el.get("BankAccount"), "BankAccount")
    if bank["Type"] != "BANK":
        raise Invalid(f"Account {bank['Code']} is not a bank account")
    amounts = wv.line_amount_types(el)
    lines = wv.lines(desk, el.get("LineItems"), amounts=amounts, default_tax=_tax(desk, kind))
    if not lines:
        raise Invalid("A bank transaction must have at least one line item")
    day = wv.day(el.get("Date"), "Date", desk.now().date())
    contact = wv.contact(desk, el.get("Contact"))  # last: an unknown Name creates a contact
    txn = banking.new_bank_transaction(desk, kind=kind, bank=bank, day=day, lines=lines, contact=contact,
                                       reference=wv.text(el, "Reference"))
    if amounts != "Exclusive":  # new_bank_transaction totals as Exclusive: re-post at the amounts asked
        txn["LineAmountTypes"] = amounts
        txn = banking.repost_bank_transaction(desk, txn)
    return txn


def _tax(desk: Desk, kind: str) -> str:
    p = desk.chart.profile
    return p.sales_tax if kind == "RECEIVE" else p.purchase_tax


# --- manual journals --------------------------------------------------------------------

_JOURNAL_MOVES = {"DRAFT": {"POSTED", "DELETED"}, "POSTED": {"VOIDED", "ARCHIVED"}}


def _manual_journal(desk: Desk, path: str, el: Record, existing: Record | None) -> Record:
    if existing is not None:
        status, target = existing["Status"], wv.text(el, "Status") or existing["Status"]
        if status not in _JOURNAL_MOVES or (target != status and target not in _JOURNAL_MOVES[status]):
            raise Invalid("ManualJournal not of valid status for modification")
        if status == "DRAFT" and target in ("DRAFT", "POSTED"):
            if "Narration" in el:
                existing["Narration"] = wv.text(el, "Narration")
            if "JournalLines" in el:
                existing["JournalLines"] = [_journal_line(desk, ln) for ln in _journal_lines(desk, el)]
        return set_manual_journal_status(desk, existing, target) if target != status else desk.save(path, existing)
    narration = wv.text(el, "Narration").strip()
    if not narration:
        raise Invalid("Narration is required")
    status = wv.text(el, "Status") or "DRAFT"
    if status not in ("DRAFT", "POSTED"):
        raise Invalid("ManualJournal not of valid status for creation")
    lines = _journal_lines(desk, el)
    day = wv.day(el.get("Date"), "Date", desk.now().date())
    return new_manual_journal(desk, day=day, narration=narration, lines=lines, status=status)


def _journal_lines(desk: Desk, el: Record) -> list:
    raw = el.get("JournalLines")
    if not isinstance(raw, list) or len(raw) < 2 or not all(isinstance(x, dict) for x in raw):
        raise Invalid("A manual journal must have at least two journal lines")
    lines = [(wv.account_by_code(desk, x.get("AccountCode")), money(wv.decimal(x.get("LineAmount"), "LineAmount")),
              wv.text(x, "Description")) for x in raw]
    debits = sum((a for _, a, _ in lines if a > 0), ZERO)
    credits = sum((a for _, a, _ in lines if a < 0), ZERO)
    if debits + credits != 0:
        raise Invalid(f"The total debits ({debits}) must equal total credits ({credits})")  # the spec's example
    return lines


def _journal_line(desk: Desk, line: tuple) -> dict:
    acct, amount, text = line
    return {"LineAmount": amount, "AccountCode": acct["Code"], "AccountID": acct["AccountID"], "Description": text,
            "TaxType": desk.chart.profile.exempt_tax, "TaxAmount": ZERO, "Tracking": [], "IsBlank": False}


def _documents(desk: Desk, path: str, el: Record, existing: Record | None) -> Record:
    return documents.write(desk, path, el, existing)


Writer = Callable[[Desk, str, Record, Record | None], Record]
_WRITERS: dict[str, Writer] = {
    "Contacts": _contact, "Items": _item, "Payments": _payment, "BankTransactions": _bank_transaction,
    "ManualJournals": _manual_journal, **{p: _documents for p in documents.PATHS},
}
_FIND: dict[str, Callable[[Desk, str, Record], Record | None]] = {"Items": _find_item}
WRITABLE_PATHS = frozenset(_WRITERS)
