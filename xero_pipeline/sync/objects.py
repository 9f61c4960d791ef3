"""Sync one Xero object for one tenant: read pages, spool them, merge, report.

No Dagster here: the asset factory calls ``sync_object`` and turns its result into a
materialization, and tests or benchmarks can call it directly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from xero_pipeline.errors import XeroApiError
from xero_pipeline.registry import Cursor, XeroObject
from xero_pipeline.sync.cursors import (
    choose_cursor,
    ims_since,
    next_cursor,
    parse_cursor,
)
from xero_pipeline.sync.reconcile import DEFAULT_EVERY_DAYS, reconciliation_due
from xero_pipeline.warehouse.connection import Connection
from xero_pipeline.warehouse.merge import LoadStats, merge
from xero_pipeline.warehouse.shaping import RecordShaper
from xero_pipeline.warehouse.spool import Spool
from xero_pipeline.warehouse.sync_state import SyncState, held_rows, read_state
from xero_pipeline.xero.budgets import read_budget, reads_by_month_range
from xero_pipeline.xero.client import XeroClient

ProgressFn = Callable[[str], None]


@dataclass
class SyncResult:
    obj: XeroObject
    tenant_id: str
    mode: str  # "full", "incremental", "snapshot" or "reconcile" (see sync.reconcile)
    records_read: int
    pages: int
    api_calls: int
    load: LoadStats
    cursor: str | None
    seconds: float
    fetch_seconds: float
    write_seconds: float
    day_remaining: int | None
    child_rows_read: dict[str, int] = field(default_factory=dict)
    # Xero's pagination.itemCount on the first page: how many records matched the read
    # (all of them on a full read, those changed since ``item_count_since`` otherwise).
    item_count: int | None = None
    item_count_since: datetime | None = None
    read_started: datetime | None = None  # Xero's clock at the first response
    # Where the cursor this sync read from came from (``cursors.choose_cursor``).
    cursor_source: str = ""
    cursor_mismatch: str | None = None
    closing_calls: int = 0  # calls of the closing If-Modified-Since read (0: none needed)


@dataclass
class _Pass:
    """One walk through a collection's pages."""

    pages: int = 0
    server_time: datetime | None = None  # Xero's clock at the first response
    item_count: int | None = None
    max_journal: int | None = None


