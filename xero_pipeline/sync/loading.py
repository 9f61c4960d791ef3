"""Pages on their way to the warehouse: spooled as they arrive, committed in one or more merges.

A short read commits once, at its end. A long one also commits at its checkpoints
(``sync.checkpoints``): each commit is its own merge transaction with the sync state
that says where the read got to, and starts a fresh spool, so a kill loses at most the
pages since the last commit. The figures of every commit add up into one ``LoadStats``.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Any

from xero_pipeline.registry import XeroObject
from xero_pipeline.warehouse.connection import Connection
from xero_pipeline.warehouse.merge import LoadStats, merge
from xero_pipeline.warehouse.shaping import RecordShaper
from xero_pipeline.warehouse.spool import Spool
from xero_pipeline.warehouse.sync_state import SyncState
from xero_pipeline.warehouse.typed import TypedShaper
from xero_pipeline.xero.decoding import RawRecords

Connect = Callable[[], AbstractContextManager[Connection]]


class Loader:
    def __init__(self, obj: XeroObject, *, tenant_id: str, connect: Connect, now: datetime,
                 spool_root: Path | None) -> None:
        self._connect = connect
        self._now = now
        self._root = spool_root
        self._shaper = RecordShaper(obj, tenant_id=tenant_id, synced_at=now)
        # One typed shaper for every commit's spool: its Structs follow the shapes.
        self._typed = TypedShaper(self._shaper)
        self._spool = self._new_spool()
        self.stats = LoadStats()
        self.records = 0  # records read, over every commit
        self.child_rows_read: dict[str, int] = {}
        self.commits = 0
        self.pages_pending = 0  # pages spooled since the last commit

    def _new_spool(self) -> Spool:
        return Spool(self._shaper, root=self._root, typed=self._typed)

    def add(self, records: list[dict[str, Any]] | RawRecords) -> None:
        """Spool one page: records read as JSON text go the typed way, parsed ones as dicts."""
        if isinstance(records, RawRecords):
            self._spool.add_texts(records)
        else:
            self._spool.add(records)
        self.pages_pending += 1

    @property
    def rows_pending(self) -> int:
        """Rows spooled since the last commit, children included."""
        return sum(self._spool.rows.values())

    def commit(self, *, snapshot: bool, state: SyncState,
               after: Callable[[Connection], None] | None = None) -> None:
        """Merge what is spooled with ``state`` in one transaction, then start a fresh spool.

        The warehouse is opened only now: its write lock is never held while Xero is read.
        """
        spool = self._spool
        spool.close()
        try:
            with self._connect() as conn:
                stats = merge(conn, spool, snapshot=snapshot, now=self._now, state=state)
                if after is not None:
                    after(conn)
        finally:
            spool.discard()
        self._add(stats)
        self.records += spool.record_count
        for table, n in spool.rows.items():
            if table != self._shaper.parent.table:
                self.child_rows_read[table] = self.child_rows_read.get(table, 0) + n
        self.commits += 1
        self.pages_pending = 0
        self._spool = self._new_spool()

    def discard(self) -> None:
        self._spool.discard()

    def _add(self, s: LoadStats) -> None:
        t = self.stats
        t.inserted += s.inserted
        t.updated += s.updated
        t.unchanged += s.unchanged
        t.deleted += s.deleted
        for table, n in s.child_rows.items():
            t.child_rows[table] = t.child_rows.get(table, 0) + n
        for table, n in s.child_deleted.items():
            t.child_deleted[table] = t.child_deleted.get(table, 0) + n
        t.child_row_count.update(s.child_row_count)  # what the tenant holds after the latest commit
        t.row_count = s.row_count
        t.new_columns += s.new_columns
        t.widened += s.widened
