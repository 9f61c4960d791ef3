"""Xero's rate limits: 5 concurrent, 60/minute and 5,000/day per tenant, 10,000/minute per app.

Windows are rolling (Xero's older docs say so). Newer pages hint the day is a fixed
window that resets at a different time per tenant, which is unverified:
``day_window="fixed"`` opens a (app, tenant)'s day at its first call and resets it 24 h
(scaled) later. Only accepted calls are counted: a 429 does not use up
quota (Xero's own day-limit responses still show ``X-MinLimit-Remaining: 60``).

All windows run on ``ScaledTime``: real monotonic seconds multiplied by ``time_scale``,
so ``time_scale=60`` turns Xero's minute into one real second and ``Retry-After`` (real
seconds, rounded up) shrinks with it.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field

MINUTE_LIMIT = 60
APP_MINUTE_LIMIT = 10_000
CONCURRENT_LIMIT = 5
DAY_LIMIT = 5_000
_MINUTE = 60.0
_DAY = 86_400.0


class ScaledTime:
    """Xero seconds: real monotonic time sped up by ``time_scale``."""

    def __init__(self, time_scale: float = 1.0) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.scale = float(time_scale)

    def now(self) -> float:
        return time.monotonic() * self.scale

    def real(self, xero_seconds: float) -> float:
        """How long ``xero_seconds`` last in real seconds."""
        return xero_seconds / self.scale

    def retry_after(self, xero_seconds: float) -> int:
        """Retry-After is whole seconds; never 0 so a client always backs off a little."""
        return max(1, math.ceil(self.real(xero_seconds) - 1e-9))


@dataclass
class _Window:
    stamps: deque[float] = field(default_factory=deque)
    opened: float | None = None  # a fixed window's start

    def trim(self, now: float, span: float) -> None:
        cutoff = now - span
        while self.stamps and self.stamps[0] <= cutoff:
            self.stamps.popleft()


@dataclass
class Decision:
    """The outcome of asking to make one call; ``problem`` set means 429."""

    headers: dict[str, str]
    problem: str | None = None
    retry_after: int | None = None
    key: tuple[str, str] | None = None  # release() this when the call finishes


class RateLimiter:
    def __init__(self, *, time: ScaledTime, enabled: bool = True, day_limit: int = DAY_LIMIT,
                 minute_limit: int = MINUTE_LIMIT, app_minute_limit: int = APP_MINUTE_LIMIT,
                 concurrent_limit: int = CONCURRENT_LIMIT, day_window: str = "rolling") -> None:
        if day_window not in ("rolling", "fixed"):
            raise ValueError(f"day_window must be 'rolling' or 'fixed', not {day_window!r}")
        self.day_window = day_window
        self.time = time
        self.enabled = enabled
        self.day_limit = day_limit
        self.minute_limit = minute_limit
        self.app_minute_limit = app_minute_limit
        self.concurrent_limit = concurrent_limit
        self._lock = threading.Lock()
        self._minute: dict[tuple[str, str], _Window] = {}
        self._day: dict[tuple[str, str], _Window] = {}
        self._app: dict[str, _Window] = {}
        self._in_flight: dict[tuple[str, str], int] = {}
        self.max_in_flight: dict[str, int] = {}  # per tenant, for the stats
        self.max_in_flight_total = 0
        self._total_in_flight = 0

    def _headers(self, minute: int, day: int, app: int) -> dict[str, str]:
        return {"X-DayLimit-Remaining": str(max(0, day)), "X-MinLimit-Remaining": str(max(0, minute)),
                "X-AppMinLimit-Remaining": str(max(0, app))}

    def acquire(self, app_id: str, tenant_id: str) -> Decision:
        """Admit or reject one call for (app, tenant); admitted calls must be released."""
        key = (app_id, tenant_id)
        with self._lock:
            if not self.enabled:
                self._enter(key)
                full = self._headers(self.minute_limit, self.day_limit, self.app_minute_limit)
                return Decision(full, key=key)
            now = self.time.now()
            minute = self._minute.setdefault(key, _Window())
            day = self._day.setdefault(key, _Window())
            app = self._app.setdefault(app_id, _Window())
            minute.trim(now, _MINUTE)
            app.trim(now, _MINUTE)
            if self.day_window == "fixed":
                if day.opened is None or now - day.opened >= _DAY:
                    day.opened = now
                    day.stamps.clear()
                day_ends = day.opened + _DAY
            else:
                day.trim(now, _DAY)
                day_ends = (day.stamps[0] if day.stamps else now) + _DAY
            left_min = self.minute_limit - len(minute.stamps)
            left_day = self.day_limit - len(day.stamps)
            left_app = self.app_minute_limit - len(app.stamps)
            headers = self._headers(left_min, left_day, left_app)
            # The day limit is reported first: it is the one a client must stop for.
            if left_day <= 0:
                return Decision(headers, "day", self.time.retry_after(day_ends - now))
            if left_app <= 0:
                return Decision(headers, "appminute", self.time.retry_after(app.stamps[0] + _MINUTE - now))
            if left_min <= 0:
                return Decision(headers, "minute", self.time.retry_after(minute.stamps[0] + _MINUTE - now))
            if self._in_flight.get(key, 0) >= self.concurrent_limit:
                # Xero may send no Retry-After here; one second is a polite hint.
                return Decision(headers, "concurrent", 1)
            minute.stamps.append(now)
            day.stamps.append(now)
            app.stamps.append(now)
            self._enter(key)
            return Decision(self._headers(left_min - 1, left_day - 1, left_app - 1), key=key)

    def _enter(self, key: tuple[str, str]) -> None:
        n = self._in_flight.get(key, 0) + 1
        self._in_flight[key] = n
        tenant = key[1]
        if n > self.max_in_flight.get(tenant, 0):
            self.max_in_flight[tenant] = n
        self._total_in_flight += 1
        self.max_in_flight_total = max(self.max_in_flight_total, self._total_in_flight)

    def release(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._in_flight[key] = self._in_flight.get(key, 1) - 1
            self._total_in_flight -= 1

    def forced(self, problem: str, *, xero_seconds: float | None = None) -> Decision:
        """A 429 a fault injects: the named limit reads as exhausted."""
        span = xero_seconds if xero_seconds is not None else (_DAY if problem == "day" else _MINUTE)
        minute = 0 if problem == "minute" else self.minute_limit
        day = 0 if problem == "day" else self.day_limit
        app = 0 if problem == "appminute" else self.app_minute_limit
        return Decision(self._headers(minute, day, app), problem, self.time.retry_after(span))

    def reset_stats(self) -> None:
        with self._lock:
            self.max_in_flight.clear()
            self.max_in_flight_total = self._total_in_flight
