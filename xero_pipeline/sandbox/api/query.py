"""Which records a collection read returns, in which order, and which page of them.

A read is described by a ``Query`` (hashable), resolved against one tenant's books to
an ordered list of primary keys. That list is cached per query and reused for every
page of a sync until the collection changes, so paging costs a slice, not a sort.
Collection changes are detected by ``VersionedRevisions``: installed in place of
``TenantBooks.revisions`` it counts writes per path (``put``/``delete`` bump revisions).
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from collections.abc import Callable
from typing import Any

from xero_pipeline.registry import FIXED_PAGE_SIZE, MAX_PAGE_SIZE, Paging, XeroObject
from xero_pipeline.sandbox.api.operands import QueryError, as_instant, field_getter
from xero_pipeline.sandbox.api.order import compile_order, sort_key
from xero_pipeline.sandbox.api.where import compile_where
from xero_pipeline.sandbox.books.store import TenantBooks

DEFAULT_PAGE_SIZE = 100

# Spec 16.1.0 declares no `where`/`order` on these GETs; Xero ignores unknown query
# parameters, so the sandbox ignores them too rather than filtering.
_NO_WHERE = frozenset({"BrandingThemes", "Budgets", "Journals", "LinkedTransactions", "Organisation",
                       "PaymentServices", "PurchaseOrders", "Quotes"})
_NO_ORDER = _NO_WHERE - {"PurchaseOrders", "Quotes"}

# Comma-separated filters (Invoices' IDs/Statuses/ContactIDs/InvoiceNumbers ...), applied
# wherever the field exists. Values: field path; None means the primary/status field.
_CSV_PARAMS = {"ids": None, "statuses": "<status>", "contactids": "Contact.ContactID",
               "invoicenumbers": "InvoiceNumber", "references": "Reference"}
# Single-value filters the spec declares on endpoints without `where`: (field, op).
_SCALAR_PARAMS: dict[str, dict[str, tuple[str, str]]] = {
    "Quotes": {"contactid": ("Contact.ContactID", "eq"), "status": ("Status", "eq"),
               "quotenumber": ("QuoteNumber", "eq"), "datefrom": ("Date", "ge"), "dateto": ("Date", "le"),
               "expirydatefrom": ("ExpiryDate", "ge"), "expirydateto": ("ExpiryDate", "le")},
    "PurchaseOrders": {"status": ("Status", "eq"), "datefrom": ("Date", "ge"), "dateto": ("Date", "le")},
    "LinkedTransactions": {"linkedtransactionid": ("LinkedTransactionID", "eq"),
                           "sourcetransactionid": ("SourceTransactionID", "eq"),
                           "targettransactionid": ("TargetTransactionID", "eq"),
                           "contactid": ("ContactID", "eq"), "status": ("Status", "eq")},
}
_HIDDEN_BY = {"includearchived": "ARCHIVED", "includedeleted": "DELETED"}


class Params:
    """Query parameters; names are case-insensitive in Xero (ASP.NET model binding)."""

    def __init__(self, raw: dict[str, list[str]]) -> None:
        self._p = {k.lower(): v[0] for k, v in raw.items() if v}

    def get(self, name: str) -> str | None:
        return self._p.get(name.lower())

    def has(self, name: str) -> bool:
        return name.lower() in self._p

    def flag(self, name: str) -> bool:
        return (self.get(name) or "").strip().lower() == "true"

    def integer(self, name: str, default: int) -> int:
        v = self.get(name)
        if v is None or v.strip() == "":
            return default
        try:
            return int(v)
        except ValueError:
            raise QueryError(f"The value '{v}' is not valid for {name}.", number=10,
                             type_="ValidationException") from None

    def items(self) -> dict[str, str]:
        return dict(self._p)


def parse_ims(value: str) -> datetime:
    """If-Modified-Since as an aware UTC instant, truncated to the second.

    Xero documents the filter as "accurate to the second". Accepted: ISO 8601 with or
    without fraction and offset (naive means UTC), ``Z``, and RFC 1123 HTTP-dates.
    """
    v = value.strip()
    dt: datetime | None = None
    try:
        dt = datetime.fromisoformat(v)
    except ValueError:
        try:
            dt = parsedate_to_datetime(v)
        except (TypeError, ValueError, IndexError):
            dt = None
    if dt is None:
        raise QueryError(f"The If-Modified-Since header value '{value}' is not a valid date",
                         number=10, type_="ValidationException")
    dt = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    return dt.replace(microsecond=0)


def _parse_date(name: str, value: str) -> datetime:
    try:
        return as_instant(date.fromisoformat(value.strip()[:10]))
    except ValueError:
        raise QueryError(f"The value '{value}' is not valid for {name}.", number=10,
                         type_="ValidationException") from None


@dataclass(frozen=True)
class Query:
    """Everything that decides which records a collection read returns, and their order."""

    reveal: frozenset[str] = frozenset()  # hidden statuses made visible (ARCHIVED, DELETED)
    where: str | None = None
    order: str | None = None
    ims: datetime | None = None
    filters: tuple[tuple[str, str, Any], ...] = ()  # (field path, op, value)


def build_query(obj: XeroObject, params: Params, ims_header: str | None) -> Query:
    reveal = frozenset(
        status for flag, status in _HIDDEN_BY.items()
        if any(p.lower() == flag for p in obj.include_params) and params.flag(flag)
    )
    filters: list[tuple[str, str, Any]] = []
    for name, field in _CSV_PARAMS.items():
        raw = params.get(name)
        if raw is None or not raw.strip():
            continue
        if field is None:
            field = obj.primary_key
        elif field == "<status>":
            field = obj.status_field or "Status"
        values = frozenset(v.strip().strip('"').lower() for v in raw.split(",") if v.strip())
        filters.append((field, "in", values))
    for name, (field, op) in _SCALAR_PARAMS.get(obj.path, {}).items():
        raw = params.get(name)
        if raw is None or not raw.strip():
            continue
        value: Any = _parse_date(name, raw) if op in ("ge", "le") else raw.strip().lower()
        filters.append((field, op, value))
    where = params.get("where") if obj.path not in _NO_WHERE else None
    order = params.get("order") if obj.path not in _NO_ORDER else None
    ims = parse_ims(ims_header) if (ims_header and obj.ims) else None
    query = Query(reveal, (where or "").strip() or None, (order or "").strip() or None, ims, tuple(filters))
    # Compile now so a bad clause is a 400 even when the result comes from the cache.
    if query.where:
        compile_where(query.where, schema=obj.schema)
    if query.order:
        compile_order(query.order, schema=obj.schema)
    return query


def _matches(rec: dict, field: str, op: str, value: Any, get: Any) -> bool:
    v = get(rec)
    if op == "in":
        return v is not None and str(v).lower() in value
    if op == "eq":
        return v is not None and str(v).lower() == value
    if v is None:
        return False
    v = as_instant(v)
    return v >= value if op == "ge" else v <= value


def _compute(books: TenantBooks, obj: XeroObject, q: Query) -> list[str]:
    with books.lock:
        items = list(books.collections[obj.path].items())
    status_field = obj.status_field or "Status"
    hidden = {_HIDDEN_BY[p.lower()] for p in obj.include_params if p.lower() in _HIDDEN_BY} - q.reveal
    if hidden:
        items = [(k, r) for k, r in items if r.get(status_field) not in hidden]
    if q.ims is not None and obj.updated_field:
        uf, since = obj.updated_field, q.ims
        # Truncating the stored instant to the second and comparing with a whole-second
        # threshold is the same as comparing the untruncated instant.
        items = [(k, r) for k, r in items if r.get(uf) is not None and as_instant(r[uf]) >= since]
    for field, op, value in q.filters:
        get = field_getter(field.split("."))
        items = [(k, r) for k, r in items if _matches(r, field, op, value, get)]
    if q.where:
        pred = compile_where(q.where, schema=obj.schema)
        items = [(k, r) for k, r in items if pred(r)]
    if q.order:
        for key, desc in reversed(compile_order(q.order, schema=obj.schema)):
            items.sort(key=lambda kr, key=key: key(kr[1]), reverse=desc)
    else:
        items = default_order(obj, items)
    return [k for k, _ in items]


def default_order(obj: XeroObject, items: list[tuple[str, dict]]) -> list[tuple[str, dict]]:
    """Journals by number; IMS endpoints by (updated field, key); others as inserted."""
    if obj.paging is Paging.OFFSET:
        return sorted(items, key=lambda kr: kr[1].get("JournalNumber") or 0)
    if obj.ims and obj.updated_field:
        key = sort_key(field_getter([obj.updated_field]))
        return sorted(items, key=lambda kr: (key(kr[1]), kr[0]))
    return items


class VersionedRevisions(dict):
    """``TenantBooks.revisions`` that also counts writes per collection path."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.versions: dict[str, int] = {}
        # (path, key, revision) after each write: how the webhook sender hears of changes.
        self.on_change: Callable[[str, str, int], None] | None = None

    def __setitem__(self, key: tuple[str, str], value: int) -> None:
        super().__setitem__(key, value)
        self.versions[key[0]] = self.versions.get(key[0], 0) + 1
        if self.on_change is not None:
            self.on_change(key[0], key[1], value)


