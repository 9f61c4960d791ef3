"""The Accounting API under ``/api.xro/2.0/``: every registry object, single records, reports.

A request passes the gates in Xero's order: bearer token (401), scope (401
AuthorizationUnsuccessful), tenant header and connection (403), the app's tier
(``/Journals`` without the Advanced tier, or for a custom connection created since
29 April 2026: 401 AuthorizationUnsuccessful, as for a missing scope), rate limits (429),
then injected faults, then the read or the write itself (``reads``, ``writes``; a write
passes the app's idempotency cache first, and counts against the same limits). Rate-limit headers go on every response
that got as far as a tenant. Routes come from the registry: nothing here or in
``reads`` names an endpoint except the few per-endpoint quirks Xero itself has
(alternate keys for single reads, journals fetched singly losing SourceID/SourceType).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import datetime

from xero_pipeline.registry import BY_PATH, REPORTS_BY_NAME, write_scope
from xero_pipeline.sandbox.api import render
from xero_pipeline.sandbox.api.faults import Fault, Faults, Stats
from xero_pipeline.sandbox.api.idempotency import IdempotencyCache
from xero_pipeline.sandbox.api.limits import Decision, RateLimiter
from xero_pipeline.sandbox.api.operands import QueryError
from xero_pipeline.sandbox.api.reads import Reads
from xero_pipeline.sandbox.api.wire import JSON, TEXT, XML, Request, Response, not_found
from xero_pipeline.sandbox.api.writes import Writes
from xero_pipeline.sandbox.books.store import TenantBooks
from xero_pipeline.sandbox.books.writes import WRITABLE_PATHS
from xero_pipeline.sandbox.identity.service import AccessToken, Identity, has_scope

PREFIX = "/api.xro/2.0/"
UNAVAILABLE = b"The Xero API is temporarily unavailable"

_429_KINDS = frozenset({"429_minute", "429_day"})
_GATEWAY = {"502": b"Bad Gateway", "504": b"Gateway Timeout"}


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
        self.seed = seed
        self.mutate = mutate
        self.reads = Reads(clock_now=clock_now)
        self.writes = Writes(clock_now=clock_now, seed=seed)
        self.idempotency = IdempotencyCache(time=limiter.time)

    # --- gates ---------------------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        rid = str(uuid.uuid4())
        parts = [p for p in req.path[len(PREFIX):].split("/") if p]
        if req.method in ("PUT", "POST"):
            target = self._write_target(req.method, parts)
        elif req.method in ("GET", "HEAD"):
            target = self._target(parts)
        else:
            body = render.api_exception(405, "MethodNotAllowed", f"{req.method} is not supported here")
            return Response(405, body, JSON, {"Allow": "GET, PUT, POST"})
        endpoint = target[1] if target else "/".join(parts[:1]) or "-"
        token = self.identity.authenticate(req.header("Authorization"))
        if isinstance(token, str):
            return self._finish(endpoint, None, self._problem(401, "Unauthorized", token, rid))
        if target is None:
            return self._finish(endpoint, None, not_found())
        scope, endpoint, serve = target
        if not has_scope(token, scope):
            # Counted under the tenant when the header names one, so a test can see how
            # often a client keeps asking for what it may not read.
            return self._finish(endpoint, self._tenant(req, token), self._unauthorised(rid))
        tenant_id = self._tenant(req, token)
        if tenant_id is None:
            forbidden = self._problem(403, "Forbidden", "AuthenticationUnsuccessful", rid)
            return self._finish(endpoint, None, forbidden)
        if endpoint.split("/")[0] == "Journals" and not self.identity.profile.journal_access(token.app):
            return self._finish(endpoint, tenant_id, self._unauthorised(rid))
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
        if fault.kind == "501":
            body = render.api_exception(501, "NotImplementedException", "The method has not been implemented")
            return Response(501, body, JSON, after=resp.after)
        if fault.kind in _GATEWAY:
            return Response(int(fault.kind), _GATEWAY[fault.kind], TEXT, after=resp.after)
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

    def _unauthorised(self, rid: str) -> Response:
        """Xero's answer to a missing scope or tier: refreshing the token does not help."""
        return self._problem(401, "Unauthorized", "AuthorizationUnsuccessful", rid)

    def _refusal(self, status: int, rid: str) -> Response:
        if status == 401:
            return self._unauthorised(rid)
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
        if raw not in self.books or not self.identity.connections.allowed(token, raw):
            return None
        return raw

    def _write_target(self, method: str, parts: list[str]) -> tuple[str, str, Callable[..., Response]] | None:
        """(write scope, endpoint, handler) of a PUT or POST; None (404) for what cannot be written.

        The handler runs inside the app's idempotency cache: a request repeated with its
        ``Idempotency-Key`` is answered from there and writes nothing again."""
        obj = BY_PATH.get(parts[0].lower()) if parts else None
        if obj is None or obj.path not in WRITABLE_PATHS or len(parts) > 2 or (method == "PUT" and len(parts) == 2):
            return None
        key = parts[1] if len(parts) == 2 else None

        def serve(req: Request, books: TenantBooks, rid: str, tok: AccessToken) -> Response:
            return self.idempotency.run(tok.app.client_id, req,
                                        lambda: self.writes.handle(req, books, rid, obj, key))

        return write_scope(obj.scope), obj.path, serve

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
                lambda req, books, rid, tok: self.reads.report(req, books, rid, name)
        obj = BY_PATH.get(head)
        if obj is None or len(parts) > 2:
            return None
        if len(parts) == 2:
            key = parts[1]
            return obj.scope, obj.path, lambda req, books, rid, tok: self.reads.single(req, books, rid, obj, key)
        return obj.scope, obj.path, lambda req, books, rid, tok: self.reads.collection(req, books, rid, obj)


def default_mutation(seed: int) -> Callable[[Fault, TenantBooks, str], None]:
    """Mutation faults make real changes through the books' activity and edits (imported lazily)."""

    def mutate(fault: Fault, books: TenantBooks, path: str) -> None:
        from xero_pipeline.sandbox.books import activity, edits
        rng = random.Random(f"{seed}:fault:{fault.id}:{books.tenant_id}")
        if fault.kind == "mutate":
            obj = BY_PATH[(fault.path or path).split("/")[0].lower()]
            edits.edit_records(books, obj.path, fault.count, rng=rng,
                               committed_after=fault.seconds or 0.0)
        else:
            for _ in range(fault.count):
                activity.simulate_day(books, rng=rng, advance_clock=False)

    return mutate
