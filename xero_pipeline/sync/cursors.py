"""Incremental cursors: what they mean, how they advance, which one a sync trusts (pure).

A cursor is kept twice: in the metadata of the asset's last materialization for the
tenant partition (``defs.materializations``: visible in the UI, moved only after the
warehouse committed) and in the warehouse's own sync state (``warehouse.sync_state``),
written in the merge's transaction. The instance and the warehouse file can part ways
(the file deleted, moved or restored from an older copy while DAGSTER_HOME stays), so a
sync trusts the instance's cursor only when the warehouse's state agrees with it and
otherwise reads from what the warehouse holds (``choose_cursor``).

* If-Modified-Since objects: the cursor is Xero's own clock (the envelope's
  ``DateTimeUTC``) at the first response of the sync's last read. A read of several
  pages ends with one more If-Modified-Since read from the moment it started, which
  picks up records edited while it paged; the cursor is that closing read's start.
  Every read asks from ``IMS_OVERLAP`` before the cursor (see there).
* Journals: the highest JournalNumber committed. Journals are immutable and numbered
  in order, so nothing before it can change.
* Snapshot objects keep no cursor: every sync reads the whole collection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from xero_pipeline.registry import Cursor, XeroObject
from xero_pipeline.warehouse.sync_state import PARTIAL, SyncState
from xero_pipeline.xero.dates import parse_iso

# Each If-Modified-Since read starts this long before the previous read's DateTimeUTC.
# Xero does not say when in a save UpdatedDateUTC is stamped: a save in flight as a read
# starts can carry a stamp a little before that read's DateTimeUTC yet not be in it, and
# with no overlap the next read (from that DateTimeUTC) would skip it for good. Merges
# are idempotent (an unchanged record keeps its hash), so re-reading the few records of
# those seconds costs nothing but their bytes.
IMS_OVERLAP = timedelta(seconds=5)


def parse_cursor(obj: XeroObject, raw: str | None) -> datetime | int | None:
    if raw in (None, ""):
        return None
    if obj.cursor is Cursor.IMS:
        return parse_iso(raw)
    if obj.cursor is Cursor.JOURNAL_NUMBER:
        return int(raw)
    return None


def next_cursor(
    obj: XeroObject,
    *,
    previous: datetime | int | None,
    first_server_time: datetime | None,
    max_journal_number: int | None,
) -> str | None:
    """The cursor to store once this sync's rows have committed."""
    if obj.cursor is Cursor.IMS:
        value = first_server_time or previous
        return value.isoformat() if isinstance(value, datetime) else None
    if obj.cursor is Cursor.JOURNAL_NUMBER:
        candidates = [n for n in (previous, max_journal_number) if isinstance(n, int)]
        return str(max(candidates)) if candidates else None
    return None


def ims_since(cursor: datetime) -> datetime:
    """The If-Modified-Since to send for a read continuing from ``cursor``."""
    return cursor - IMS_OVERLAP


@dataclass(frozen=True)
class CursorChoice:
    cursor: str | None  # what this sync reads from; None reads the whole collection
    source: str  # instance (it agreed with the warehouse), warehouse, full or snapshot
    mismatch: str | None = None  # why the instance's cursor was not used, for the log and metadata


def choose_cursor(obj: XeroObject, *, instance: str | None, state: SyncState | None,
                  held: int | None) -> CursorChoice:
    """The cursor a sync may trust: the instance's only when the warehouse's state agrees.

    ``state`` is the warehouse's sync state for the tenant and object (None if it has
    none) and ``held`` the tenant's live rows of the table now (None if no table): a
    state whose row count differs from them no longer describes the table (rows
    deleted or loaded by hand), so nothing it says is trusted either.
    """
    if obj.cursor is Cursor.NONE:
        return CursorChoice(None, "snapshot")
    table = f"xero.{obj.table}"
    if state is None:
        if instance is None:
            return CursorChoice(None, "full")  # a first sync: nothing to disagree with
        return CursorChoice(None, "full", (
            f"the warehouse holds no sync state for {table}, so the Dagster instance's cursor {instance} "
            "is not trusted (the warehouse file was deleted, replaced or is another one): reading it whole"))
    if held != state.row_count:
        return CursorChoice(None, "full", (
            f"the warehouse's sync state for {table} says {state.row_count} rows but the table holds "
            f"{'none' if held is None else held} (changed outside the pipeline?): reading it whole"))
    if state.cursor == instance:
        return CursorChoice(instance, "instance" if instance is not None else "full")
    if state.sync_mode == PARTIAL and obj.cursor is Cursor.JOURNAL_NUMBER:
        # A checkpoint committed after the instance's last record of this step (the run
        # was killed, or is still going): the warehouse's number is where to go on.
        return CursorChoice(state.cursor, "checkpoint")
    return CursorChoice(state.cursor, "warehouse" if state.cursor is not None else "full", (
        f"the Dagster instance's cursor for {table} is {instance or 'unset'} but the warehouse's sync state "
        f"says {state.cursor or 'unset'} (the warehouse was restored from another copy, or the instance lost or "
        f"missed a run): reading from the warehouse's"))