def install_versioning(books: TenantBooks) -> None:
    with books.lock:
        if not isinstance(books.revisions, VersionedRevisions):
            books.revisions = VersionedRevisions(books.revisions)


class Selector:
    """Ordered key lists per (tenant, path, query), reused until the collection changes."""

    def __init__(self, capacity: int = 128) -> None:
        self._cache: OrderedDict[tuple, tuple[tuple[int, int], list[str]]] = OrderedDict()
        self._lock = threading.Lock()
        self._capacity = capacity

    def select(self, books: TenantBooks, obj: XeroObject, q: Query) -> list[str]:
        revs = books.revisions
        with books.lock:
            coll_len = len(books.collections[obj.path])
            version = revs.versions.get(obj.path, 0) if isinstance(revs, VersionedRevisions) else None
        key = (books.tenant_id, obj.path, q)
        if version is not None:
            with self._lock:
                hit = self._cache.get(key)
                if hit is not None and hit[0] == (version, coll_len):
                    self._cache.move_to_end(key)
                    return hit[1]
        keys = _compute(books, obj, q)
        if version is not None:
            with self._lock:
                self._cache[key] = ((version, coll_len), keys)
                if len(self._cache) > self._capacity:
                    self._cache.popitem(last=False)
        return keys

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()


@dataclass(frozen=True)
class Page:
    keys: list[str]
    paged: bool  # the request paged (so documents carry their line items)
    pagination: dict[str, int] | None  # only PAGE_SIZE endpoints report it


