"""The Accounting API under ``/api.xro/2.0/``: every registry object, single records, reports.

A request passes the gates in Xero's order: bearer token (401), scope (401
AuthorizationUnsuccessful), tenant header and connection (403), rate limits (429),
then injected faults, then the read itself. Rate-limit headers go on every response
that got as far as a tenant. Routes come from the registry: nothing here names an
endpoint except the few per-endpoint quirks Xero itself has (alternate keys for single
reads, journals fetched singly losing SourceID/SourceType).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from xero_pipeline.registry import BY_PATH, REPORTS_BY_NAME, Paging, XeroObject
from xero_pipeline.registry.fields import field_kinds
from xero_pipeline.sandbox.api import render
from xero_pipeline.sandbox.api.faults import Fault, Faults, Stats
from xero_pipeline.sandbox.api.limits import Decision, RateLimiter
from xero_pipeline.sandbox.api.query import Params, Selector, build_query, paginate
from xero_pipeline.sandbox.api.render import RenderCache, Variant
from xero_pipeline.sandbox.api.where import QueryError
from xero_pipeline.sandbox.api.wire import JSON, TEXT, XML, Request, Response, not_found
from xero_pipeline.sandbox.books.store import TenantBooks
from xero_pipeline.sandbox.identity.service import AccessToken, Identity, has_scope

PREFIX = "/api.xro/2.0/"
UNAVAILABLE = b"The Xero API is temporarily unavailable"
PROVIDER = "Xero Pipeline Sandbox"

# Single-record reads also accept the document number in place of the id.
_ALT_KEYS = {"Invoices": "InvoiceNumber", "CreditNotes": "CreditNoteNumber", "Contacts": "ContactNumber",
             "PurchaseOrders": "PurchaseOrderNumber", "Journals": "JournalNumber", "Quotes": "QuoteNumber"}
_429_KINDS = frozenset({"429_minute", "429_day"})


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


class AccountingApi:
    def __init__(self, *, books: dict[str, TenantBooks], identity: Identity, limiter: RateLimiter,
                 faults: Faults, stats: Stats, clock_now: Callable[[], datetime], seed: int,
                 mutate: Callable[[Fault, TenantBooks, str], None],
                 unavailable: dict[str, int] | None = None) -> None:
        self.books = books
        # Endpoints this app or plan may not read ({"Journals": 401}): Xero's answers to an
        # app created since 2026 asking for classic expenses, or a plan without journals.
        self.unavailable = {k.lower(): v for k, v in (unavailable or {}).items()}
        self.identity = identity
        self.limiter = limiter
        self.faults = faults
        self.stats = stats
        self.now = clock_now
        self.seed = seed
        self.mutate = mutate
        self.cache = RenderCache()
        self.selector = Selector()

    # --- gates ---------------------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        rid = str(uuid.uuid4())
        if req.method not in ("GET", "HEAD"):
            # The sandbox is read-only: Xero's writes (PUT/POST) are not modelled.
            body = render.api_exception(405, "MethodNotAllowed", f"{req.method} is not supported here")
            return Response(405, body, JSON, {"Allow": "GET"})
        parts = [p for p in req.path[len(PREFIX):].split("/") if p]
        target = self._target(parts)
        endpoint = target[1] if target else "/".join(parts[:1]) or "-"
        token = self.identity.authenticate(req.header("Authorization"))
        if isinstance(token, str):
            return self._finish(endpoint, None, self._problem(401, "Unauthorized", token, rid))
        if target is None:
            return self._finish(endpoint, None, not_found())
        scope, endpoint, serve = target
        if not has_scope(token, scope):
            denied = self._problem(401, "Unauthorized", "AuthorizationUnsuccessful", rid)
            return self._finish(endpoint, None, denied)
        tenant_id = self._tenant(req, token)
        if tenant_id is None:
            forbidden = self._problem(403, "Forbidden", "AuthenticationUnsuccessful", rid)
            return self._finish(endpoint, None, forbidden)
        refused = self.unavailable.get(endpoint.split("/")[0].lower())
        if refused is not None:
            return self._finish(endpoint, tenant_id, self._refusal(refused, rid))

        forced = self.faults.before(tenant_id, endpoint, kinds=_429_KINDS)
        if forced is not None:
            self.stats.fault(forced.kind)
            decision = self.limiter.forced(forced.kind.split("_")[1], xero_seconds=forced.seconds)
        else:
            decision = self.limiter.acquire(token.app.client_id, tenant_id)
        if decision.problem is not None:
            resp = Response(429, b"", None, {**decision.headers, "Retry-After": str(decision.retry_after),
                                              "X-Rate-Limit-Problem": decision.problem})
            return self._finish(endpoint, tenant_id, resp, problem=decision.problem)
        try:
            return self._admitted(req, rid, endpoint, tenant_id, token, serve, decision)
        except BaseException:
            if decision.key is not None:
                self.limiter.release(decision.key)
            raise

    def _admitted(self, req: Request, rid: str, endpoint: str, tenant_id: str, token: AccessToken,
                  serve: Callable[..., Response], decision: Decision) -> Response:
        books = self.books[tenant_id]
        fault = self.faults.before(tenant_id, endpoint)
        try:
            resp = serve(req, books, rid, token)
        except QueryError as e:
            resp = Response(400, render.api_exception(e.number, e.type_, str(e), xml=not req.wants_json),
                            JSON if req.wants_json else XML)
        if fault is not None:
            self.stats.fault(fault.kind)
            resp = self._apply(fault, resp)
        resp.headers.update(decision.headers)
        resp.headers.setdefault("Xero-Correlation-Id", rid)
        resp.headers.setdefault("Cache-Control", "max-age=0, no-cache, no-store")
        if decision.key is not None:
            resp.after.append(lambda: self.limiter.release(decision.key))
        if resp.status == 200 and not resp.truncate and not resp.reset:
            for due in self.faults.after_success(tenant_id, endpoint):
                self.stats.fault(due.kind)
                # Before the answer is sent, so the client's next request sees the change.
                self.mutate(due, books, endpoint.split("/")[0])
        return self._finish(endpoint, tenant_id, resp)

    def _apply(self, fault: Fault, resp: Response) -> Response:
        if fault.kind == "503":
            return Response(503, UNAVAILABLE, TEXT, after=resp.after)
        if fault.kind == "500":
            body = render.api_exception(500, "UnhandledException", "An unhandled error occurred")
            return Response(500, body, JSON, after=resp.after)
        if fault.kind == "truncated":
            resp.truncate = True
        elif fault.kind == "reset":
            resp.reset = True
        elif fault.kind == "slow":
            resp.delay = self.limiter.time.real(fault.seconds or 0)
        return resp

    def _finish(self, endpoint: str, tenant_id: str | None, resp: Response, *,
                problem: str | None = None) -> Response:
        self.stats.record(endpoint, tenant_id, "reset" if resp.reset else resp.status, problem=problem)
        return resp

    def _refusal(self, status: int, rid: str) -> Response:
        if status == 401:
            return self._problem(401, "Unauthorized", "AuthorizationUnsuccessful", rid)
        if status == 403:
            return self._problem(403, "Forbidden", "AuthenticationUnsuccessful", rid)
        if status == 404:
            return not_found()
        return self._problem(status, "Error", "Unavailable", rid)

    def _problem(self, status: int, title: str, detail: str, rid: str) -> Response:
        body = render.problem(status, title, detail, rid)
        return Response(status, body, JSON, {"Xero-Correlation-Id": rid})

    def _tenant(self, req: Request, token: AccessToken) -> str | None:
        raw = (req.header("xero-tenant-id") or "").strip().lower()
        if not raw:
            # Custom connections are bound to one organisation: the header is optional.
            return token.tenant_id if token.tenant_id and token.tenant_id in self.books else None
        if raw not in self.books or not self.identity.tenant_allowed(token, raw):
            return None
        return raw

    def _target(self, parts: list[str]) -> tuple[str, str, Callable[..., Response]] | None:
        """(required scope, endpoint name, handler) for a path under /api.xro/2.0/."""
        if not parts:
            return None
        head = parts[0].lower()
        if head == "reports" and len(parts) <= 2:
            spec = REPORTS_BY_NAME.get(parts[1].lower()) if len(parts) == 2 else None
            name = spec.name if spec else (parts[1] if len(parts) == 2 else None)
            # The bare /Reports lists published tax reports (GST/BAS).
            scope = spec.scope if spec else (
                "accounting.reports.read" if name else "accounting.reports.taxreports.read")
            return scope, "Reports" + (f"/{name}" if name else ""), \
                lambda req, books, rid, tok: self._report(req, books, rid, name)
        obj = BY_PATH.get(head)
        if obj is None or len(parts) > 2:
            return None
        if len(parts) == 2:
            key = parts[1]
            return obj.scope, obj.path, lambda req, books, rid, tok: self._single(req, books, rid, obj, key)
        return obj.scope, obj.path, lambda req, books, rid, tok: self._collection(req, books, rid, obj)

    # --- reads ---------------------------------------------------------------------------

    def _envelope(self, req: Request, rid: str, key: str, items: list[bytes],
                  pagination: dict[str, int] | None = None) -> Response:
        if req.wants_json:
            body = render.json_envelope(response_id=rid, provider=PROVIDER, now=self.now(), key=key,
                                        items=items, pagination=pagination)
            return Response(200, body, JSON)
        body = render.xml_envelope(response_id=rid, provider=PROVIDER, now=self.now(), key=key,
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
            return render.render_record(rec, variant, schema=obj.schema, children=children)

        with books.lock:
            return self.cache.many(books.tenant_id, obj.path, books.collections[obj.path], books.revisions,
                                   keys, variant, one)

    def _collection(self, req: Request, books: TenantBooks, rid: str, obj: XeroObject) -> Response:
        params = Params(req.query)
        query = build_query(obj, params, req.header("If-Modified-Since"))
        keys = self.selector.select(books, obj, query)
        page = paginate(books, obj, keys, params)
        lines = (page.paged or not obj.lines_need_paging) and not obj.filled_singly
        variant = self._variant(obj, req, params, lines=lines)
        if _ARCHIVABLE[obj.path] and "ARCHIVED" not in query.reveal:
            variant |= Variant.HIDE_ARCHIVED
        items = self.render_keys(books, obj, page.keys, variant)
        return self._envelope(req, rid, obj.envelope, items, page.pagination)

    def _single(self, req: Request, books: TenantBooks, rid: str, obj: XeroObject, raw_key: str) -> Response:
        key = self._find(books, obj, raw_key)
        if key is None:
            return not_found()
        variant = self._variant(obj, req, Params(req.query), lines=True)
        if obj.paging is Paging.OFFSET:
            variant |= Variant.SINGLE_JOURNAL  # Xero drops SourceID/SourceType here
        return self._envelope(req, rid, obj.envelope, self.render_keys(books, obj, [key], variant))

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

    def _report(self, req: Request, books: TenantBooks, rid: str, name: str | None) -> Response:
        if name is None:
            # GET /Reports lists published (e.g. GST) reports; the sandbox publishes none.
            return self._envelope(req, rid, "Reports", [])
        try:
            from xero_pipeline.sandbox.reports.balances import build_report
        except ImportError:
            return not_found()
        spec = REPORTS_BY_NAME.get(name.lower())
        raw = Params(req.query).items()
        canon = {p.lower(): p for p in (spec.params if spec else ())}
        params = {canon.get(k, k): v for k, v in raw.items()}
        try:
            report: Any = build_report(books, name, params)
        except KeyError:
            return not_found()
        except ValueError as e:
            body = render.api_exception(10, "ValidationException", str(e), xml=not req.wants_json)
            return Response(400, body, JSON if req.wants_json else XML)
        reports = report["Reports"] if isinstance(report, dict) and "Reports" in report else [report]
        if req.wants_json:
            items = [render.dumps(r).encode() for r in reports]
        else:
            items = [render.xml_element("Report", r, schema="ReportWithRow").encode() for r in reports]
        return self._envelope(req, rid, "Reports", items)


def default_mutation(seed: int) -> Callable[[Fault, TenantBooks, str], None]:
    """Mutation faults call the data half's activity model (imported lazily)."""

    def mutate(fault: Fault, books: TenantBooks, path: str) -> None:
        from xero_pipeline.sandbox.books import activity
        rng = random.Random(f"{seed}:fault:{fault.id}:{books.tenant_id}")
        if fault.kind == "mutate":
            obj = BY_PATH[(fault.path or path).split("/")[0].lower()]
            activity.edit_records(books, obj.path, fault.count, rng=rng)
        else:
            for _ in range(fault.count):
                activity.simulate_day(books, rng=rng, advance_clock=False)

    return mutate
