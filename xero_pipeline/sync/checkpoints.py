"""Checkpoints of long reads: what a partial commit records and where the next run resumes (pure).

A large organisation's first read does not fit one run: 500,000 journals are 5,000
calls, five days of a Starter plan. So a read commits every ``CHECKPOINT_PAGES`` pages
(sooner when ``CHECKPOINT_ROWS`` rows are waiting), and when it stops early (the day's
allowance, a day-limit 429, a kill), in one transaction with the sync state that says
where it got to:

* Journals: the state's cursor is the highest JournalNumber committed. Journals are
  immutable and numbered in order, so that number alone is where to resume.
* Page-numbered If-Modified-Since reads: the cursor stays the one the read started
  from (rows committed so far are a subset of what it stands for), and the state's
  ``checkpoint`` holds the next page, the If-Modified-Since sent and Xero's clock at the
  read's first page. The next run asks for the same pages from there. Pages are ordered
  by primary key, so a record inserted meanwhile can only push rows forward (read twice,
  merged once), and the read's closing If-Modified-Since call, from the moment the read
  first started, picks up whatever was edited behind it.
* Reads that must see the whole collection (snapshots, weekly reconciliation) mark
  what vanished only once they have seen everything. Stopped early they commit their
  rows as an upsert, mark nothing, and start again from page 1 on the next run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from xero_pipeline.registry import Cursor, Paging, XeroObject
from xero_pipeline.warehouse.sync_state import SyncState
from xero_pipeline.xero.dates import parse_iso

CHECKPOINT_PAGES = 20  # 2,000 journals or 20,000 documents: at most this much is re-read after a kill
# A merge holds its rows in DuckDB's memory until it commits: 20 pages of invoices are
# ~140,000 rows with their lines and tracking, ~250 MiB, past memory_limit into the spill.
# So a read with many child rows a page commits sooner.
CHECKPOINT_ROWS = 50_000


@dataclass(frozen=True)
class Checkpoint:
    """Where a page-numbered read resumes."""

    page: int  # the next page to ask for
    since: datetime | None  # the If-Modified-Since the read sends (None: a full read)
    read_started: datetime | None  # Xero's clock at the read's first page
    mode: str  # full or incremental: what the finished read will record

    def to_json(self) -> dict[str, Any]:
        return {"page": self.page, "since": _iso(self.since), "read_started": _iso(self.read_started),
                "mode": self.mode}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Checkpoint:
        return cls(int(data["page"]), _parse(data.get("since")), _parse(data.get("read_started")),
                   str(data.get("mode") or "incremental"))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _parse(value: Any) -> datetime | None:
    return parse_iso(value) if value else None


def checkpointed(obj: XeroObject, mode: str) -> bool:
    """Whether a read in ``mode`` may commit before it has seen the whole collection's change set."""
    if mode not in ("full", "incremental"):
        return False
    return obj.cursor is Cursor.JOURNAL_NUMBER or (
        obj.cursor is Cursor.IMS and obj.paging in (Paging.PAGE_SIZE, Paging.PAGE_ONLY))


def resume_from(obj: XeroObject, state: SyncState | None, trusted_cursor: str | None) -> Checkpoint | None:
    """The checkpoint to continue from, if the warehouse's state holds one that still applies.

    It applies only to the cursor the sync trusts: a checkpoint taken from another
    cursor (the instance and the warehouse parted ways since) is dropped.
    """
    if state is None or state.checkpoint is None or obj.cursor is not Cursor.IMS:
        return None
    if state.cursor != trusted_cursor:
        return None
    try:
        return Checkpoint.from_json(state.checkpoint)
    except (KeyError, TypeError, ValueError):
        return None


def runs_left(*, done: int, total: int | None, done_this_run: int) -> float | None:
    """Runs still needed at this run's pace; None when the total or the pace is unknown."""
    if total is None or done_this_run <= 0:
        return None
    return max(total - done, 0) / done_this_run


def journal_runs_left(*, started_at: date | None, reached: date | None, today: date) -> float | None:
    """Runs until journals reach today, at the pace (in days of books) this run covered.

    Xero does not say how many journals there are, but they come in date order, so how
    far a run moved through the calendar is its pace.
    """
    if started_at is None or reached is None or reached <= started_at:
        return None
    return max((today - reached).days, 0) / (reached - started_at).days
