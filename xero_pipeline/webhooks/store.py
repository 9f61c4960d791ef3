"""The event store: every accepted webhook event, durably, in a SQLite file of its own.

SQLite rather than the warehouse: the receiver must answer Xero within 5 s, and DuckDB's
single-writer lock is held by syncs for minutes. WAL lets the receiver append while the
sensor reads; ``synchronous=FULL`` fsyncs each commit, so an event answered 200 survives a
crash. The file keeps no secret (no key, no signature, no token), only what Xero sent.

Append-only: an event's identity (tenant, category, resource, date, type) is UNIQUE, so a
retried or replayed delivery inserts nothing. What the sensor did with an event goes in
``outcomes``, never into the event row.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from xero_pipeline.webhooks.payload import Event

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL,
    tenant_type TEXT NOT NULL,
    category TEXT NOT NULL,
    event_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    resource_url TEXT NOT NULL,
    event_date TEXT NOT NULL,
    received_at TEXT NOT NULL,
    UNIQUE (tenant_id, category, resource_id, event_date, event_type)
);
CREATE TABLE IF NOT EXISTS outcomes (
    event_id INTEGER PRIMARY KEY REFERENCES events (id),
    run_key TEXT,
    skipped_reason TEXT,
    decided_at TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class StoredEvent:
    id: int
    tenant_id: str
    category: str
    event_type: str
    resource_id: str
    event_date: str
    received_at: str


class EventStore:
    """One SQLite file; each method opens its own connection, so threads and processes share it safely."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # A sensor tick reading while the receiver commits waits briefly, never fails.
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA synchronous=FULL")
            yield db
        finally:
            db.close()

    def append(self, events: Iterable[Event], *, received_at: datetime | None = None) -> int:
        """Store the events in one fsynced transaction; returns how many were new."""
        at = (received_at or datetime.now(UTC)).isoformat(timespec="milliseconds")
        rows = [(e.tenant_id, e.tenant_type, e.category, e.event_type, e.resource_id, e.resource_url,
                 e.event_date, at) for e in events]
        if not rows:
            return 0
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO events (tenant_id, tenant_type, category, event_type, resource_id,"
                " resource_url, event_date, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
            added = db.total_changes - before
            db.execute("COMMIT")
        return added

    def after(self, event_id: int, *, limit: int = 10_000) -> list[StoredEvent]:
        """Events stored after ``event_id`` (the sensor's cursor), oldest first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, tenant_id, category, event_type, resource_id, event_date, received_at FROM events"
                " WHERE id > ? ORDER BY id LIMIT ?", (event_id, limit)).fetchall()
        return [StoredEvent(*r) for r in rows]

    def record_outcomes(self, outcomes: Iterable[tuple[int, str | None, str | None]]) -> None:
        """(event id, run key, skipped reason) per event; a repeated tick's outcomes are ignored."""
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT OR IGNORE INTO outcomes (event_id, run_key, skipped_reason, decided_at)"
                           " VALUES (?, ?, ?, ?)", [(*o, now) for o in outcomes])
            db.execute("COMMIT")

    def outcomes(self) -> dict[int, tuple[str | None, str | None]]:
        with self._connect() as db:
            return {r[0]: (r[1], r[2]) for r in db.execute("SELECT event_id, run_key, skipped_reason FROM outcomes")}

    def last_event_per_tenant(self) -> dict[str, str]:
        """tenant id -> when its latest event was received (ISO, UTC)."""
        with self._connect() as db:
            return dict(db.execute("SELECT tenant_id, max(received_at) FROM events GROUP BY tenant_id").fetchall())

    def count(self) -> int:
        with self._connect() as db:
            return db.execute("SELECT count(*) FROM events").fetchone()[0]
