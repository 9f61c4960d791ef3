"""What a Xero object is: how its endpoint pages, filters, nests and deletes."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from xero_pipeline.registry.writes import Writes


class Cursor(enum.StrEnum):
    """How the pipeline asks Xero only for what changed since the last sync."""

    IMS = "if_modified_since"  # send the last sync's server time as If-Modified-Since
    JOURNAL_NUMBER = "journal_number"  # offset = highest JournalNumber already loaded
    NONE = "none"  # small or unfilterable: read everything and reconcile the snapshot


class Paging(enum.StrEnum):
    """How an endpoint splits a collection across responses."""

    PAGE_SIZE = "page_size"  # page + pageSize (<= 1000) + pagination object
    PAGE_ONLY = "page_only"  # page only, 100 per response, no pagination object
    OFFSET = "offset"  # offset = exclusive JournalNumber bound, 100 per response
    NONE = "none"  # one response holds the whole collection


MAX_PAGE_SIZE = 1000
FIXED_PAGE_SIZE = 100  # page-only endpoints and journals


@dataclass(frozen=True)
class Child:
    """A nested array that lands in a table of its own, keyed by its parent."""

    field: str  # the array in the parent record, e.g. "LineItems"
    table: str  # e.g. "invoice_line_items"
    schema: str  # spec schema of one element, e.g. "LineItem"
    key: str | None = None  # element id (e.g. "LineItemID"); None: the position is the key
    hard_deletes: bool = False  # elements vanish without a tombstone: kept with _deleted_at
    within: str | None = None  # a nested array of another child's elements: that child's table

    def __post_init__(self) -> None:
        # Marking a vanished element deleted needs an identity that outlives its position.
        if self.hard_deletes and not self.key:
            raise ValueError(f"{self.table}: a hard-deleted child needs a key")


@dataclass(frozen=True)
class XeroObject:
    """One Xero accounting collection and how to read it faithfully."""

    table: str  # warehouse table and asset name, snake_case plural
    path: str  # under /api.xro/2.0/
    envelope: str  # key of the array in the JSON response
    schema: str  # spec schema of one record
    primary_key: str
    paging: Paging
    ims: bool  # the endpoint honours If-Modified-Since (a fact about Xero; see ``cursor``)
    scope: str  # granular read scope that Xero checks (apps created since March 2026)
    summary: str  # what one row is, for descriptions in the UI
    children: tuple[Child, ...] = ()
    updated_field: str | None = "UpdatedDateUTC"
    status_field: str | None = "Status"
    include_params: tuple[str, ...] = ()  # flags that make hidden states visible
    unitdp: bool = False  # takes unitdp=4
    hard_deletes: bool = False  # rows vanish with no tombstone: reconcile by full read
    order_by: str | None = None  # a stable order for paging (see client); None: pk
    orderable: bool = True  # takes ``order``; LinkedTransactions answers in its own order
    core: bool = False  # part of the first, core set of assets
    notes: str = ""  # a Xero quirk worth showing in the asset's description
    filled_singly: tuple[str, ...] = ()  # child arrays only a read by id fills (ContactGroups)
    gated: str = ""  # why Xero may refuse this endpoint to an app or plan (named on failure)
    retired: str = ""  # ISO date Xero removed the endpoint; the asset fails without a call
    writes: Writes | None = None  # what an outbox row may write back (None: read only)
    # Xero's eventCategory for changes to this object ("" = Xero sends no webhook for it).
    webhook_category: str = ""

    @property
    def cursor(self) -> Cursor:
        """How a sync asks for changes, derived from what the endpoint offers.

        Journals are numbered and immutable, so their offset is the cursor. An
        If-Modified-Since read is a cursor only when ``UpdatedDateUTC`` moves on every
        change and nothing vanishes without a trace: BankTransfers have only
        ``CreatedDateUTC`` and Items are hard-deleted, so both are read whole.
        """
        if self.paging is Paging.OFFSET:
            return Cursor.JOURNAL_NUMBER
        if self.ims and self.updated_field == "UpdatedDateUTC" and not self.hard_deletes:
            return Cursor.IMS
        return Cursor.NONE

    @property
    def run_priority(self) -> int:
        """Where the object's step comes in a tenant's run when the day's calls are short.

        Small reference collections first (one call each, and everything else refers to
        them), then the paged documents, then journals, which on a large organisation can
        take the rest of the day and more; reports come after all of them.
        """
        return {Paging.NONE: 30, Paging.OFFSET: 10}.get(self.paging, 20)

    @property
    def full_snapshot(self) -> bool:
        """Every sync reads the whole collection (no usable change filter)."""
        return self.cursor is Cursor.NONE

    @property
    def lines_need_paging(self) -> bool:
        """Xero omits line items from unpaged multi-record reads of documents."""
        return self.paging in (Paging.PAGE_SIZE, Paging.PAGE_ONLY) and any(
            c.field == "LineItems" for c in self.children
        )

    def child(self, table: str) -> Child:
        for c in self.children:
            if c.table == table:
                return c
        raise KeyError(f"{self.table} has no child table {table!r}")
