"""Stay inside Xero's per-tenant limits instead of bouncing off them.

Xero allows each tenant 5 calls in flight and 60 in a rolling minute (plus a daily
budget and an app-wide 10,000 a minute). Hitting a 429 costs a round trip and a
``Retry-After`` wait, so the client asks this throttle for a slot before each call: it
blocks while 5 calls are in flight or 60 were started in the last window, and it trusts
Xero's own ``X-MinLimit-Remaining`` when that says fewer calls are left than we think
(another process may be using the same tenant).

The window length is configurable only so that tests and benchmarks can run against a
time-scaled sandbox; against Xero it stays 60 seconds.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class TenantThrottle:
    per_window: int = 60
    concurrent: int = 5
    window_seconds: float = 60.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _starts: deque[float] = field(default_factory=deque)
    _in_flight: int = 0
    _blocked_until: float = 0.0
    _cond: threading.Condition = field(default_factory=threading.Condition)
    waited_seconds: float = 0.0

    def _wait_time(self, now: float) -> float:
        while self._starts and now - self._starts[0] >= self.window_seconds:
            self._starts.popleft()
        waits = [self._blocked_until - now]
        if len(self._starts) >= self.per_window:
            waits.append(self._starts[0] + self.window_seconds - now)
        return max(waits)

    @contextmanager
    def slot(self) -> Iterator[None]:
        with self._cond:
            while True:
                now = self.clock()
                if self._in_flight >= self.concurrent:
                    self._cond.wait(timeout=self.window_seconds)
                    continue
                wait = self._wait_time(now)
                if wait <= 0:
                    break
                self._cond.release()
                try:
                    self.sleep(wait)
                    self.waited_seconds += wait
                finally:
                    self._cond.acquire()
            self._in_flight += 1
            self._starts.append(self.clock())
        try:
            yield
        finally:
            with self._cond:
                self._in_flight -= 1
                self._cond.notify()

    def observe(self, minute_remaining: int | None) -> None:
        """Xero's count of calls left in its minute window, from the response headers."""
        if minute_remaining is None:
            return
        with self._cond:
            if minute_remaining <= 0:
                # Xero's window may have started before ours; wait for a full window.
                self._blocked_until = max(self._blocked_until, self.clock() + self.window_seconds / 4)

    def back_off(self, seconds: float) -> None:
        """A 429 told us to wait: nobody in this process calls the tenant until then."""
        with self._cond:
            self._blocked_until = max(self._blocked_until, self.clock() + seconds)
