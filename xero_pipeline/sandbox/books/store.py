"""The sandbox's in-memory books: one ``TenantBooks`` per demo organisation.

Records are kept once, as Python values under Xero's own field names, so the HTTP
layer can serve them without translating field names:

* calendar dates (spec ``x-is-msdate``) are ``datetime.date``;
* instants (spec ``x-is-msdate-time``) are timezone-aware UTC ``datetime``;
* money and quantities are ``Decimal`` (2 dp, unit amounts 4 dp), never float;
* everything else is str / bool / int / nested dict / list as in Xero's JSON.

The renderer turns both kinds of date into ``/Date(ms+0000)/``. Every change goes through
``put`` or ``delete`` so ``UpdatedDateUTC`` moves with it (Xero's IMS filter relies on
that) and cached renderings are dropped. Collections are keyed by registry path
(``"Invoices"``), records by primary key, in insertion order.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from xero_pipeline.registry import BY_PATH, OBJECTS

if TYPE_CHECKING:
    from xero_pipeline.sandbox.books.long_history import JournalHistory

Record = dict[str, Any]

# The sandbox's default today: the seeded books end the day before, and timestamps are
# deterministic relative to it. Tests keep it fixed; the demo starts at the real today.
EPOCH = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)


class SandboxClock:
    """Virtual time for the books: ``start`` (``EPOCH`` unless given) + real time elapsed + manual advances.

    Real time keeps flowing so that records changed during a test get later timestamps
    than the sync that preceded them; ``advance`` jumps ahead (a simulated day).
    Token lifetimes and rate-limit windows do not use this clock: they use real
    monotonic time divided by the time scale (see ``limits`` and ``identity``).
    """

    def __init__(self, start: datetime = EPOCH) -> None:
        self._start = start
        self._t0 = time.monotonic()
        self._offset = timedelta()
        self._last = start
        self._lock = threading.Lock()

    @property
    def start(self) -> datetime:
        """The instant the clock started at: the books' history ends just before it."""
        return self._start

    def now(self) -> datetime:
        """Strictly increasing at millisecond resolution, like Xero's UpdatedDateUTC."""
        with self._lock:
            t = self._start + self._offset + timedelta(seconds=time.monotonic() - self._t0)
            t = t.replace(microsecond=t.microsecond // 1000 * 1000)
            if t <= self._last:
                t = self._last + timedelta(milliseconds=1)
            self._last = t
            return t

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += timedelta(seconds=seconds)


@dataclass
class Connection:
    """One entry of GET /connections."""

    id: str
    tenant_id: str
    tenant_name: str
    created: datetime
    updated: datetime
    auth_event_id: str
    tenant_type: str = "ORGANISATION"


@dataclass
class TenantBooks:
    """Everything one Xero organisation holds, guarded by one lock."""

    tenant_id: str
    name: str
    base_currency: str
    clock: SandboxClock
    collections: dict[str, dict[str, Record]] = field(
        default_factory=lambda: {o.path: {} for o in OBJECTS}
    )
    next_journal_number: int = 1
    lock: threading.RLock = field(default_factory=threading.RLock)
    # Bumped on every change of a record; the renderer's cache keys include it.
    revisions: dict[tuple[str, str], int] = field(default_factory=dict)
    # Hard-deleted ids per path, so activity simulation can report them.
    hard_deleted: dict[str, set[str]] = field(default_factory=dict)
    # The ledger's index: posting key (a document id, or an allocation's) -> JournalIDs
    # in posting order, so a void can reverse exactly what was posted (see ``ledger``).
    posted: dict[str, list[str]] = field(default_factory=dict)
    # Journals 1..N generated on demand before the stored ones (``seeding.large``), or None.
    history: JournalHistory | None = None

    def put(
        self, path: str, record: Record, *, touch: bool = True, at: datetime | None = None
    ) -> Record:
        """Insert or replace a record; ``touch`` stamps its UpdatedDateUTC with now.

        ``at`` stamps a given instant instead of the clock's now: the seed writes 18
        months of history before the clock starts.
        """
        obj = BY_PATH[path.lower()]
        if touch and obj.updated_field == "UpdatedDateUTC":
            now = self.clock.now() if at is None else at
            record["UpdatedDateUTC"] = now
            if "UpdatedDateUTCString" in record or obj.path in _HAS_UPDATED_STRING:
                record["UpdatedDateUTCString"] = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        key = str(record[obj.primary_key])
        with self.lock:
            self.collections[obj.path][key] = record
            self.revisions[(obj.path, key)] = self.revisions.get((obj.path, key), 0) + 1
        return record

    def delete(self, path: str, key: str) -> None:
        """Hard delete with no tombstone, as Xero does for items and linked transactions."""
        obj = BY_PATH[path.lower()]
        with self.lock:
            self.collections[obj.path].pop(key, None)
            self.revisions[(obj.path, key)] = self.revisions.get((obj.path, key), 0) + 1
            self.hard_deleted.setdefault(obj.path, set()).add(key)

    def get(self, path: str, key: str) -> Record | None:
        return self.collections[BY_PATH[path.lower()].path].get(key)

    def records(self, path: str) -> list[Record]:
        """A consistent list of the collection's records (the dicts are shared, not copied)."""
        with self.lock:
            return list(self.collections[BY_PATH[path.lower()].path].values())

    def revision(self, path: str, key: str) -> int:
        return self.revisions.get((path, key), 0)

    def iter_all(self) -> Iterator[tuple[str, Record]]:
        for path, recs in self.collections.items():
            for rec in recs.values():
                yield path, rec


# Spec 16.1.0 added UpdatedDateUTCString to these five in July 2026.
_HAS_UPDATED_STRING = frozenset({"Invoices", "CreditNotes", "Overpayments", "Payments", "Prepayments"})
