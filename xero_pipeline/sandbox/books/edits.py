"""Edits made while a client is paging: the ``mutate`` fault's real but harmless changes.

Assumptions where the fact sheet is silent:

* ``edit_records`` changes something harmless (a Reference, a phone number, a
  description). Collections with nothing harmless to change (currencies, tax rates,
  tracking categories, linked transactions…) are re-saved unchanged, which moves
  UpdatedDateUTC where the collection has one.
* ``committed_after`` models a save whose UpdatedDateUTC is stamped when it starts but
  which becomes visible to reads only when it commits, that many seconds later. Xero
  does not document when in a save the stamp is taken; a reader must not assume every
  record stamped before its read began was visible to that read.
"""

from __future__ import annotations

import random
from datetime import timedelta

from xero_pipeline.registry import BY_PATH
from xero_pipeline.sandbox.books.profiles import FIRST_NAMES
from xero_pipeline.sandbox.books.store import Record, TenantBooks


def edit_records(books: TenantBooks, path: str, count: int, *, rng: random.Random,
                 committed_after: float = 0.0) -> list[str]:
    """Make a harmless real edit to ``count`` records of ``path``; returns their keys."""
    obj = BY_PATH[path.lower()]
    if obj.path == "Journals":
        raise ValueError("journals are immutable; Xero never edits one")
    with books.lock:
        records = books.records(obj.path)
        chosen = rng.sample(records, min(count, len(records)))
        stamp = books.clock.now() - timedelta(seconds=committed_after) if committed_after else None
        for rec in chosen:
            _harmless_edit(obj.path, rec, rng)
            books.put(obj.path, rec, at=stamp)
    return [str(rec[obj.primary_key]) for rec in chosen]


def _harmless_edit(path: str, rec: Record, rng: random.Random) -> None:
    tag = rng.randint(1000, 99999)
    if path == "Contacts":
        rec["Phones"] = [
            dict(rec["Phones"][0], PhoneNumber=f"{rng.randint(2000000, 9999999)}"),
            *rec["Phones"][1:],
        ]
    elif path in ("Items", "Accounts", "Budgets"):
        rec["Description"] = f"{(rec.get('Description') or '').split(' [rev')[0]} [rev {tag}]"
    elif path == "Users":
        rec["EmailAddress"] = f"{rec['FirstName'].lower()}.{tag}@example.com"
    elif path == "ManualJournals":
        rec["Narration"] = f"{rec['Narration'].split(' [rev')[0]} [rev {tag}]"
    elif path == "ExpenseClaims":
        rec["PaymentDueDate"] = (rec.get("PaymentDueDate") or rec["ReportingDate"]) + timedelta(days=1)
    elif path == "Organisation":
        rec["LineOfBusiness"] = f"{rng.choice(FIRST_NAMES)}'s professional services"
    elif path == "PaymentServices":
        rec["PayNowText"] = f"Pay now ({tag})"
    elif "Reference" in rec or path in ("Invoices", "BankTransactions", "Payments", "CreditNotes"):
        rec["Reference"] = f"Ref {tag}"
