"""A very large organisation: years of generated journals before the seeded books.

``attach_history(books, seed=7, count=500_000)`` gives a tenant journals 1..count that
``books.long_history`` generates on demand, and renumbers the seeded journals after them
(``count + 1`` ...), so JournalNumber stays 1..N without gaps and in CreatedDateUTC order.
The history ends the day before the seeded books' first journal and spans ``YEARS``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time, timedelta

from xero_pipeline.sandbox.books.long_history import JournalHistory
from xero_pipeline.sandbox.books.store import Record, TenantBooks

YEARS = 5
_REVENUE = ("REVENUE", "SALES", "OTHERINCOME")
_EXPENSE = ("EXPENSE", "DIRECTCOSTS", "OVERHEADS")


def _roles(books: TenantBooks) -> dict[str, list[Record]]:
    base = books.base_currency
    active = sorted((a for a in books.records("Accounts") if a.get("Status") == "ACTIVE"),
                    key=lambda a: str(a.get("Code")))
    plain = [a for a in active if not a.get("SystemAccount")]
    roles = {
        "bank": [a for a in active if a.get("Type") == "BANK" and a.get("CurrencyCode", base) == base][:2],
        "receivable": [a for a in active if a.get("SystemAccount") == "DEBTORS"],
        "payable": [a for a in active if a.get("SystemAccount") == "CREDITORS"],
        "revenue": [a for a in plain if a.get("Type") in _REVENUE],
        "expense": [a for a in plain if a.get("Type") in _EXPENSE],
    }
    missing = sorted(role for role, accounts in roles.items() if not accounts)
    if missing:
        raise ValueError(f"history journals need {', '.join(missing)} accounts in {books.name}'s chart; "
                         "use a seeded tenant (its chart has them)")
    return roles


def attach_history(books: TenantBooks, *, seed: int, count: int) -> JournalHistory:
    """Give ``books`` ``count`` history journals numbered before its own (once, before serving)."""
    if count < 1:
        raise ValueError(f"history_journals must be a positive number of journals, not {count}")
    if getattr(books, "history", None) is not None:
        raise ValueError(f"{books.name} already has a history of journals")
    with books.lock:
        seeded = books.records("Journals")
        if seeded:
            first_day = min(min(j["JournalDate"] for j in seeded),
                            min(j["CreatedDateUTC"] for j in seeded).date())
        else:
            first_day = books.clock.now().date()
        end = datetime.combine(first_day, time(), UTC)
        start = datetime.combine(first_day - timedelta(days=round(365.25 * YEARS)), time(), UTC)
        history = JournalHistory(seed=seed, tenant_id=books.tenant_id, count=count, start=start, end=end,
                                 roles=_roles(books))
        # The seeded ledger continues where the history ends. Renumbering in place is safe
        # only before anything has rendered or indexed these journals.
        for journal in seeded:
            journal["JournalNumber"] += count
        books.next_journal_number += count
        books.history = history
    return history


def attach_histories(books: Sequence[TenantBooks], counts: int | Mapping[int | str, int], *, seed: int) -> None:
    """``Sandbox(history_journals=...)``: an int for every tenant, or {tenant index or id: count}."""
    if isinstance(counts, int):
        wanted = {i: counts for i in range(len(books))} if counts else {}
    else:
        ids = {b.tenant_id: i for i, b in enumerate(books)}
        wanted = {}
        for key, n in counts.items():
            index = key if isinstance(key, int) else ids.get(str(key).lower())
            if index is None or not 0 <= index < len(books):
                raise ValueError(f"history_journals names tenant {key!r}, which is not one of "
                                 f"the {len(books)} tenants (use an index or a tenant id)")
            wanted[index] = n
    for index, n in wanted.items():
        attach_history(books[index], seed=seed, count=n)
