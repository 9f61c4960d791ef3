"""Sync one Xero object for one tenant: read pages, spool them, merge, report.

No Dagster here: the asset factory calls ``sync_object`` and turns its result into a
materialization, and tests or benchmarks can call it directly.

A sync that runs out of the tenant's daily calls (``keep``, or Xero's own day-limit
429) is not a failure: it commits what it read with the state that says where it got
to (``sync.checkpoints``), reports ``complete=False`` and how far it is, and the next
run continues from there. Long reads also commit every ``checkpoint_pages`` pages, so
a kill loses at most that many, or sooner once ``checkpoint_rows`` rows wait, so a
merge's memory does not grow with how many lines a page's documents have.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from xero_pipeline.errors import XeroApiError, XeroDailyLimitError
from xero_pipeline.registry import Cursor, XeroObject
from xero_pipeline.sync.access import AccessGate, Endpoint, NotAvailable, is_refusal
from xero_pipeline.sync.checkpoints import (
    CHECKPOINT_PAGES,
    CHECKPOINT_ROWS,
    Checkpoint,
    checkpointed,
    journal_runs_left,
    resume_from,
    runs_left,
)
from xero_pipeline.sync.cursors import CursorChoice, choose_cursor, ims_since, next_cursor, parse_cursor
from xero_pipeline.sync.loading import Connect, Loader
from xero_pipeline.sync.reading import ProgressFn, Walk, walk
from xero_pipeline.sync.reconcile import DEFAULT_EVERY_DAYS, reconciliation_due
from xero_pipeline.warehouse.connection import Connection
from xero_pipeline.warehouse.merge import LoadStats
from xero_pipeline.warehouse.sync_state import (
    PARTIAL,
    SyncState,
    held_rows,
    park_tenant,
    parked_until,
    read_state,
)
from xero_pipeline.xero.client import XeroClient
from xero_pipeline.xero.decoding import RawRecords


@dataclass(frozen=True)
class ReadFacts:
    """What the checks of a sync need to know of its read, before its ``SyncResult`` exists."""

    complete: bool  # False: the day's calls cut the read short
    item_count: int | None  # pagination.itemCount of the first page
    item_count_since: datetime | None  # the If-Modified-Since it counted from (None: all)
    read_started: datetime | None  # Xero's clock at the first response


# Runs on the connection of the sync's last commit, after it committed (or on one of its
# own when the sync committed nothing), so checking what a sync wrote costs no extra open.
Verify = Callable[[Connection, ReadFacts], None]


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
    complete: bool = True  # False: stopped by the day's calls; the next run continues
    stopped_by: str | None = None  # daily_budget, xero_day_limit or parked
    resumed_from_page: int | None = None  # the checkpoint this read continued from
    commits: int = 0  # merge transactions (1 + checkpoints; 0 when nothing was read)
    progress: dict[str, Any] = field(default_factory=dict)  # how far an unfinished read got


def sync_object(
    obj: XeroObject,
    *,
    client: XeroClient,
    tenant_id: str,
    connect: Connect,
    cursor: str | None,
    page_size: int = 1000,
    progress: ProgressFn | None = None,
    warn: ProgressFn | None = None,
    spool_root: Path | None = None,
    reconcile_every_days: int = DEFAULT_EVERY_DAYS,
    keep: int | None = None,
    checkpoint_pages: int = CHECKPOINT_PAGES,
    checkpoint_rows: int = CHECKPOINT_ROWS,
    gate: AccessGate | None = None,
    verify: Verify | None = None,
) -> SyncResult:
    """Read what changed since the trusted cursor and merge it into the warehouse.

    ``cursor`` is the one the Dagster instance recorded; it is used only if the
    warehouse's sync state agrees, otherwise the sync reads from what the warehouse
    holds and says why through ``warn`` (one line) and the result. ``keep`` is how
    many of the tenant's daily calls this step must leave unspent. With a ``gate``, an
    object Xero refuses to the app raises ``NotAvailable`` (before any call when the
    refusal is on record and not due for a recheck), and a refusal on record is
    forgotten in the transaction that commits what Xero served. ``verify`` (the
    object's checks) runs once the sync has committed, on the same connection.
    """
    started = time.monotonic()
    now = datetime.now(UTC)
    state = None
    endpoint = Endpoint.of_object(obj)
    with connect() as conn:
        if gate is not None and (gone := gate.before(endpoint, conn=conn)):
            raise NotAvailable(gone)
        parked = parked_until(conn, tenant_id, now=now)
        held = held_rows(conn, tenant_id, obj.table)  # also what a step that reads nothing reports
        if obj.cursor is not Cursor.NONE:  # objects read whole need no cursor, so no look
            state = read_state(conn, tenant_id, obj.table)
    if parked is not None:
        client.park(tenant_id, parked)
    choice = choose_cursor(obj, instance=cursor, state=state, held=held)
    if choice.mismatch and warn:
        warn(f"{obj.table}: {choice.mismatch}")
    previous = parse_cursor(obj, choice.cursor)
    resume = resume_from(obj, state, choice.cursor)
    mode = "snapshot" if obj.full_snapshot else ("incremental" if previous is not None else "full")
    if resume is not None:
        mode = resume.mode
    elif mode == "incremental" and obj.cursor is Cursor.IMS and reconciliation_due(
        tenant_id=tenant_id, table=obj.table, last_full_read=state.full_read_at if state else None, now=now,
        every_days=reconcile_every_days,
    ):
        # Read whole and merged as a snapshot: what Xero changed without a timestamp is
        # updated, what it deleted outright is marked deleted (see sync.reconcile).
        mode, previous = "reconcile", None
    since = resume.since if resume else (ims_since(previous) if isinstance(previous, datetime) else None)
    whole = mode in ("full", "snapshot", "reconcile")
    may_checkpoint = checkpointed(obj, mode)
    calls_before = client.stats.calls
    loader = Loader(obj, tenant_id=tenant_id, connect=connect, now=now, spool_root=spool_root)
    read_started = resume.read_started if resume else None

    def partial(w: Walk) -> SyncState:
        """The state of a read that has committed part of what it is reading."""
        if obj.cursor is Cursor.JOURNAL_NUMBER:
            return SyncState(tenant_id, obj.table, next_cursor(obj, previous=previous, first_server_time=None,
                                                               max_journal_number=w.max_journal), sync_mode=PARTIAL)
        point = None
        if may_checkpoint:
            point = Checkpoint(w.next_page, since, read_started or w.server_time, mode).to_json()
        return SyncState(tenant_id, obj.table, choice.cursor, sync_mode=PARTIAL, checkpoint=point)

    def on_page(records: list[dict[str, Any]] | RawRecords, w: Walk) -> None:
        loader.add(records)
        due = loader.pages_pending >= checkpoint_pages or loader.rows_pending >= checkpoint_rows
        if may_checkpoint and due:
            loader.commit(snapshot=False, state=partial(w))
            if progress:
                progress(f"{obj.table}: checkpoint committed after page {w.next_page - 1}")

    closing: Walk | None = None
    closing_calls = 0

    def facts(complete: bool) -> ReadFacts:
        return ReadFacts(complete=complete, item_count=read.item_count, item_count_since=since if obj.ims else None,
                         read_started=read_started)

    def checking(complete: bool) -> Callable[[Connection], None] | None:
        return None if verify is None else (lambda conn: verify(conn, facts(complete)))
    try:
        try:
            read = walk(client, obj, tenant_id, on_page, since=since, page_size=page_size,
                        first_page=resume.page if resume else 1, keep=keep, progress=progress,
                        after_journal=previous if isinstance(previous, int) else 0)
        except XeroApiError as exc:
            if gate is not None and is_refusal(exc):
                raise NotAvailable(gate.refused(endpoint)) from None
            raise
        read_started = read_started or read.server_time
        if read.failed is not None:
            if may_checkpoint and loader.pages_pending:
                loader.commit(snapshot=False, state=partial(read))  # no page read is thrown away
            raise read.failed
        stopped = read.stopped
        if (stopped is None and obj.cursor is Cursor.IMS and read_started is not None
                and (read.pages > 1 or resume is not None)):
            # Pages are read at different moments (days apart, for a read resumed from a
            # checkpoint), so a record edited after its page was read would stay stale
            # until the next sync. Records edited since the read began have a later
            # UpdatedDateUTC: one more read from that moment (with the overlap) picks them
            # up, and the merge keeps their later copy.
            calls_main = client.stats.calls
            closing = walk(client, obj, tenant_id, lambda records, _: loader.add(records),
                           since=ims_since(read_started), page_size=page_size, keep=keep, progress=progress,
                           label="closing read, ")
            stopped = closing.stopped
            closing_calls = client.stats.calls - calls_main
        fetched = time.monotonic()
        if stopped is None:
            last_start = closing.server_time if closing and closing.server_time else read_started
            new_cursor = next_cursor(obj, previous=previous, first_server_time=last_start,
                                     max_journal_number=read.max_journal)
            served = (lambda conn: gate.served(endpoint, conn=conn)) if gate is not None and gate.had_refusal else None
            loader.commit(snapshot=obj.full_snapshot or mode == "reconcile", state=SyncState(
                tenant_id, obj.table, new_cursor, sync_mode=mode, full_read_at=now if whole else None),
                after=_then(served, checking(True)))
        elif loader.pages_pending or loader.commits or _parking(stopped, parked):
            # Stopped early: what was read is committed as an upsert (nothing is marked
            # deleted: the read did not see everything), with where to continue.
            state_now = partial(read)
            until = _parking(stopped, parked)
            loader.commit(snapshot=False, state=state_now, after=_then(None if until is None else (
                lambda conn: park_tenant(conn, tenant_id, until, now=now)), checking(False)))
            new_cursor = state_now.cursor
        else:
            new_cursor = choice.cursor
            if verify is not None:
                with connect() as conn:
                    verify(conn, facts(False))
        written = time.monotonic()
    finally:
        loader.discard()
    stats = loader.stats if loader.commits else LoadStats(row_count=held or 0)
    return SyncResult(
        obj=obj, tenant_id=tenant_id, mode=mode, records_read=loader.records, pages=read.pages
        + (closing.pages if closing else 0), api_calls=client.stats.calls - calls_before, load=stats,
        cursor=new_cursor, seconds=written - started, fetch_seconds=fetched - started,
        write_seconds=written - fetched, day_remaining=client.day_left(tenant_id),
        child_rows_read=loader.child_rows_read, item_count=read.item_count,
        item_count_since=since if obj.ims else None, read_started=read_started,
        cursor_source=choice.source, cursor_mismatch=choice.mismatch,
        closing_calls=closing_calls, complete=stopped is None,
        stopped_by=None if stopped is None else ("parked" if parked else (closing or read).stopped_by),
        resumed_from_page=resume.page if resume else None, commits=loader.commits,
        progress=_progress(obj, read, resume, now, previous) if stopped is not None else {},
    )


def _then(*steps: Callable[[Connection], None] | None) -> Callable[[Connection], None] | None:
    """The given after-commit steps, in order, as one (None when there are none)."""
    todo = [step for step in steps if step is not None]
    if not todo:
        return None

    def run(conn: Connection) -> None:
        for step in todo:
            step(conn)
    return run


def _parking(stopped: Exception | None, parked: datetime | None) -> datetime | None:
    """When a day-limit 429 met by this read lifts, unless the tenant was parked already."""
    return stopped.resets_at if isinstance(stopped, XeroDailyLimitError) and parked is None else None


def _progress(obj: XeroObject, read: Walk, resume: Checkpoint | None, now: datetime,
              previous: datetime | int | None) -> dict[str, Any]:
    """How far an unfinished read got, and how many more runs it needs at this run's pace."""
    if obj.cursor is Cursor.JOURNAL_NUMBER:
        return {"last_journal_number": read.max_journal or previous, "last_journal_date":
                read.last_journal_date.isoformat() if read.last_journal_date else None,
                "runs_left": journal_runs_left(started_at=read.first_journal_date, reached=read.last_journal_date,
                                               today=now.date())}
    done = read.next_page - 1
    return {"pages_done": done, "page_count": read.page_count, "item_count": read.item_count,
            "resumed_from_page": resume.page if resume else None,
            "runs_left": runs_left(done=done, total=read.page_count, done_this_run=read.pages)}


__all__ = ["CursorChoice", "ReadFacts", "SyncResult", "Verify", "sync_object"]