def paginate(books: TenantBooks, obj: XeroObject, keys: list[str], params: Params, *,
             size_limit: int = MAX_PAGE_SIZE) -> Page:
    """One page of ``keys``; ``size_limit`` is the most rows a page+pageSize page holds."""
    if obj.paging is Paging.OFFSET:
        # offset is an exclusive lower bound on JournalNumber, not a row count.
        offset = params.integer("offset", 0)
        coll = books.collections[obj.path]
        start = bisect_right(keys, offset, key=lambda k: (coll.get(k) or {}).get("JournalNumber") or 0)
        return Page(keys[start:start + FIXED_PAGE_SIZE], True, None)
    if obj.paging in (Paging.PAGE_SIZE, Paging.PAGE_ONLY) and params.has("page"):
        page = max(1, params.integer("page", 1))
        if obj.paging is Paging.PAGE_SIZE:
            # Xero's cap is 1000; what it does above that is undocumented: we clamp.
            size = min(max(1, params.integer("pageSize", DEFAULT_PAGE_SIZE)), size_limit)
        else:
            size = FIXED_PAGE_SIZE
        start = (page - 1) * size
        chunk = keys[start:start + size]
        pagination = None
        if obj.paging is Paging.PAGE_SIZE:
            count = len(keys)
            pagination = {"page": page, "pageSize": size, "pageCount": -(-count // size), "itemCount": count}
        return Page(chunk, True, pagination)
    return Page(keys, False, None)
