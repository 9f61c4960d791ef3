"""One walk through a collection's pages, handing each page to the caller as it arrives.

A walk ends in one of four ways: the collection is exhausted, the tenant's daily
allowance is reached (``XeroBudgetReached``: the step leaves what it must), Xero
refuses further calls for the day (a 429 ``day``), or an outage outlasts the retries.
The middle two are progress, not failures: the walk returns what it read, says why it
stopped, and the caller commits it. After an outage the caller commits what it read
too, then fails. Every other error propagates.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

from xero_pipeline.errors import XeroApiError, XeroBudgetReached, XeroDailyLimitError, XeroUnavailableError
from xero_pipeline.registry import Cursor, XeroObject
from xero_pipeline.xero.budgets import read_budget, reads_by_month_range
from xero_pipeline.xero.client import XeroClient
from xero_pipeline.xero.collections import read_pages
from xero_pipeline.xero.dates import parse_date
from xero_pipeline.xero.decoding import RawRecords
from xero_pipeline.xero.lookahead import lookahead

ProgressFn = Callable[[str], None]
# A page's records: parsed dicts, or (raw pages) a RawRecords of each record's JSON text.
PageFn = Callable[[list[dict[str, Any]] | RawRecords, "Walk"], None]


@dataclass
class Walk:
    """What one walk read, and why it ended."""

    first_page: int = 1
    pages: int = 0
    server_time: datetime | None = None  # Xero's clock at the walk's first response
    item_count: int | None = None  # pagination.itemCount of the first response
    page_count: int | None = None  # pagination.pageCount of the first response
    max_journal: int | None = None
    first_journal_date: date | None = None
    last_journal_date: date | None = None
    stopped: XeroBudgetReached | XeroDailyLimitError | None = None
    failed: XeroUnavailableError | None = None  # an outage outlasted the retries mid-read

    @property
    def next_page(self) -> int:
        return self.first_page + self.pages

    @property
    def stopped_by(self) -> str | None:
        if isinstance(self.stopped, XeroDailyLimitError):
            return "xero_day_limit"
        return "daily_budget" if self.stopped is not None else None


def walk(
    client: XeroClient, obj: XeroObject, tenant_id: str, on_page: PageFn, *, since: datetime | None,
    page_size: int, first_page: int = 1, after_journal: int = 0, keep: int | None = None,
    progress: ProgressFn | None = None, label: str = "",
) -> Walk:
    """Read pages until the collection ends or the day's calls do; ``on_page`` takes each."""
    out = Walk(first_page=first_page)
    by_month = reads_by_month_range(obj)
    # Records that need calls of their own (budgets, groups' members) are completed as
    # dicts; every other page reaches ``on_page`` raw, each record as its JSON text, for
    # the warehouse to decode straight into typed rows.
    singly = bool(by_month or obj.filled_singly)
    pages = read_pages(client, obj, tenant_id=tenant_id, since=since, after_journal=after_journal,
                       page_size=page_size, first_page=first_page, keep=keep, raw=not singly)
    if not singly:
        # The next page is read while this one is shaped. Not where a page's records
        # need calls of their own (budgets, groups' members): one call at a time per walk
        # keeps the client's use, and the order of those calls, as it was.
        pages = lookahead(pages, name=f"xero-read-{obj.table}")
    try:
        for page in pages:
            records: list[dict[str, Any]] | RawRecords = page.records if page.raw is None else page.raw
            if by_month:
                today = (out.server_time or page.server_time or datetime.now(UTC)).date()
                records = [read_budget(client, obj, tenant_id, r, today=today, keep=keep) for r in records]
            elif obj.filled_singly:
                records = [_fill_singly(client, obj, tenant_id, r, keep=keep) for r in records]
            # Counted only once the page is whole (its singly-read parts included).
            out.pages += 1
            if out.server_time is None:
                out.server_time = page.server_time
                pagination = page.pagination or {}
                out.item_count = _int(pagination.get("itemCount"))
                out.page_count = _int(pagination.get("pageCount"))
            if obj.cursor is Cursor.JOURNAL_NUMBER and page.count:
                out.max_journal = page.last_journal
                out.first_journal_date = out.first_journal_date or _journal_date(page.heads[0])
                out.last_journal_date = _journal_date(page.heads[-1])
            on_page(records, out)
            if progress:
                progress(f"{obj.table}: {label}page {page.number}, {page.count} rows")
    except (XeroBudgetReached, XeroDailyLimitError) as exc:
        out.stopped = exc
    except XeroUnavailableError as exc:
        # The caller keeps the pages read so far before failing the step.
        out.failed = exc
    finally:
        pages.close()  # stops the lookahead's thread when a page's handling failed
    return out


def throttled(fn: ProgressFn, *, seconds: float) -> ProgressFn:
    """``fn`` called at most once every ``seconds``: a line per page would flood a run's event
    log (each line is an event Dagster stores) on a read of thousands of pages."""
    last = [float("-inf")]

    def call(line: str) -> None:
        now = time.monotonic()
        if now - last[0] >= seconds:
            last[0] = now
            fn(line)

    return call


def _int(value: Any) -> int | None:
    return int(value) if value is not None else None


def _journal_date(record: dict[str, Any]) -> date | None:
    value = record.get("JournalDate")
    if isinstance(value, date):
        return value
    return parse_date(value) if isinstance(value, str) else None


def _fill_singly(client: XeroClient, obj: XeroObject, tenant_id: str, record: dict[str, Any], *,
                 keep: int | None) -> dict[str, Any]:
    """The record with the arrays Xero only fills on a read by id (a group's members).

    The list read stays the source of the record itself; only the named arrays come
    from the single read, so a group edited between the two reads is at worst one sync
    behind, and its hash (over the filled record) changes when its members do.
    """
    key = str(record[obj.primary_key])
    try:
        body = client.get_json(f"/api.xro/2.0/{obj.path}/{quote(key)}", tenant_id=tenant_id, scope=obj.scope,
                               keep=keep, what=obj.table)
    except XeroApiError as exc:
        if exc.status != 404:
            raise
        # Deleted between the two reads: the next sync's list read will not have it.
        return record
    found = next(iter(body.get(obj.envelope) or []), None)
    if found is None:
        return record
    return {**record, **{f: found.get(f) or [] for f in obj.filled_singly}}