def sync_object(
    obj: XeroObject,
    *,
    client: XeroClient,
    tenant_id: str,
    connect: Callable[[], AbstractContextManager[Connection]],
    cursor: str | None,
    page_size: int = 1000,
    progress: ProgressFn | None = None,
    warn: ProgressFn | None = None,
    spool_root: Path | None = None,
    reconcile_every_days: int = DEFAULT_EVERY_DAYS,
) -> SyncResult:
    """Read what changed since the trusted cursor and merge it in one warehouse transaction.

    ``cursor`` is the one the Dagster instance recorded; it is used only if the
    warehouse's sync state agrees, otherwise the sync reads from what the warehouse
    holds and says why through ``warn`` (one line) and the result.
    """
    started = time.monotonic()
    now = datetime.now(UTC)
    state, held = None, None
    if obj.cursor is not Cursor.NONE:  # objects read whole need no cursor, so no look
        with connect() as conn:
            state, held = read_state(conn, tenant_id, obj.table), held_rows(conn, tenant_id, obj.table)
    choice = choose_cursor(obj, instance=cursor, state=state, held=held)
    if choice.mismatch and warn:
        warn(f"{obj.table}: {choice.mismatch}")
    previous = parse_cursor(obj, choice.cursor)
    mode = "snapshot" if obj.full_snapshot else ("incremental" if previous is not None else "full")
    if mode == "incremental" and obj.cursor is Cursor.IMS and reconciliation_due(
        tenant_id=tenant_id, table=obj.table, last_full_read=state.full_read_at if state else None, now=now,
        every_days=reconcile_every_days,
    ):
        # Read whole and merged as a snapshot: what Xero changed without a timestamp is
        # updated, what it deleted outright is marked deleted (see sync.reconcile).
        mode, previous = "reconcile", None
    since = ims_since(previous) if isinstance(previous, datetime) else None
    whole = mode in ("full", "snapshot", "reconcile")
    calls_before = client.stats.calls
    shaper = RecordShaper(obj, tenant_id=tenant_id, synced_at=now)
    spool = Spool(shaper, root=spool_root)
    closing: _Pass | None = None
    closing_calls = 0
    try:
        read = _read(client, obj, tenant_id, spool, since=since, page_size=page_size, progress=progress,
                     after_journal=previous if isinstance(previous, int) else 0)
        if obj.cursor is Cursor.IMS and read.pages > 1 and read.server_time is not None:
            # Pages are read at different moments, so a record edited after its page was
            # read would stay stale until the next sync. Records edited since the read
            # began have a later UpdatedDateUTC: one more read from that moment (with the
            # overlap) picks them up, and the merge keeps their later copy.
            calls_main = client.stats.calls
            closing = _read(client, obj, tenant_id, spool, since=ims_since(read.server_time),
                            page_size=page_size, progress=progress, label="closing read, ")
            closing_calls = client.stats.calls - calls_main
        spool.close()
        fetched = time.monotonic()
        last_start = closing.server_time if closing and closing.server_time else read.server_time
        new_cursor = next_cursor(obj, previous=previous, first_server_time=last_start,
                                 max_journal_number=read.max_journal)
        # The warehouse is opened only now: the write lock is never held while Xero is read.
        with connect() as conn:
            stats = merge(conn, spool, snapshot=obj.full_snapshot or mode == "reconcile", now=now,
                          state=SyncState(tenant_id, obj.table, new_cursor, sync_mode=mode,
                                          full_read_at=now if whole else None))
        written = time.monotonic()
        child_rows = {t: n for t, n in spool.rows.items() if t != obj.table}
    finally:
        spool.discard()
    return SyncResult(
        obj=obj,
        tenant_id=tenant_id,
        mode=mode,
        records_read=spool.record_count,
        pages=read.pages + (closing.pages if closing else 0),
        api_calls=client.stats.calls - calls_before,
        load=stats,
        cursor=new_cursor,
        seconds=written - started,
        fetch_seconds=fetched - started,
        write_seconds=written - fetched,
        day_remaining=client.stats.day_remaining,
        child_rows_read=child_rows,
        item_count=read.item_count,
        item_count_since=since if obj.ims else None,
        read_started=read.server_time,
        cursor_source=choice.source,
        cursor_mismatch=choice.mismatch,
        closing_calls=closing_calls,
    )


def _read(
    client: XeroClient, obj: XeroObject, tenant_id: str, spool: Spool, *, since: datetime | None,
    page_size: int, progress: ProgressFn | None, after_journal: int = 0, label: str = "",
) -> _Pass:
    """Spool every page of one read."""
    walk = _Pass()
    for page in client.pages(obj, tenant_id=tenant_id, since=since, after_journal=after_journal,
                             page_size=page_size):
        walk.pages += 1
        if walk.server_time is None:
            walk.server_time = page.server_time
            count = (page.pagination or {}).get("itemCount")
            walk.item_count = int(count) if count is not None else None
        if obj.cursor is Cursor.JOURNAL_NUMBER and page.records:
            walk.max_journal = page.last_journal
        records = page.records
        if reads_by_month_range(obj):
            today = (walk.server_time or datetime.now(UTC)).date()
            records = [read_budget(client, obj, tenant_id, r, today=today) for r in records]
        elif obj.filled_singly:
            records = [_fill_singly(client, obj, tenant_id, r) for r in records]
        spool.add(records)
        if progress:
            progress(f"{obj.table}: {label}page {page.number}, {len(page.records)} rows "
                     f"({spool.record_count} so far)")
    return walk


def _fill_singly(client: XeroClient, obj: XeroObject, tenant_id: str, record: dict[str, Any]) -> dict[str, Any]:
    """The record with the arrays Xero only fills on a read by id (a group's members).

    The list read stays the source of the record itself; only the named arrays come
    from the single read, so a group edited between the two reads is at worst one sync
    behind, and its hash (over the filled record) changes when its members do.
    """
    key = str(record[obj.primary_key])
    try:
        body = client.get_json(f"/api.xro/2.0/{obj.path}/{quote(key)}", tenant_id=tenant_id, scope=obj.scope)
    except XeroApiError as exc:
        if exc.status != 404:
            raise
        # Deleted between the two reads: the next sync's list read will not have it.
        return record
    found = next(iter(body.get(obj.envelope) or []), None)
    if found is None:
        return record
    return {**record, **{f: found.get(f) or [] for f in obj.filled_singly}}
