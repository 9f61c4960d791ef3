"""How to walk one Xero collection: the query of each request and when to stop.

Pure logic, no HTTP, so every endpoint's paging is testable on its own.

Ordering matters for correctness, not just tidiness. If pages were ordered by
``UpdatedDateUTC`` (which is what an unordered IMS read tends to give), a record edited
while we page would jump to the end and every record behind it would shift back one
place: the first record of the next page would be skipped, and since its
UpdatedDateUTC is older than our cursor it would never be read again. Ordering by the
primary key, which never changes, means an edit keeps its place and an insert can only
shift rows forward, which at worst repeats a row (the merge keeps the newest copy).
Records edited during the read are picked up by the next sync, because the cursor is
the server's time at the start of this one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from xero_pipeline.registry import FIXED_PAGE_SIZE, MAX_PAGE_SIZE, Paging, XeroObject


@dataclass
class Pager:
    """Yields the query parameters of each request for one object until it is exhausted."""

    obj: XeroObject
    page_size: int = MAX_PAGE_SIZE
    after_journal: int = 0  # journals: highest JournalNumber already loaded
    page: int = 1
    done: bool = False
    last_journal: int | None = None
    base: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page size must be between 1 and {MAX_PAGE_SIZE}, not {self.page_size}")
        base = {p: "true" for p in self.obj.include_params}
        if self.obj.unitdp:
            base["unitdp"] = "4"
        if self.obj.paging in (Paging.PAGE_SIZE, Paging.PAGE_ONLY) and self.obj.orderable:
            base["order"] = f"{self.obj.order_by or self.obj.primary_key} ASC"
        self.base = base
        self.last_journal = self.after_journal

    def params(self) -> dict[str, str]:
        """The query for the next request."""
        if self.done:
            raise StopIteration("the collection is exhausted")
        p = dict(self.base)
        match self.obj.paging:
            case Paging.PAGE_SIZE:
                p["page"] = str(self.page)
                p["pageSize"] = str(self.page_size)
            case Paging.PAGE_ONLY:
                p["page"] = str(self.page)
            case Paging.OFFSET:
                p["offset"] = str(self.last_journal or 0)
        return p

    def advance(self, records: list[dict[str, Any]], pagination: dict[str, Any] | None) -> None:
        """Take in one response and decide whether another request is needed."""
        match self.obj.paging:
            case Paging.NONE:
                self.done = True
            case Paging.PAGE_SIZE:
                count = (pagination or {}).get("pageCount")
                if count is None:
                    self.done = len(records) < self.page_size
                else:
                    # Xero may serve fewer rows than asked (a clamp, the old fixed 100), so a
                    # short page ends nothing while pageCount says more; a full last page
                    # costs no extra empty request.
                    self.done = not records or self.page >= int(count)
            case Paging.PAGE_ONLY:
                self.done = len(records) < FIXED_PAGE_SIZE
            case Paging.OFFSET:
                if records:
                    self.last_journal = max(int(r["JournalNumber"]) for r in records)
                self.done = len(records) < FIXED_PAGE_SIZE
        self.page += 1


def minimum_calls(obj: XeroObject, rows: int) -> int:
    """The fewest requests Xero's paging allows for ``rows`` records (for benchmarks)."""
    if obj.paging is Paging.NONE:
        return 1
    size = MAX_PAGE_SIZE if obj.paging is Paging.PAGE_SIZE else FIXED_PAGE_SIZE
    full, rest = divmod(rows, size)
    # Page-only and offset endpoints cannot tell a full last page from a middle one.
    trailing = 1 if rest or obj.paging is not Paging.PAGE_SIZE or rows == 0 else 0
    return full + trailing
