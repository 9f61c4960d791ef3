"""Injected faults and request statistics.

A fault targets an optional tenant and an optional endpoint (``"Invoices"``,
``"Reports"`` or ``"Reports/TrialBalance"``, ``"connect/token"``; case-insensitive) and
fires ``count`` times. ``after_page=N`` holds it back until N successful responses of
that endpoint (for that tenant) have been served since it was injected: "page 3 fails"
is ``after_page=2``; for the mutation kinds it is "after page N, change the books".

Kinds (see ``FAULT_KINDS``):

* ``503``: plain-text "The Xero API is temporarily unavailable", as Xero's outage page.
* ``500``: an unhandled-error ``ApiException`` body.
* ``501``: Not Implemented, an ``ApiException`` body (Xero answers so to a method it does
  not have, e.g. POST Organisation); the same request always gets it again.
* ``502`` / ``504``: a gateway's plain-text Bad Gateway / Gateway Timeout.
* ``truncated``: 200 whose JSON stops mid-body (Content-Length matches what is sent).
* ``reset``: the connection is reset with no response at all.
* ``slow``: the response is delayed ``seconds`` (Xero seconds, divided by the time scale).
* ``429_minute`` / ``429_day``: a rate-limit response with Xero's headers.
* ``expire_tokens``: immediate; every current access token expires now.
* ``mutate``: after the page, ``activity.edit_records`` changes ``count`` records of the path.
  With ``seconds``, the edits' UpdatedDateUTC is that many seconds before they become
  visible: a save that took that long to commit (see ``edits``).
* ``insert``: after the page, one simulated day of activity without moving the clock.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from dataclasses import asdict, dataclass

STATUS_KINDS = ("500", "501", "502", "503", "504")
FAULT_KINDS = (*STATUS_KINDS, "truncated", "reset", "slow", "429_minute", "429_day", "expire_tokens",
               "mutate", "insert")
REQUEST_KINDS = frozenset({*STATUS_KINDS, "truncated", "reset", "slow", "429_minute", "429_day"})
AFTER_KINDS = frozenset({"mutate", "insert"})

_ids = itertools.count(1)


@dataclass
class Fault:
    kind: str
    tenant_id: str | None = None
    path: str | None = None
    count: int = 1
    after_page: int | None = None
    seconds: float | None = None
    served: int = 0  # matching successful responses since injection
    id: int = 0

    def matches(self, tenant_id: str | None, endpoint: str) -> bool:
        if self.tenant_id is not None and (tenant_id or "").lower() != self.tenant_id.lower():
            return False
        if self.path is None:
            return True
        p, e = self.path.strip("/").lower(), endpoint.lower()
        return e == p or e.startswith(p + "/")


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, kind: str, *, tenant_id: str | None = None, path: str | None = None, count: int = 1,
            after_page: int | None = None, seconds: float | None = None) -> Fault:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(FAULT_KINDS)}")
        if kind == "mutate" and not path:
            raise ValueError("a 'mutate' fault needs the path whose records change")
        if kind == "slow" and seconds is None:
            raise ValueError("a 'slow' fault needs seconds")
        if count < 1:
            raise ValueError("count must be at least 1")
        fault = Fault(kind, tenant_id, path, count, after_page, seconds, id=next(_ids))
        with self._lock:
            self._faults.append(fault)
        return fault

    def before(self, tenant_id: str | None, endpoint: str, *,
               kinds: frozenset[str] = REQUEST_KINDS - {"429_minute", "429_day"}) -> Fault | None:
        """The request fault of one of ``kinds`` due for this request (consumes one count)."""
        with self._lock:
            for f in self._faults:
                if f.kind in kinds and f.matches(tenant_id, endpoint) and f.served >= (f.after_page or 0):
                    f.count -= 1
                    if f.count <= 0:
                        self._faults.remove(f)
                    return Fault(**{**asdict(f), "count": 1})
        return None

    def after_success(self, tenant_id: str | None, endpoint: str) -> list[Fault]:
        """Count a served page; return the mutation faults that are now due (removed)."""
        due = []
        with self._lock:
            for f in list(self._faults):
                if not f.matches(tenant_id, endpoint):
                    continue
                f.served += 1
                if f.kind in AFTER_KINDS and f.served >= (f.after_page or 1):
                    self._faults.remove(f)
                    due.append(f)
        return due

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[dict]:
        with self._lock:
            return [asdict(f) for f in self._faults]


class Stats:
    """What the sandbox served, for tests and the benchmark to assert on.

    ``calls[tenant][endpoint]`` counts every answered request (``"-"`` when no tenant
    was resolved, e.g. a 401 or the token endpoint); ``responses`` splits those counts
    by status code (``"reset"`` for a dropped connection).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._calls: dict[str, dict[str, Counter]] = {}  # tenant -> endpoint -> status -> n
            self._status: Counter = Counter()
            self._limited: Counter = Counter()
            self._events: Counter = Counter()
            self._faults: Counter = Counter()

    def record(self, endpoint: str, tenant_id: str | None, status: int | str, *,
               problem: str | None = None) -> None:
        with self._lock:
            per_endpoint = self._calls.setdefault(tenant_id or "-", {})
            per_endpoint.setdefault(endpoint, Counter())[str(status)] += 1
            self._status[str(status)] += 1
            if problem:
                self._limited[problem] += 1

    def event(self, name: str) -> None:
        with self._lock:
            self._events[name] += 1

    def fault(self, kind: str) -> None:
        with self._lock:
            self._faults[kind] += 1

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "calls": {t: {e: sum(c.values()) for e, c in per.items()} for t, per in self._calls.items()},
                "responses": {t: {e: dict(c) for e, c in per.items()} for t, per in self._calls.items()},
                "calls_total": sum(self._status.values()),
                "status": dict(self._status),
                "rate_limited": dict(self._limited),
                "token_refreshes": self._events["token:refresh_token"],
                "events": dict(self._events),
                "faults_fired": dict(self._faults),
            }
