"""The general ledger: every posted document becomes an immutable Journal.

A journal is built from ``Posting`` rows (one per account line, debits positive, in
base currency) and its NetAmounts sum to exactly zero, so a trial balance computed from
journals always balances. ``JournalNumber`` comes from ``books.next_journal_number``
and ``CreatedDateUTC`` is the bookkeeper's clock at posting time, so both grow together.

Rules, where Xero's documentation is silent:

* Journals are never edited. Voiding or deleting a posted document, deleting a
  payment, or editing an authorised invoice posts a *reversal*: the same lines with
  opposite signs and new ids, carrying the ``JournalDate`` of the journal it reverses
  (a void removes the document from that period, which is why Xero refuses voids in
  a locked period) and a ``CreatedDateUTC`` of the moment of the void.
* What a reversal undoes is found through ``books.posted``: posting key -> JournalIDs
  in order. Postings and reversals alternate per key, so an odd-length list means the
  key is currently posted and its last journal is what to reverse.
* Tax sits on the document line (``TaxAmount``/``TaxType``/``TaxName``) and the total
  tax of the document goes to the tax control account in one extra line.
* Foreign documents post at their own ``CurrencyRate``; the control line is the rounded
  base value of the total and any rounding residue goes into the largest line, so
  the base value of a document never depends on how its lines round.
"""

from __future__ import annotations

import random
import weakref
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from xero_pipeline.sandbox.books.chart import ZERO, new_id, to_base
from xero_pipeline.sandbox.books.store import Record, TenantBooks


@dataclass(slots=True)
class Posting:
    """One journal line before it gets ids: an account and a signed base amount."""

    account: Record
    net: Decimal  # debit positive
    tax: Decimal = ZERO
    tax_rate: Record | None = None
    description: str = ""
    tracking: list = field(default_factory=list)


class UnbalancedJournal(ValueError):
    pass


def post(
    books: TenantBooks,
    *,
    key: str,
    source_type: str,
    source_id: str,
    journal_date: date,
    reference: str,
    postings: list[Posting],
    created: datetime,
    rng: random.Random,
) -> Record | None:
    """Append one journal; returns None when every line is zero (nothing to post)."""
    postings = [p for p in postings if p.net or p.tax]
    if not postings:
        return None
    total = sum((p.net for p in postings), ZERO)
    if total != 0:
        raise UnbalancedJournal(f"{source_type} {source_id} is out of balance by {total}")
    lines = [_line(p, rng) for p in postings]
    return _append(books, key, {
        "JournalID": new_id(rng),
        "JournalDate": journal_date,
        "JournalNumber": 0,
        "CreatedDateUTC": created,
        "Reference": reference,
        "SourceID": source_id,
        "SourceType": source_type,
        "JournalLines": lines,
    })


def reverse(books: TenantBooks, *, key: str, created: datetime, rng: random.Random) -> Record | None:
    """Post the mirror image of what ``key`` currently has posted, if anything."""
    ids = books.posted.get(key)
    if not ids or len(ids) % 2 == 0:
        return None
    original = books.get("Journals", ids[-1])
    lines = []
    for ln in original["JournalLines"]:
        rev = dict(ln)
        rev["JournalLineID"] = new_id(rng)
        for f in ("NetAmount", "GrossAmount", "TaxAmount"):
            rev[f] = -ln[f]
        lines.append(rev)
    return _append(books, key, {
        "JournalID": new_id(rng),
        "JournalDate": original["JournalDate"],
        "JournalNumber": 0,
        "CreatedDateUTC": created,
        "Reference": original["Reference"],
        "SourceID": original["SourceID"],
        "SourceType": original["SourceType"],
        "JournalLines": lines,
    })


def is_posted(books: TenantBooks, key: str) -> bool:
    return len(books.posted.get(key, ())) % 2 == 1


def _append(books: TenantBooks, key: str, journal: Record) -> Record:
    with books.lock:
        journal["JournalNumber"] = books.next_journal_number
        books.next_journal_number += 1
        books.put("Journals", journal, touch=False)
        books.posted.setdefault(key, []).append(journal["JournalID"])
    return journal


def _line(p: Posting, rng: random.Random) -> dict:
    a = p.account
    line = {
        "JournalLineID": new_id(rng),
        "AccountID": a["AccountID"],
        "AccountCode": a["Code"],
        "AccountType": a["Type"],
        "AccountName": a["Name"],
        "Description": p.description,
        "NetAmount": p.net,
        "GrossAmount": p.net + p.tax,
        "TaxAmount": p.tax,
    }
    if p.tax_rate is not None:
        line["TaxType"] = p.tax_rate["TaxType"]
        line["TaxName"] = p.tax_rate["Name"]
    line["TrackingCategories"] = p.tracking
    return line


