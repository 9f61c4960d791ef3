"""Years of journals before the seeded books, generated on demand instead of stored.

A very large organisation (500,000 journals and more) cannot be held as dicts. Its
*history* is journals 1..``count``: journal n is a pure function of (seed, tenant, n)
for a given ``count`` and date range, built only when a page, a summary or a report
needs it. The seeded books' journals are numbered after it (``seeding.large``).

* ``CreatedDateUTC`` rises with n in equal steps across the range; ``JournalDate`` is its
  day, so numbers, dates and creation times all increase together.
* Each journal has 2-4 lines on accounts of the tenant's own chart (a receivable or
  payable control, a bank account, revenue and expense accounts), NetAmounts to the cent
  summing to zero, no tax and no tracking; at most one line touches a bank account.
* Daily totals per account (and bank money in and out) are folded once, streaming the
  generator over amounts only, so reports add them without building any journal.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from xero_pipeline.sandbox.books.store import Record

_CENT = Decimal("0.01")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ZERO = Decimal("0.00")
# (SourceType, the control account's role or "", the role of the other lines, lines' sign)
# sign +1: the other lines are debits and the control line the credit.
_KINDS: tuple[tuple[str, str, str, int], ...] = (
    ("ACCREC", "receivable", "revenue", -1),
    ("ACCPAY", "payable", "expense", 1),
    ("ACCRECPAYMENT", "receivable", "bank", 1),
    ("ACCPAYPAYMENT", "payable", "bank", -1),
    ("CASHREC", "bank", "revenue", -1),
    ("CASHPAID", "bank", "expense", 1),
    ("MANJOURNAL", "", "expense", 1),
)


@dataclass
class HistoryTotals:
    """What the history holds, folded: per day and account, and overall."""

    net: dict[date, dict[str, Decimal]]  # day -> AccountID -> net movement
    received: dict[date, dict[str, Decimal]]  # bank AccountID -> money in (per journal)
    spent: dict[date, dict[str, Decimal]]  # bank AccountID -> money out, positive
    lines: int
    net_by_account: dict[str, Decimal]  # AccountID -> all-time net


@dataclass
class JournalHistory:
    seed: int
    tenant_id: str
    count: int
    start: datetime  # CreatedDateUTC of journal 1
    end: datetime  # CreatedDateUTC of journal ``count`` is before this
    roles: dict[str, list[Record]]  # "bank" | "receivable" | "payable" | "revenue" | "expense"
    _totals: HistoryTotals | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._key = hashlib.sha256(f"xero-sandbox:{self.seed}:{self.tenant_id}:history".encode()).digest()
        self._ns = uuid.UUID(bytes=self._key[:16])
        self._start_ms = int(self.start.timestamp() * 1000)
        self._span_ms = int((self.end - self.start).total_seconds() * 1000)
        self._fold_lock = threading.Lock()
        if self._span_ms < self.count:
            raise ValueError(f"{self.count} history journals do not fit between {self.start} and {self.end}")

    @property
    def account_ids(self) -> set[str]:
        return {a["AccountID"] for accounts in self.roles.values() for a in accounts}

    # --- one journal ---------------------------------------------------------------------

    def created_ms(self, n: int) -> int:
        return self._start_ms + (n - 1) * self._span_ms // self.count

    def first_created_since(self, instant: datetime) -> int:
        """The smallest n whose CreatedDateUTC is at or after ``instant`` (count + 1 if none)."""
        target = (instant - _EPOCH) // timedelta(milliseconds=1)
        lo, hi = 1, self.count + 1
        while lo < hi:
            mid = (lo + hi) // 2
            if self.created_ms(mid) >= target:
                hi = mid
            else:
                lo = mid + 1
        return lo

    def shape(self, n: int) -> tuple[str, list[tuple[Record, int]]]:
        """SourceType and (account, signed cents) lines of journal n: the cheap part."""
        h = hashlib.blake2b(n.to_bytes(8, "little"), digest_size=32, key=self._key).digest()
        source_type, control_role, other_role, sign = _KINDS[h[0] % len(_KINDS)]
        others = self.roles[other_role]
        lines: list[tuple[Record, int]] = []
        if source_type == "MANJOURNAL":
            debits, credits = 1 + h[1] % 2, 1 + h[2] % 2
            amounts = [100 + int.from_bytes(h[4 + 3 * i:7 + 3 * i], "little") % 400_000 for i in range(debits)]
            for i, cents in enumerate(amounts):
                lines.append((others[h[16 + i] % len(others)], cents))
            total, left = sum(amounts), credits
            for i in range(credits):
                part = total if left == 1 else total // 2
                lines.append((others[h[20 + i] % len(others)], -part))
                total, left = total - part, left - 1
            return source_type, lines
        count = 1 if other_role == "bank" else 1 + h[1] % 3
        total = 0
        for i in range(count):
            cents = 100 + int.from_bytes(h[4 + 3 * i:7 + 3 * i], "little") % 500_000
            lines.append((others[h[16 + i] % len(others)], sign * cents))
            total += cents
        control = self.roles[control_role]
        lines.append((control[h[24] % len(control)], -sign * total))
        return source_type, lines

    def journal(self, n: int) -> Record:
        """Journal n as the books store journals (Python values under Xero's names)."""
        if not 1 <= n <= self.count:
            raise KeyError(n)
        source_type, lines = self.shape(n)
        created = _EPOCH + timedelta(milliseconds=self.created_ms(n))
        return {
            "JournalID": str(uuid.uuid5(self._ns, f"journal/{n}")),
            "JournalDate": created.date(),
            "JournalNumber": n,
            "CreatedDateUTC": created,
            "Reference": f"H{n}",
            "SourceID": str(uuid.uuid5(self._ns, f"source/{n}")),
            "SourceType": source_type,
            "JournalLines": [_line(self._ns, n, i, account, cents) for i, (account, cents) in enumerate(lines)],
        }

    def journals(self, first: int = 1, last: int | None = None) -> Iterator[Record]:
        for n in range(max(1, first), min(self.count, last or self.count) + 1):
            yield self.journal(n)

    def find_id(self, journal_id: str) -> int | None:
        """The number of the journal with this id: a scan, as nothing stores the ids."""
        wanted = journal_id.strip().lower()
        for n in range(1, self.count + 1):
            if str(uuid.uuid5(self._ns, f"journal/{n}")) == wanted:
                return n
        return None

    # --- folded ----------------------------------------------------------------------------

    def totals(self) -> HistoryTotals:
        """Daily totals per account, computed once by streaming ``shape`` (no journal built)."""
        with self._fold_lock:
            if self._totals is None:
                self._totals = self._fold()
            return self._totals

    def _fold(self) -> HistoryTotals:
        net: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        received: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        spent: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        banks = {a["AccountID"] for a in self.roles["bank"]}
        epoch, lines = _EPOCH.date(), 0
        for n in range(1, self.count + 1):
            day = epoch + timedelta(milliseconds=self.created_ms(n))
            bucket = net[day]
            _, shaped = self.shape(n)
            lines += len(shaped)
            for account, cents in shaped:
                aid = account["AccountID"]
                bucket[aid] += cents
                if aid in banks:
                    (received if cents > 0 else spent)[day][aid] += abs(cents)
        overall: dict[str, int] = defaultdict(int)
        for per_account in net.values():
            for aid, cents in per_account.items():
                overall[aid] += cents
        return HistoryTotals(net=_money(net), received=_money(received), spent=_money(spent), lines=lines,
                             net_by_account={a: Decimal(c) * _CENT for a, c in overall.items()})


def _money(per_day: dict[date, dict[str, int]]) -> dict[date, dict[str, Decimal]]:
    return {d: {a: Decimal(c) * _CENT for a, c in v.items()} for d, v in per_day.items()}


def _line(ns: uuid.UUID, n: int, i: int, account: Record, cents: int) -> dict:
    amount = Decimal(cents) * _CENT
    return {
        "JournalLineID": str(uuid.uuid5(ns, f"line/{n}/{i}")),
        "AccountID": account["AccountID"],
        "AccountCode": account["Code"],
        "AccountType": account["Type"],
        "AccountName": account["Name"],
        "Description": "",
        "NetAmount": amount,
        "GrossAmount": amount,
        "TaxAmount": _ZERO,
        "TrackingCategories": [],
    }
