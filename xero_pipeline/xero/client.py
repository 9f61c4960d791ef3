"""The Xero HTTP client: one place that knows headers, retries, errors and paging.

Every call sends ``Authorization``, ``xero-tenant-id`` and ``Accept: application/json``
(without it Xero answers in XML). Bodies are parsed with ``Decimal`` for every number so
money never passes through a float, or by the caller's ``decode`` (collection pages keep
each record's JSON text: ``decoding``).

What is retried and what is not:

* 401 once per call after forcing a token refresh (the token expired early or was
  revoked and re-issued); a 401 whose detail is ``AuthorizationUnsuccessful`` means a
  scope or tier the app lacks (fact sheet §7): never a refresh, which cannot help, but a
  ``XeroScopeError`` naming the scope (the object is then not available to the app);
* 429 ``minute``: the tenant's throttle waits ``Retry-After``, then the call is
  repeated; ``appminute``: every call of the app (every process sharing its
  ``AppLimit``) waits ``Retry-After``; ``concurrent``: this call waits and repeats;
  429 ``day``: stop this tenant with ``XeroDailyLimitError`` (hours of sleeping helps
  nobody; the next run resumes from the cursor); later calls for the tenant fail the
  same way at once, without spending a request (``park``);
* a call that would eat into what the caller must leave of the tenant's day (``keep``,
  judged from the last ``X-DayLimit-Remaining`` Xero sent for the tenant) is not made:
  ``XeroBudgetReached``, so a step stops before Xero refuses it;
* 5xx (500, 502, 503, 504 ...), connection errors, timeouts and truncated or malformed
  JSON: bounded exponential backoff with jitter (reads are safe to repeat, and so are writes:
  each retry sends the same Idempotency-Key and body, see ``xero.writes``);
* 501 Not Implemented and 505, any other 4xx (400, 404 ...), or a request that cannot
  even be sent, fail at once with Xero's own message and validation errors, the object
  and the tenant: the same request gets the same answer, and every repeat would spend a
  call of the tenant's daily budget.

Error texts pass through ``errors.redact``; the bearer token never appears in them.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import requests

from xero_pipeline import progress
from xero_pipeline.errors import (
    XeroApiError,
    XeroAuthError,
    XeroRequestError,
    XeroUnavailableError,
    problem_text,
    redact,
)
from xero_pipeline.xero.app_limit import AppLimit
from xero_pipeline.xero.auth import TokenManager
from xero_pipeline.xero.connections import Connected, split_connections
from xero_pipeline.xero.dates import ims_header
from xero_pipeline.xero.responses import CallStats, day_spent, int_header, refused, seconds_header, wait_out_429
from xero_pipeline.xero.tenant_days import TenantDays
from xero_pipeline.xero.throttle import TenantThrottle

log = logging.getLogger("xero_pipeline.xero.client")

# Statements about the request, not the server's state: a retry is answered the same.
_FINAL_5XX = frozenset({501, 505})
_TRANSIENT = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
              requests.exceptions.ContentDecodingError)


def _parse(content: bytes) -> Any:
    return json.loads(content, parse_float=Decimal)


class XeroClient:
    """Reads Xero's accounting API for any tenant the tokens can reach."""

    def __init__(
        self,
        *,
        api_url: str,
        tokens: TokenManager,
        timeout: tuple[float, float] = (10.0, 120.0),
        session: requests.Session | None = None,
        max_retries: int = 5,
        backoff_seconds: float = 1.0,
        max_backoff_seconds: float = 30.0,
        max_rate_waits: int = 30,
        throttle_factory: Callable[[], TenantThrottle] = TenantThrottle,
        sleep: Callable[[float], None] = time.sleep,
        reserve_daily_calls: int | None = None,
        app_limit: AppLimit | None = None,
        tenant_window: Callable[[str], None] | None = None,
        days: TenantDays | None = None,
    ) -> None:
        self._base = api_url.rstrip("/")
        self._tokens = tokens
        self._timeout = timeout
        self._session = session or requests.Session()
        self._max_retries = max_retries
        self._backoff = backoff_seconds
        self._max_backoff = max_backoff_seconds
        self._max_rate_waits = max_rate_waits
        self._throttle_factory = throttle_factory
        self._throttles: dict[str, TenantThrottle] = {}
        # The app's minute, shared by every process on the machine (see ``app_limit``).
        self._app = app_limit
        # Each tenant's minute across machines (``shared_limits``), on top of ``throttle``'s pacing.
        self._tenant_window = tenant_window
        self._sleep = sleep
        self._reserve = reserve_daily_calls  # the ``keep`` of every tenant call that names none
        self.days = days or TenantDays()
        self.stats = CallStats()

    # ------------------------------------------------------------------ low level

    def _throttle(self, tenant_id: str | None) -> TenantThrottle:
        key = tenant_id or ""
        if key not in self._throttles:
            throttle = self._throttles[key] = self._throttle_factory()
            throttle.on_wait = lambda seconds: progress.emit("wait", tenant=tenant_id, seconds=seconds,
                                                             limit="minute")
        return self._throttles[key]

    def park(self, tenant_id: str, until: datetime) -> None:
        """Make no call for the tenant until ``until`` (a day-limit 429 seen by another run)."""
        self.days.park(tenant_id, until)

    def day_left(self, tenant_id: str) -> int | None:
        """The tenant's calls left today as Xero last said (None: no recent answer)."""
        return self.days.left(tenant_id)

    def _retry(self, failures: int, problem: str, where: str, *, tenant_id: str | None,
               wait: float | None = None) -> None:
        """Sleep before attempt ``failures + 1``, or give up after ``max_retries``."""
        if failures > self._max_retries:
            raise XeroUnavailableError(
                f"{where} failed {failures} times in a row; last: {problem}. Xero or the network is having "
                "trouble; nothing of this read was written, and the next run tries again."
            )
        delay = min(self._backoff * 2 ** (failures - 1), self._max_backoff) * (0.5 + random.random() / 2)
        if wait is not None:
            delay = min(max(delay, wait), self._max_backoff)
        log.warning("%s: %s; retry %d of %d in %.1f s", where, problem, failures, self._max_retries, delay)
        self.stats.retries += 1
        progress.emit("wait", tenant=tenant_id, seconds=delay, limit="retry")
        self._sleep(delay)

    def get_json(
        self,
        url_path: str,
        *,
        tenant_id: str | None,
        params: dict[str, str] | None = None,
        modified_since: datetime | None = None,
        scope: str | None = None,
        what: str | None = None,
        keep: int | None = None,
        decode: Callable[[bytes], Any] | None = None,
    ) -> Any:
        """GET one resource, retrying what is worth retrying, and return the parsed body.

        ``keep``: the calls of the tenant's day this request must leave unspent (default:
        the client's ``reserve_daily_calls``; None: no floor). ``decode``: how a 200 body
        is parsed (default ``json.loads`` with ``Decimal``); a ``ValueError`` it raises is
        a malformed body, retried.
        """
        return self.request_json("GET", url_path, tenant_id=tenant_id, params=params, modified_since=modified_since,
                                 scope=scope, what=what, keep=keep, decode=decode)

    def request_json(
        self,
        method: str,
        url_path: str,
        *,
        tenant_id: str | None,
        params: dict[str, str] | None = None,
        modified_since: datetime | None = None,
        scope: str | None = None,
        what: str | None = None,
        keep: int | None = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        decode: Callable[[bytes], Any] | None = None,
    ) -> Any:
        """One request through the tenant's throttle, the app's limit and the day's budget.

        Every retry sends the same method, URL, ``body`` and ``headers``: for a write that
        is what lets Xero's Idempotency-Key recognise it (see ``xero.writes``).
        """
        keep = self._reserve if keep is None else keep
        url = self._base + url_path
        where = f"{method} {url_path}" + (f" ({what})" if what else "")
        where += f" for tenant {tenant_id}" if tenant_id else ""
        refreshed = False
        failures = 0
        rate_waits = 0
        throttle = self._throttle(tenant_id)
        while True:
            if tenant_id and (stop := self.days.refusal(tenant_id, keep=keep)):
                raise stop
            sent = {"Accept": "application/json", **(headers or {})}
            if body is not None:
                sent["Content-Type"] = "application/json"
            if tenant_id:
                sent["xero-tenant-id"] = tenant_id
            if modified_since is not None:
                sent["If-Modified-Since"] = ims_header(modified_since)
            try:
                with throttle.slot() as seen:
                    if self._tenant_window is not None and tenant_id:
                        self._tenant_window(tenant_id)
                    # The token is taken once the slot is ours: a wait for Xero's limit can
                    # outlast a short-lived access token taken before it.
                    token = self._tokens.access_token()
                    sent["Authorization"] = f"Bearer {token}"
                    if self._app is not None:
                        self._app.acquire()
                    progress.emit("calling", tenant=tenant_id, what=what)
                    self.stats.calls += 1
                    resp = self._session.request(method, url, params=params, headers=sent, data=body,
                                                 timeout=self._timeout)
                    seen.minute_remaining = int_header(resp.headers, "X-MinLimit-Remaining")
                    seen.refused = resp.status_code == 429
            except _TRANSIENT as exc:
                failures += 1
                self._retry(failures, f"{type(exc).__name__}: {redact(str(exc))[:200]}", where,
                            tenant_id=tenant_id)
                continue
            except requests.RequestException as exc:
                # Not the network: the request itself is unsendable (a token with a newline, a bad URL).
                raise XeroRequestError(
                    f"{where}: the request could not be sent: {type(exc).__name__}: {redact(str(exc))[:300]}"
                ) from None
            status = resp.status_code
            self.stats.by_status[status] = self.stats.by_status.get(status, 0) + 1
            progress.emit("call", tenant=tenant_id, what=what, status=status)
            day = int_header(resp.headers, "X-DayLimit-Remaining")
            if day is not None:
                self.stats.day_remaining = day
                if tenant_id:
                    self.days.saw(tenant_id, day)
            if seen.minute_remaining is not None:
                self.stats.minute_remaining = seen.minute_remaining
            if status == 200:
                try:
                    return (decode or _parse)(resp.content)
                except ValueError:
                    # Truncated or non-JSON 200s happen behind flaky proxies; the read is safe to repeat.
                    failures += 1
                    self._retry(failures, f"a malformed JSON body ({len(resp.content)} bytes)", where,
                                tenant_id=tenant_id)
                    continue
            if status == 401:
                message, _ = problem_text(resp)
                if "AuthorizationUnsuccessful" in message:  # a scope or tier: refreshing cannot help
                    raise refused(401, message, path=url_path, tenant_id=tenant_id, what=what, scope=scope)
                if not refreshed:
                    self._tokens.invalidate(token)
                    refreshed = True
                    continue
                raise XeroAuthError(
                    f"{where}: Xero refused a freshly refreshed access token ({message}); the app's "
                    "connection may have been revoked. Run `xero-pipeline auth` to authorise it again."
                )
            if status == 403:
                message, _ = problem_text(resp)
                raise refused(403, message, path=url_path, tenant_id=tenant_id, what=what, scope=scope)
            if status == 429:
                problem = (resp.headers.get("X-Rate-Limit-Problem") or "minute").lower()
                self.stats.rate_limited[problem] = self.stats.rate_limited.get(problem, 0) + 1
                if problem == "day":
                    spent = day_spent(resp.headers, tenant_id=tenant_id or "", days=self.days)
                    log.warning("%s: Xero's daily limit is used up; it resets in %.0f s", where, spent.retry_after)
                    raise spent
                rate_waits += 1
                if rate_waits > self._max_rate_waits:
                    raise XeroUnavailableError(
                        f"{where}: still rate limited ({problem}) after {rate_waits - 1} waits"
                    )
                wait, limit = wait_out_429(problem, resp.headers, throttle=throttle, app=self._app,
                                           sleep=self._sleep)
                log.info("%s: 429 %s limit, waiting %.1f s", where, problem, wait)
                progress.emit("wait", tenant=tenant_id, seconds=wait, limit=limit)
                self.stats.throttled_seconds += wait
                continue
            if status >= 500 and status not in _FINAL_5XX:
                message, _ = problem_text(resp)
                failures += 1
                wait = seconds_header(resp.headers, 0.0) if "Retry-After" in resp.headers else None
                self._retry(failures, f"HTTP {status}: {message[:200]}", where, tenant_id=tenant_id, wait=wait)
                continue
            message, details = problem_text(resp)
            raise XeroApiError(status=status, message=message, path=url_path, tenant_id=tenant_id,
                               details=details, what=what, method=method)

    # ------------------------------------------------------------------ high level

    def granted_scopes(self) -> frozenset[str] | None:
        """What the app may read, from its access token; None when the token does not say."""
        return self._tokens.granted_scopes()

    def connections(self) -> list[dict[str, Any]]:
        """The organisations these tokens may read (``GET /connections``)."""
        body = self.get_json("/connections", tenant_id=None, what="connected organisations")
        if not isinstance(body, list):
            raise XeroApiError(status=200, message="expected a list of connections", path="/connections",
                               tenant_id=None)
        return body

    def organisations(self) -> Connected:
        """``/connections`` split into the organisations to sync and the tenants skipped."""
        return split_connections(self.connections())