def document_postings(
    *,
    lines: list[dict],
    taxes: dict[str, Record],
    amounts_include_tax: bool,
    rate: Decimal,
    sign: int,
    control: Record,
    control_total: Decimal,
    tax_account: Record,
    accounts: dict[str, Record],
    control_description: str = "",
) -> list[Posting]:
    """Postings of a document with lines: lines on ``sign``'s side, control opposite.

    ``sign`` is +1 when the lines are debits (bills, spend money, sales credit notes)
    and -1 when they are credits (sales invoices, receive money, bill credit notes).
    """
    rows: list[list] = []  # [account line, unsigned base net, unsigned base tax]
    tax_total = ZERO
    for ln in lines:
        tax = ln.get("TaxAmount", ZERO)
        net = ln["LineAmount"] - tax if amounts_include_tax else ln["LineAmount"]
        row = [ln, to_base(net, rate), to_base(tax, rate)]
        tax_total += row[2]
        rows.append(row)
    control_b = to_base(control_total, rate)
    residue = control_b - sum((r[1] for r in rows), ZERO) - tax_total
    if residue and rows:
        max(rows, key=lambda r: abs(r[1]))[1] += residue
    out = [
        Posting(accounts[ln["AccountCode"]], sign * net_b, sign * tax_b,
                taxes.get(ln.get("TaxType", "")), ln.get("Description", ""), ln.get("Tracking", []))
        for ln, net_b, tax_b in rows
    ]
    if tax_total:
        out.append(Posting(tax_account, sign * tax_total))
    out.append(Posting(control, -sign * control_b, description=control_description))
    return out


# --- reading the ledger -----------------------------------------------------------------


@dataclass
class LedgerIndex:
    """Journal lines folded by day, the raw material of every report."""

    net: dict[date, dict[str, Decimal]]  # day -> AccountID -> net movement
    received: dict[date, dict[str, Decimal]]  # bank accounts: money in, per day
    spent: dict[date, dict[str, Decimal]]  # bank accounts: money out (positive), per day
    days: list[date]

    def balances(self, *, upto: date, since: date | None = None) -> dict[str, Decimal]:
        """Net movement per AccountID over ``since``..``upto`` inclusive (all history if None)."""
        out: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for day in self.days:
            if day > upto:
                break
            if since is not None and day < since:
                continue
            for acct, amount in self.net[day].items():
                out[acct] += amount
        return dict(out)

    def bank_flows(self, *, since: date, upto: date) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
        received: dict[str, Decimal] = defaultdict(lambda: ZERO)
        spent: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for day in self.days:
            if since <= day <= upto:
                for acct, amount in self.received.get(day, {}).items():
                    received[acct] += amount
                for acct, amount in self.spent.get(day, {}).items():
                    spent[acct] += amount
        return dict(received), dict(spent)


_INDEX: dict[int, tuple[weakref.ref, int, LedgerIndex]] = {}


def ledger_index(books: TenantBooks) -> LedgerIndex:
    """The folded ledger, rebuilt only when a journal has been added since last time."""
    with books.lock:
        stamp = books.next_journal_number
        cached = _INDEX.get(id(books))
        if cached and cached[0]() is books and cached[1] == stamp:
            return cached[2]
        journals = books.records("Journals")
    net: dict[date, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    # Money in and out of a bank account is judged per source document, so a receipt
    # and its reversal cancel instead of showing as both received and spent.
    per_source: dict[tuple[date, str, str], Decimal] = defaultdict(lambda: ZERO)
    for j in journals:
        day = j["JournalDate"]
        bucket = net[day]
        for ln in j["JournalLines"]:
            bucket[ln["AccountID"]] += ln["NetAmount"]
            if ln["AccountType"] == "BANK":
                per_source[(day, j["SourceID"], ln["AccountID"])] += ln["NetAmount"]
    received: dict[date, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    spent: dict[date, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for (day, _source, acct), amount in per_source.items():
        if amount > 0:
            received[day][acct] += amount
        elif amount < 0:
            spent[day][acct] -= amount
    if books.history is not None:
        # The generated history's journals, folded once per day (each has its own source).
        extra = books.history.totals()
        for into, days in ((net, extra.net), (received, extra.received), (spent, extra.spent)):
            for day, amounts in days.items():
                for acct, amount in amounts.items():
                    into[day][acct] += amount
    index = LedgerIndex(
        net={d: dict(v) for d, v in net.items()},
        received={d: dict(v) for d, v in received.items()},
        spent={d: dict(v) for d, v in spent.items()},
        days=sorted(net),
    )
    _INDEX[id(books)] = (weakref.ref(books), stamp, index)
    return index


def trial_balance(books: TenantBooks, *, upto: date | None = None) -> dict[str, Decimal]:
    """Sum of journal NetAmounts per AccountID with JournalDate <= ``upto`` (all if None)."""
    out: dict[str, Decimal] = defaultdict(lambda: ZERO)
    if books.history is not None:
        for day, amounts in books.history.totals().net.items():
            if upto is None or day <= upto:
                for acct, amount in amounts.items():
                    out[acct] += amount
    for j in books.records("Journals"):
        if upto is None or j["JournalDate"] <= upto:
            for ln in j["JournalLines"]:
                out[ln["AccountID"]] += ln["NetAmount"]
    return dict(out)
