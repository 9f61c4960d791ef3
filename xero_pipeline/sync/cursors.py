"""Incremental cursors: what they mean and how they advance (pure; no Dagster, no I/O).

Where they are kept is ``defs.materializations``: the metadata of the asset's last
materialization for that tenant partition, so a cursor is visible in the UI and moves
only when Dagster records a successful materialization, after the warehouse commit.

* If-Modified-Since objects: the cursor is Xero's own clock (the envelope's
  ``DateTimeUTC``) at the first response of the sync. Anything changed after that
  moment, including records edited while we paged, has a later UpdatedDateUTC and comes
  back next time; Xero compares to the second and we send the second, so the boundary
  second is read twice rather than missed.
* Journals: the highest JournalNumber committed. Journals are immutable and numbered
  in order, so nothing before it can change.
* Snapshot objects keep no cursor: every sync reads the whole collection.
"""

from __future__ import annotations

from datetime import datetime

from xero_pipeline.registry import Cursor, XeroObject
from xero_pipeline.xero.dates import parse_iso


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
