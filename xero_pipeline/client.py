"""The Xero HTTP client: one place that knows headers, retries, errors and paging.

Every call sends ``Authorization``, ``xero-tenant-id`` and ``Accept: application/json``
(without it Xero answers in XML). Bodies are parsed with ``Decimal`` for every number so
money never passes through a float.

What is retried and what is not:

* 401 once per call after forcing a token refresh (the token expired early or was
  revoked and re-issued); a second 401, or one whose detail is
  ``AuthorizationUnsuccessful``, means a missing scope and fails the object;
* 429 ``minute``/``concurrent``/``appminute``: wait ``Retry-After`` and retry;
  429 ``day``: stop this tenant with ``XeroDailyLimitError`` (hours of sleeping helps
  nobody; the next run resumes from the cursor);
* 5xx, connection errors, timeouts and truncated or malformed JSON: bounded exponential
  backoff with jitter;
* any other 4xx is reported with Xero's own message and validation errors.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import requests

from xero_pipeline.auth import TokenManager
from xero_pipeline.errors import (
    XeroApiError,
    XeroDailyLimitError,
    XeroScopeError,
    XeroUnavailableError,
)
from xero_pipeline.paging import Pager
from xero_pipeline.registry import XeroObject
from xero_pipeline.throttle import TenantThrottle
from xero_pipeline.xerotime import ims_header, parse_instant

log = logging.getLogger("xero_pipeline.client")


@dataclass
class Page:
    records: list[dict[str, Any]]
    pagination: dict[str, Any] | None
    server_time: datetime | None  # the envelope's DateTimeUTC: Xero's clock at this response
    number: int


@dataclass
class CallStats:
    calls: int = 0
    retries: int = 0
    throttled_seconds: float = 0.0
    day_remaining: int | None = None
    minute_remaining: int | None = None
    by_status: dict[int, int] = field(default_factory=dict)


def _int_header(headers: Any, name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _problem_text(resp: requests.Response) -> tuple[str, list[str]]:
    """Xero's own words from an error body, whichever of its shapes it used."""
    try:
        body = resp.json()
    except ValueError:
        text = resp.text.strip()
        return (text[:300] or resp.reason or "no message"), []
    if not isinstance(body, dict):
        return str(body)[:300], []
    details = [
        err.get("Message", "")
        for element in body.get("Elements") or []
        for err in element.get("ValidationErrors") or []
    ]
    message = body.get("Message") or body.get("Detail") or body.get("Title") or body.get("error") or resp.reason
    return str(message), [d for d in details if d]


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
        throttle_factory: Callable[[], TenantThrottle] = TenantThrottle,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._base = api_url.rstrip("/")
        self._tokens = tokens
        self._timeout = timeout
        self._session = session or requests.Session()
        self._max_retries = max_retries
        self._backoff = backoff_seconds
        self._throttles: dict[str, TenantThrottle] = {}
        self._throttle_factory = throttle_factory
        self._sleep = sleep
        self.stats = CallStats()

    # ------------------------------------------------------------------ low level

    def _throttle(self, tenant_id: str | None) -> TenantThrottle:
        key = tenant_id or ""
        if key not in self._throttles:
            self._throttles[key] = self._throttle_factory()
        return self._throttles[key]

    def _pause(self, attempt: int) -> None:
        delay = min(self._backoff * 2**attempt, 30.0) * (0.5 + random.random() / 2)
        self.stats.retries += 1
        self._sleep(delay)

    def get_json(
        self,
        url_path: str,
        *,
        tenant_id: str | None,
        params: dict[str, str] | None = None,
        modified_since: datetime | None = None,
        scope: str | None = None,
    ) -> Any:
        """GET one resource, retrying what is worth retrying, and return the parsed body."""
        url = self._base + url_path
        refreshed = False
        attempt = 0
        throttle = self._throttle(tenant_id)
        while True:
            token = self._tokens.access_token()
            headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
            if tenant_id:
                headers["xero-tenant-id"] = tenant_id
            if modified_since is not None:
                headers["If-Modified-Since"] = ims_header(modified_since)
            try:
                with throttle.slot():
                    self.stats.calls += 1
                    resp = self._session.get(url, params=params, headers=headers, timeout=self._timeout)
            except requests.RequestException as exc:
                if attempt >= self._max_retries:
                    raise XeroUnavailableError(
                        f"GET {url_path} for tenant {tenant_id} failed {attempt + 1} times; last: {type(exc).__name__}"
                    ) from None
                log.warning("GET %s: %s, retrying", url_path, type(exc).__name__)
                self._pause(attempt)
                attempt += 1
                continue
            status = resp.status_code
            self.stats.by_status[status] = self.stats.by_status.get(status, 0) + 1
            day = _int_header(resp.headers, "X-DayLimit-Remaining")
            minute = _int_header(resp.headers, "X-MinLimit-Remaining")
            if day is not None:
                self.stats.day_remaining = day
            if minute is not None:
                self.stats.minute_remaining = minute
            throttle.observe(minute)
            if status == 200:
                try:
                    return json.loads(resp.content, parse_float=Decimal)
                except ValueError:
                    # Truncated or non-JSON 200s happen behind flaky proxies; the read is safe to repeat.
                    if attempt >= self._max_retries:
                        raise XeroUnavailableError(f"GET {url_path}: Xero kept sending a malformed body") from None
                    log.warning("GET %s: malformed JSON body, retrying", url_path)
                    self._pause(attempt)
                    attempt += 1
                    continue
            if status == 401:
                message, _ = _problem_text(resp)
                if not refreshed and "AuthorizationUnsuccessful" not in message:
                    self._tokens.invalidate(token)
                    refreshed = True
                    continue
                raise XeroScopeError(
                    status=401, path=url_path, tenant_id=tenant_id,
                    message=f"{message}. The app is not authorised for this endpoint"
                    + (f": it needs the scope {scope}" if scope else "")
                    + "; add the scope to the app and run `xero-pipeline auth` again.",
                )
            if status == 403:
                message, _ = _problem_text(resp)
                raise XeroScopeError(
                    status=403, path=url_path, tenant_id=tenant_id,
                    message=f"{message}. The organisation is not connected to this app, or the app's plan or "
                    "scopes do not include this endpoint" + (f" (scope {scope})" if scope else "") + ".",
                )
            if status == 429:
                problem = (resp.headers.get("X-Rate-Limit-Problem") or "minute").lower()
                retry_after = float(resp.headers.get("Retry-After") or 60)
                if problem == "day":
                    raise XeroDailyLimitError(
                        tenant_id=tenant_id or "", retry_after=retry_after,
                        resets_at=datetime.now(UTC) + timedelta(seconds=retry_after),
                    )
                if attempt >= self._max_retries * 4:
                    raise XeroUnavailableError(f"GET {url_path}: still rate limited ({problem}) after {attempt} waits")
                log.info("GET %s: 429 %s limit, waiting %.1fs", url_path, problem, retry_after)
                throttle.back_off(retry_after)
                self.stats.throttled_seconds += retry_after
                attempt += 1
                continue
            if status >= 500:
                if attempt >= self._max_retries:
                    message, _ = _problem_text(resp)
                    raise XeroUnavailableError(
                        f"GET {url_path} for tenant {tenant_id}: Xero returned {status} {attempt + 1} times: {message}"
                    )
                log.warning("GET %s: %s, retrying", url_path, status)
                self._pause(attempt)
                attempt += 1
                continue
            message, details = _problem_text(resp)
            raise XeroApiError(status=status, message=message, path=url_path, tenant_id=tenant_id, details=details)

    # ------------------------------------------------------------------ high level

    def connections(self) -> list[dict[str, Any]]:
        """The organisations these tokens may read (``GET /connections``)."""
        body = self.get_json("/connections", tenant_id=None)
        if not isinstance(body, list):
            raise XeroApiError(status=200, message="expected a list of connections", path="/connections", tenant_id=None)
        return body

    def pages(
        self,
        obj: XeroObject,
        *,
        tenant_id: str,
        since: datetime | None = None,
        after_journal: int = 0,
        page_size: int = 1000,
    ) -> Iterator[Page]:
        """Every page of one collection, in order, as Xero returns them."""
        pager = Pager(obj, page_size=page_size, after_journal=after_journal)
        while not pager.done:
            body = self.get_json(
                f"/api.xro/2.0/{obj.path}", tenant_id=tenant_id, params=pager.params(),
                modified_since=since if obj.ims else None, scope=obj.scope,
            )
            records = body.get(obj.envelope)
            if not isinstance(records, list):
                raise XeroApiError(
                    status=200, path=f"/api.xro/2.0/{obj.path}", tenant_id=tenant_id,
                    message=f"the response has no {obj.envelope!r} array (keys: {sorted(body)[:8]})",
                )
            pagination = body.get("pagination")
            server_time = body.get("DateTimeUTC")
            page = Page(records, pagination, parse_instant(server_time) if server_time else None, pager.page)
            pager.advance(records, pagination)
            yield page
