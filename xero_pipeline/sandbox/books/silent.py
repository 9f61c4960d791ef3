"""Changes Xero makes without moving UpdatedDateUTC, and records it deletes outright.

Xero's If-Modified-Since filter only sees what moved a record's UpdatedDateUTC. Some
changes do not (a contact becoming a supplier when its first bill is entered, an
invoice marked sent, the due date of a partly paid document), and Accounts and Users
can be deleted with no tombstone. A pipeline that only ever reads incrementally keeps
these stale for ever; this module makes them happen on demand so the reconciliation
read that catches them can be tested.
"""

from __future__ import annotations

import random
from datetime import timedelta

from xero_pipeline.sandbox.books.store import TenantBooks


def _used_accounts(books: TenantBooks) -> set[str]:
    """Accounts that any journal line posts to: deleting one would break the books."""
    used: set[str] = set()
    for journal in books.records("Journals"):
        used.update(str(line.get("AccountID")) for line in journal.get("JournalLines", []))
    if books.history is not None:
        used.update(books.history.account_ids)
    codes = {str(item.get(side, {}).get("AccountCode")) for item in books.records("Items")
             for side in ("SalesDetails", "PurchaseDetails")}
    # Xero refuses to delete a bank account or one an item still names.
    used.update(str(a["AccountID"]) for a in books.records("Accounts")
                if a.get("Type") == "BANK" or str(a.get("Code")) in codes)
    return used


def change_silently(books: TenantBooks, *, rng: random.Random, count: int = 3) -> dict[str, list[str]]:
    """Make up to ``count`` silent changes of each kind; returns the changed ids by collection."""
    changed: dict[str, list[str]] = {"Contacts": [], "Invoices": [], "Accounts": [], "Users": []}
    with books.lock:
        contacts = sorted(books.records("Contacts"), key=lambda c: str(c["ContactID"]))
        for contact in rng.sample(contacts, min(count, len(contacts))):
            contact["IsSupplier"] = not contact.get("IsSupplier", False)
            books.put("Contacts", contact, touch=False)
            changed["Contacts"].append(str(contact["ContactID"]))
        invoices = sorted(books.records("Invoices"), key=lambda i: str(i["InvoiceID"]))
        unsent = [i for i in invoices if i.get("Status") == "AUTHORISED" and not i.get("SentToContact")]
        for invoice in rng.sample(unsent, min(count, len(unsent))):
            invoice["SentToContact"] = True
            books.put("Invoices", invoice, touch=False)
            changed["Invoices"].append(str(invoice["InvoiceID"]))
        part_paid = [i for i in invoices if i.get("Status") == "AUTHORISED" and i.get("AmountPaid")
                     and i.get("AmountDue") and i.get("DueDate")]
        for invoice in rng.sample(part_paid, min(count, len(part_paid))):
            invoice["DueDate"] = invoice["DueDate"] + timedelta(days=14)
            books.put("Invoices", invoice, touch=False)
            changed["Invoices"].append(str(invoice["InvoiceID"]))
        used = _used_accounts(books)
        idle = sorted((a for a in books.records("Accounts") if str(a["AccountID"]) not in used
                       and not a.get("SystemAccount")), key=lambda a: str(a["AccountID"]))
        for account in idle[:1]:
            books.delete("Accounts", str(account["AccountID"]))
            changed["Accounts"].append(str(account["AccountID"]))
        users = sorted(books.records("Users"), key=lambda u: str(u["UserID"]))
        for user in users[1:2]:  # never the subscriber: an organisation keeps its owner
            books.delete("Users", str(user["UserID"]))
            changed["Users"].append(str(user["UserID"]))
    return changed
