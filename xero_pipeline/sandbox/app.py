"""``Sandbox``: the fake Xero as one object (books + identity + limits + faults + server).
``command`` serves it from a terminal (``xero-pipeline sandbox``)."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from xero_pipeline.registry import BY_PATH as OBJECTS_BY_PATH
from xero_pipeline.registry import MAX_PAGE_SIZE
from xero_pipeline.sandbox.api import controls
from xero_pipeline.sandbox.api.accounting import PREFIX, AccountingApi, default_mutation
from xero_pipeline.sandbox.api.faults import Faults, Stats
from xero_pipeline.sandbox.api.history_reads import iter_journals, journal_summary
from xero_pipeline.sandbox.api.limits import RateLimiter, ScaledTime
from xero_pipeline.sandbox.api.query import install_versioning
from xero_pipeline.sandbox.api.routes import Router
from xero_pipeline.sandbox.api.server import ServerThread
from xero_pipeline.sandbox.books.store import EPOCH, SandboxClock, TenantBooks
from xero_pipeline.sandbox.identity.connections import practice_tenants
from xero_pipeline.sandbox.identity.profile import AppProfile
from xero_pipeline.sandbox.identity.service import Identity
from xero_pipeline.sandbox.seeding.large import attach_histories
from xero_pipeline.sandbox.truth import truth_bytes
from xero_pipeline.sandbox.webhooks import WebhookSender


class Sandbox:
    """An offline Xero: Accounting API, identity service and controls on one loopback port.

    ``books`` (tests only) serves hand-made ``TenantBooks`` instead of seeded ones.
    ``unavailable`` ({"ExpenseClaims": 403, "Journals": 401}) makes endpoints answer as
    Xero does to an app or plan without them (401 AuthorizationUnsuccessful, 403, 404);
    change it later through ``sandbox.api.unavailable``.
    ``page_size_limit`` (below 1000) serves fewer rows on a page than a client asks, as
    Xero did before pageSize existed (100); ``pagination`` reports the size served.
    ``practices`` (("PRACTICE", "PRACTICEMANAGER")) adds tenants of those types to the demo
    app's ``/connections``, as Xero HQ and Practice Manager add them; they have no books,
    so the Accounting API answers 403 for them (``practice_ids``).
    ``profile`` says what kind of app the demo app is (plan, creation date, journals tier,
    custom connection's age, consented scopes; see ``identity.profile``); ``day_limit``
    overrides the plan's daily limit. ``set_profile`` changes it at run time.
    ``day_window`` is "rolling" (24 h back from each call) or "fixed" (24 h from a
    (app, tenant)'s first call; see ``api.limits``).
    ``today`` is the day the sandbox clock starts at: the seeded books run up to the day
    before, so "as of today" reports and views show a live business. It defaults to
    ``EPOCH``, fixed so tests see the same dates every day; the demo passes the real today.
    ``history_journals`` (an int for every tenant, or {tenant index or id: count}) gives
    tenants that many generated journals before their own (``seeding.large``): a very large
    organisation served in bounded memory. ``ground_truth`` leaves them out; use
    ``journal_summary`` and ``iter_journals``.
    ``public_app`` makes the demo app a "Mobile or desktop app" (Auth Code with PKCE): a
    client id and no client secret (``client_secret`` is None; see ``identity.clients``).
    ``webhook_url`` and ``webhook_key`` subscribe the app's webhook when the sandbox starts
    (``subscribe_webhooks`` later): the books' changes are delivered there as Xero does.
    """

    def __init__(self, *, tenants: int = 2, scale: float = 0.02, seed: int = 7, time_scale: float = 1.0,
                 limits: bool = True, day_limit: int | None = None, token_lifetime: float = 1800,
                 host: str = "127.0.0.1", port: int = 0, books: Sequence[TenantBooks] | None = None,
                 unavailable: dict[str, int] | None = None, page_size_limit: int = MAX_PAGE_SIZE,
                 practices: Sequence[str] = (), profile: AppProfile | None = None,
                 history_journals: int | Mapping[int | str, int] = 0, day_window: str = "rolling",
                 public_app: bool = False, today: date | None = None, webhook_url: str | None = None,
                 webhook_key: str | None = None) -> None:
        if not 1 <= page_size_limit <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size_limit must be between 1 and {MAX_PAGE_SIZE}, not {page_size_limit}")
        self.seed, self.scale, self.host, self.port = seed, scale, host, port
        if books is None:
            from xero_pipeline.sandbox.seeding.tenants import build_tenants

            self.clock = SandboxClock(EPOCH if today is None else datetime.combine(today, time(), UTC))
            books = build_tenants(count=tenants, scale=scale, seed=seed, clock=self.clock)
        else:
            self.clock = books[0].clock if books else SandboxClock()
        self._seeded = len(books)
        self.time = ScaledTime(time_scale)
        self.webhooks = WebhookSender(time=self.time, seed=seed,
                                      connected=lambda t: t in self.identity.demo.connections)
        attach_histories(books, history_journals, seed=seed)
        self.books: dict[str, TenantBooks] = {}
        self.faults = Faults()
        self._stats = Stats()
        profile = profile or AppProfile()
        self._day_limit = day_limit
        self.limiter = RateLimiter(time=self.time, enabled=limits,
                                   day_limit=day_limit if day_limit is not None else profile.day_limit,
                                   day_window=day_window)
        others = practice_tenants(seed, practices)
        self.practice_ids = list(others)
        self.identity = Identity(seed=seed, time=self.time, clock=self.clock,
                                 tenants={b.tenant_id: b.name for b in books} | {t: n for t, (_, n) in others.items()},
                                 tenant_types={t: kind for t, (kind, _) in others.items()},
                                 token_lifetime=token_lifetime, profile=profile, public_app=public_app,
                                 on_event=self._stats.event)
        self.api = AccountingApi(books={}, identity=self.identity, limiter=self.limiter, faults=self.faults,
                                 stats=self._stats, clock_now=self.clock.now, seed=seed,
                                 mutate=default_mutation(seed), unavailable=unavailable)
        self.api.reads.page_size_limit = page_size_limit
        for b in books:
            self._add_books(b)
        self.router = Router(sandbox=self, api=self.api, identity=self.identity, faults=self.faults,
                             stats=self._stats, controls=lambda req: controls.handle(self, req))
        self.client_id = self.identity.demo.client_id
        self.client_secret = self.identity.demo.client_secret
        self.custom_client_id = self.identity.custom.client_id
        self.custom_client_secret = self.identity.custom.client_secret
        self.refresh_token = self.identity.initial_refresh_token()
        self._days: dict[str, int] = {}
        self._server: ServerThread | None = None
        self._lock = threading.Lock()
        self.url = ""
        self._webhook_subscription = (webhook_url, webhook_key) if webhook_url else None

    def _add_books(self, books: TenantBooks) -> None:
        install_versioning(books)
        self.webhooks.watch(books)
        self.books[books.tenant_id] = books
        self.api.books[books.tenant_id.lower()] = books

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> Sandbox:
        if self._server is None:
            self._server = ServerThread(self.router.dispatch, host=self.host, port=self.port)
            self._server.start()
            self.url = self._server.url
            self.webhooks.start()
            if self._webhook_subscription:
                self.subscribe_webhooks(*self._webhook_subscription)
        return self

    def stop(self) -> None:
        self.webhooks.stop()
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def api_url(self) -> str:
        return self.url + PREFIX.rstrip("/")

    @property
    def identity_url(self) -> str:
        return self.url

    @property
    def tenant_ids(self) -> list[str]:
        return list(self.books)

    def pipeline_env(self, *, token_store: str) -> dict[str, str]:
        """The XERO_* settings that point the pipeline at this sandbox's demo app (a public
        app has no XERO_CLIENT_SECRET); XERO_AUTHORIZE_URL is for ``xero-pipeline auth``."""
        secret = {"XERO_CLIENT_SECRET": self.client_secret} if self.client_secret else {}
        return {"XERO_CLIENT_ID": self.client_id, **secret, "XERO_REFRESH_TOKEN": self.refresh_token,
                "XERO_API_URL": self.url, "XERO_IDENTITY_URL": self.url, "XERO_TOKEN_STORE": token_store,
                "XERO_AUTHORIZE_URL": f"{self.url}/identity/connect/authorize"}

    def info(self) -> dict[str, Any]:
        return {
            "url": self.url, "api_url": self.api_url, "identity_url": self.identity_url,
            "client_id": self.client_id, "client_secret": self.client_secret,
            "refresh_token": self.refresh_token,
            "custom_client_id": self.custom_client_id, "custom_client_secret": self.custom_client_secret,
            "tenants": [{"tenant_id": t, "name": b.name, "connected": t in self.identity.demo.connections}
                        for t, b in self.books.items()],
            "time_scale": self.time.scale, "limits": self.limiter.enabled,
            "day_limit": self.limiter.day_limit, "profile": self.profile.describe(),
        }

    @property
    def profile(self) -> AppProfile:
        return self.identity.profile

    def set_profile(self, profile: AppProfile | None = None, **changes: object) -> AppProfile:
        """Change what kind of app this is, now: ``set_profile(journals=True)`` upgrades the
        demo app to the journals tier, ``set_profile(plan="starter")`` moves it to 1,000 calls
        a day (unless ``day_limit`` was given), ``set_profile(scopes=[...])`` is the user
        consenting again with that scope set (the next token refresh carries it)."""
        new = (profile or self.profile).changed(**changes)
        self.identity.set_profile(new)
        if self._day_limit is None:
            self.limiter.day_limit = new.day_limit
        return new

    def subscribe_webhooks(self, url: str, key: str | None, categories: Sequence[str] = ()) -> dict[str, Any]:
        """The app's webhook: deliveries to ``url`` signed with ``key``, after intent-to-receive
        probes (see ``webhooks``); returns its state (status ACTIVE once the probes pass)."""
        self.webhooks.subscribe(url, key, frozenset(categories) or None)
        return self.webhooks.status()

    def new_refresh_token(self) -> str:
        """Another refresh token for the demo app, as if the user consented again."""
        return self.identity.initial_refresh_token()

    # --- the books -----------------------------------------------------------------------

    def simulate_day(self, tenant_id: str | None = None) -> dict[str, dict[str, int]]:
        """One day of bookkeeping for every tenant (or one); the shared clock moves once."""
        from xero_pipeline.sandbox.books.activity import simulate_day

        targets = [tenant_id] if tenant_id else self.tenant_ids
        out = {}
        with self._lock:
            for i, tid in enumerate(targets):
                books = self.books[tid]
                day = self._days[tid] = self._days.get(tid, 0) + 1
                rng = random.Random(f"{self.seed}:day:{day}:{tid}")
                out[tid] = simulate_day(books, rng=rng, advance_clock=i == 0)
        return out

    def change_silently(self, tenant_id: str | None = None, *, count: int = 3) -> dict[str, dict[str, list[str]]]:
        """Changes Xero does not timestamp, and hard deletes (see ``books.silent``)."""
        from xero_pipeline.sandbox.books.silent import change_silently

        with self._lock:
            return {tid: change_silently(self.books[tid], rng=random.Random(f"{self.seed}:silent:{tid}"),
                                         count=count)
                    for tid in ([tenant_id] if tenant_id else self.tenant_ids)}

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def set_field(self, path: str, field: str, values: Sequence[Any], *, tenant_id: str | None = None,
                  touch: bool = True) -> dict[str, list[str]]:
        """A field Xero added later, on the first ``len(values)`` records of ``path`` in every
        tenant (or one); returns the changed keys per tenant (see ``books.drift``)."""
        from xero_pipeline.sandbox.books.drift import set_field

        with self._lock:
            return {tid: set_field(self.books[tid], path, field, values, touch=touch)
                    for tid in ([tenant_id] if tenant_id else self.tenant_ids)}

    def ground_truth_bytes(self, *, tenant_id: str | None = None) -> bytes:
        """JSON of every collection per tenant as a perfect full read returns it (see ``truth``)."""
        return truth_bytes(self.api.reads, {t: self.books[t] for t in ([tenant_id] if tenant_id else self.tenant_ids)})

    def ground_truth(self, *, tenant_id: str | None = None) -> dict[str, dict[str, list[dict]]]:
        """``{tenant_id: {path: [record, ...]}}`` parsed as a client would (Decimal numbers).
        Generated history journals are not in it (see ``journal_summary``)."""
        return json.loads(self.ground_truth_bytes(tenant_id=tenant_id), parse_float=Decimal)

    def journal_summary(self, tenant_id: str) -> dict[str, Any]:
        """Every journal of the tenant, history included, in brief: count, first_number,
        last_number, number_sum, lines, net_by_account_code ({code: Decimal})."""
        return journal_summary(self.books[tenant_id])

    def iter_journals(self, tenant_id: str) -> Iterator[dict]:
        """Every journal of the tenant by number, history included, parsed as a client would."""
        return iter_journals(self.books[tenant_id], OBJECTS_BY_PATH["journals"], self.api.reads.render_keys)

    # --- connections, tokens, faults, stats ----------------------------------------------

    def connect_tenant(self, tenant_id: str | None = None, *, books: TenantBooks | None = None) -> str:
        """Reconnect a tenant, add hand-made ``books``, or (neither) seed a new organisation."""
        if books is None and tenant_id is None:
            from xero_pipeline.sandbox.seeding.tenants import build_tenants

            built = build_tenants(count=len(self.books) + 1, scale=self.scale, seed=self.seed,
                                  clock=self.clock)
            books = next(b for b in reversed(built) if b.tenant_id not in self.books)
        if books is not None:
            self._add_books(books)
            tenant_id = books.tenant_id
        assert tenant_id is not None
        if tenant_id not in self.books:
            raise KeyError(f"unknown tenant {tenant_id}")
        self.identity.connections.connect(tenant_id, name=self.books[tenant_id].name)
        if tenant_id == self.tenant_ids[0]:
            self.identity.connections.connect(tenant_id, app=self.identity.custom)
        return tenant_id

    def disconnect_tenant(self, tenant_id: str) -> bool:
        return self.identity.connections.disconnect(tenant_id)

    def expire_tokens(self) -> int:
        return self.identity.expire_all()

    def inject(self, kind: str, *, tenant_id: str | None = None, path: str | None = None, count: int = 1,
               after_page: int | None = None, seconds: float | None = None) -> int:
        """Queue a fault (see ``faults``); returns its id. ``expire_tokens`` acts at once."""
        if kind == "expire_tokens":
            self.expire_tokens()
            self._stats.fault(kind)
            return 0
        return self.faults.add(kind, tenant_id=tenant_id, path=path, count=count, after_page=after_page,
                               seconds=seconds).id

    def clear_faults(self) -> None:
        self.faults.clear()

    def stats(self) -> dict[str, Any]:
        """Calls per tenant and endpoint, status codes, 429s by problem, token events,
        faults fired, the most concurrent calls seen and render-cache hits (see ``faults``)."""
        snap = self._stats.snapshot()
        snap["max_concurrent"] = dict(self.limiter.max_in_flight)
        snap["max_concurrent_total"] = self.limiter.max_in_flight_total
        snap["render_cache"] = {"hits": self.api.reads.cache.hits, "misses": self.api.reads.cache.misses}
        return snap

    def reset_stats(self) -> None:
        self._stats.reset()
        self.limiter.reset_stats()
        self.api.reads.cache.hits = self.api.reads.cache.misses = 0

