"""Stay inside Xero's per-tenant limits instead of bouncing off them.

Xero allows each tenant (per app) 5 calls in flight and 60 in a rolling minute, plus a
daily budget. A 429 costs a round trip and a ``Retry-After`` wait, which against a
60-a-minute budget is a large share of it, so the client takes a slot here before each
call. Two rules decide when a call may start:

* our own calls: at most ``concurrent`` in flight and ``per_window`` in the window. A
  call is stamped when its response *arrives*: Xero counted it somewhere between send
  and arrival, so our window never frees a slot before Xero's does, and a single
  process runs at the limit without ever being refused;
* Xero's count: every response says how many calls are left (``X-MinLimit-Remaining``)
  in a window that also holds other processes' calls on the same tenant. From that
  answer on we start at most that many calls, plus one for each of our calls counted in
  it that has since left the window. If the budget is spent and none of our calls will
  free it, one call goes out as a probe: Xero either serves it or answers 429 with the
  exact ``Retry-After``, which ``back_off`` then applies to everyone here.

The daily budget is not paced here: the client stops the tenant at its first 429 "day"
(see ``client``). The window length is configurable only so that tests and benchmarks
can run against a time-scaled sandbox; against Xero it stays 60 seconds.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Observation:
    """What Xero's headers said about one call, attached inside its slot."""

    minute_remaining: int | None = None
    refused: bool = False  # a 429: Xero did not count the call


@dataclass
class TenantThrottle:
    per_window: int = 60
    concurrent: int = 5
    window_seconds: float = 60.0
    waited_seconds: float = 0.0
    _done: deque[float] = field(default_factory=deque)  # arrival times of our calls still in the window
    _in_flight: int = 0
    _blocked_until: float = 0.0
    _remaining: int | None = None  # Xero's X-MinLimit-Remaining at the last observation
    _counted_upto: float = 0.0  # our calls that arrived by then are in ``_remaining``'s count
    _spent: int = 0  # calls started since, or in flight then (maybe not yet counted by Xero)
    _credit: int = 0  # counted calls of ours that have left the window since
    _cond: threading.Condition = field(default_factory=threading.Condition)
    # Told the length of each pacing wait as it starts (the CLI shows it as live progress).
    on_wait: Callable[[float], None] | None = None

    def _trim(self, now: float) -> None:
        while self._done and self._done[0] + self.window_seconds <= now:
            stamp = self._done.popleft()
            if self._remaining is not None and stamp <= self._counted_upto:
                self._credit += 1

    def _budget(self) -> int | None:
        if self._remaining is None:
            return None
        return self._remaining - self._spent + self._credit

    def _wait_time(self, now: float) -> float | None:
        """Seconds until a call may start; 0 means now, None means until a call finishes."""
        self._trim(now)
        if self._in_flight >= self.concurrent:
            return None
        waits = [self._blocked_until - now, 0.0]
        if len(self._done) + self._in_flight >= self.per_window:
            if not self._done:
                return None
            waits.append(self._done[0] + self.window_seconds - now)
        budget = self._budget()
        if budget is not None and budget <= 0:
            if self._done and self._done[0] <= self._counted_upto:
                waits.append(self._done[0] + self.window_seconds - now)
            elif self._in_flight:
                return None  # its answer brings a fresh count
            # else: nothing of ours will free Xero's window; probe (see the module docstring)
        return max(waits)

    @contextmanager
    def slot(self) -> Iterator[Observation]:
        """Hold one of the tenant's call slots for the length of one HTTP call."""
        seen = Observation()
        with self._cond:
            while True:
                now = time.monotonic()
                wait = self._wait_time(now)
                if wait is not None and wait <= 0:
                    break
                if wait is not None and self.on_wait is not None:
                    self.on_wait(wait)
                self._cond.wait(timeout=wait if wait is not None else self.window_seconds)
                self.waited_seconds += time.monotonic() - now
            self._in_flight += 1
            self._spent += 1
        try:
            yield seen
        finally:
            with self._cond:
                arrived = time.monotonic()
                self._in_flight -= 1
                if not seen.refused:
                    self._done.append(arrived)
                if seen.minute_remaining is not None:
                    self._observe(seen.minute_remaining, arrived)
                self._cond.notify_all()

    def _observe(self, remaining: int, at: float) -> None:
        self._trim(at)
        self._remaining = remaining
        self._counted_upto = at
        # Calls still in flight may reach Xero after this one was counted: charge them.
        self._spent = self._in_flight
        self._credit = 0

    def back_off(self, seconds: float) -> None:
        """A 429 said to wait: nobody in this process calls the tenant until then."""
        with self._cond:
            self._blocked_until = max(self._blocked_until, time.monotonic() + seconds)
            # Retry-After is Xero's word that its window has room by then; the count of 0
            # that came with the 429 is stale from that moment.
            self._remaining = None
            self._cond.notify_all()

