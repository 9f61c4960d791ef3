"""The Accounting API's reads, once a request has passed the gates (``accounting``).

A collection read selects and pages keys (``query``), then renders each record for the
read's variant from the cache (``render``); a single read finds the record by id or
document number; a report read builds the report (``reports``). The envelope is JSON
or XML as the request's ``Accept`` header asks.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from xero_pipeline.registry import BY_PATH, MAX_PAGE_SIZE, REPORTS_BY_NAME, Paging, XeroObject
from xero_pipeline.registry.fields import field_kinds
from xero_pipeline.sandbox.api.budgets import budget_window, within
from xero_pipeline.sandbox.api.history_reads import history_journal, journal_page
from xero_pipeline.sandbox.api.query import Params, Selector, build_query, paginate
from xero_pipeline.sandbox.api.render import (
    RenderCache,
    Variant,
    api_exception,
    render_record,
)
from xero_pipeline.sandbox.api.render_json import dumps, json_envelope
from xero_pipeline.sandbox.api.render_xml import xml_element, xml_envelope
from xero_pipeline.sandbox.api.wire import JSON, XML, Request, Response, not_found
from xero_pipeline.sandbox.books.store import TenantBooks
from xero_pipeline.sandbox.reports.build import build_report

PROVIDER = "Xero Pipeline Sandbox"

# Single-record reads also accept the document number in place of the id.
_ALT_KEYS = {"Invoices": "InvoiceNumber", "CreditNotes": "CreditNoteNumber", "Contacts": "ContactNumber",
             "PurchaseOrders": "PurchaseOrderNumber", "Journals": "JournalNumber", "Quotes": "QuoteNumber"}


def _archivable(obj: XeroObject) -> tuple[str, ...]:
    """Child arrays whose elements carry a Status that includeArchived governs (tracking options)."""
    if not any(p.lower() == "includearchived" for p in obj.include_params):
        return ()
    out = []
    for c in obj.children:
        try:
            if "Status" in field_kinds(c.schema):
                out.append(c.field)
        except KeyError:
            pass
    return tuple(out)


_ARCHIVABLE = {o.path: _archivable(o) for o in BY_PATH.values()}


class Reads:
    """Collection, single-record and report reads of one sandbox, and their render cache."""

    def __init__(self, *, clock_now: Callable[[], datetime]) -> None:
        self.now = clock_now
        self.cache = RenderCache()
        self.selector = Selector()
        self.page_size_limit = MAX_PAGE_SIZE  # the most rows a page+pageSize page holds

    def _envelope(self, req: Request, rid: str, key: str, items: list[bytes],
                  pagination: dict[str, int] | None = None) -> Response:
        if req.wants_json:
            body = json_envelope(response_id=rid, provider=PROVIDER, now=self.now(), key=key,
                                 items=items, pagination=pagination)
            return Response(200, body, JSON)
        body = xml_envelope(response_id=rid, provider=PROVIDER, now=self.now(), key=key,
                            items=items, pagination=pagination)
        return Response(200, body, XML)

    def _variant(self, obj: XeroObject, req: Request, params: Params, *, lines: bool) -> Variant:
        v = Variant(0)
        if lines:
            v |= Variant.LINES
        if obj.unitdp and (params.get("unitdp") or "").strip() == "4":
            v |= Variant.UNIT4
        if not req.wants_json:
            v |= Variant.XML
        return v

    def render_keys(self, books: TenantBooks, obj: XeroObject, keys: list[str],
                    variant: Variant) -> list[bytes]:
        children = _ARCHIVABLE[obj.path] if variant & Variant.HIDE_ARCHIVED else ()

        def one(rec: dict) -> bytes:
            return render_record(rec, variant, schema=obj.schema, children=children)

        with books.lock:
            return self.cache.many(books.tenant_id, obj.path, books.collections[obj.path], books.revisions,
                                   keys, variant, one)

    def collection(self, req: Request, books: TenantBooks, rid: str, obj: XeroObject) -> Response:
        params = Params(req.query)
        query = build_query(obj, params, req.header("If-Modified-Since"))
        if obj.paging is Paging.OFFSET and books.history is not None:
            variant = self._variant(obj, req, params, lines=True)
            items = journal_page(books, obj, query, params.integer("offset", 0), variant,
                                 selector=self.selector, render_keys=self.render_keys)
            return self._envelope(req, rid, obj.envelope, items)
        keys = self.selector.select(books, obj, query)
        page = paginate(books, obj, keys, params, size_limit=self.page_size_limit)
        lines = (page.paged or not obj.lines_need_paging) and not obj.filled_singly
        variant = self._variant(obj, req, params, lines=lines)
        if _ARCHIVABLE[obj.path] and "ARCHIVED" not in query.reveal:
            variant |= Variant.HIDE_ARCHIVED
        items = self.render_keys(books, obj, page.keys, variant)
        return self._envelope(req, rid, obj.envelope, items, page.pagination)

    def single(self, req: Request, books: TenantBooks, rid: str, obj: XeroObject, raw_key: str) -> Response:
        params = Params(req.query)
        variant = self._variant(obj, req, params, lines=True)
        if obj.paging is Paging.OFFSET:
            variant |= Variant.SINGLE_JOURNAL  # Xero drops SourceID/SourceType here
            if books.history is not None:
                found = history_journal(books, obj, raw_key, variant)
                if found is not None:
                    return self._envelope(req, rid, obj.envelope, [found])
        key = self._find(books, obj, raw_key)
        if key is None:
            return not_found()
        if obj.path == "Budgets":
            return self._budget(req, books, rid, obj, key, params, variant)
        return self._envelope(req, rid, obj.envelope, self.render_keys(books, obj, [key], variant))

    def _budget(self, req: Request, books: TenantBooks, rid: str, obj: XeroObject, key: str,
                params: Params, variant: Variant) -> Response:
        # Its balances depend on DateFrom/DateTo, so this read bypasses the render cache.
        try:
            first, last = budget_window(params.items(), today=books.clock.now().date())
        except ValueError as e:
            body = api_exception(10, "ValidationException", str(e), xml=not req.wants_json)
            return Response(400, body, JSON if req.wants_json else XML)
        with books.lock:
            record = within(books.collections[obj.path][key], first, last)
        return self._envelope(req, rid, obj.envelope, [render_record(record, variant, schema=obj.schema)])

    def _find(self, books: TenantBooks, obj: XeroObject, raw: str) -> str | None:
        coll = books.collections[obj.path]
        if raw in coll:
            return raw
        low = raw.lower()
        alt = _ALT_KEYS.get(obj.path)
        with books.lock:
            for k, rec in coll.items():
                if k.lower() == low or (alt and str(rec.get(alt, "")).lower() == low):
                    return k
        return None

    def report(self, req: Request, books: TenantBooks, rid: str, name: str | None) -> Response:
        if name is None:
            # GET /Reports lists published (e.g. GST) reports; the sandbox publishes none.
            return self._envelope(req, rid, "Reports", [])
        spec = REPORTS_BY_NAME.get(name.lower())
        raw = Params(req.query).items()
        canon = {p.lower(): p for p in (spec.params if spec else ())}
        params = {canon.get(k, k): v for k, v in raw.items()}
        try:
            report: Any = build_report(books, name, params)
        except KeyError:
            return not_found()
        except ValueError as e:
            body = api_exception(10, "ValidationException", str(e), xml=not req.wants_json)
            return Response(400, body, JSON if req.wants_json else XML)
        reports = report["Reports"] if isinstance(report, dict) and "Reports" in report else [report]
        if req.wants_json:
            items = [dumps(r).encode() for r in reports]
        else:
            items = [xml_element("Report", r, schema="ReportWithRow").encode() for r in reports]
        return self._envelope(req, rid, "Reports", items)
