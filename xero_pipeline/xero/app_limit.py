"""Xero's app-wide limit: 10,000 calls a minute across all the app's organisations.

Each tenant is paced by its own ``TenantThrottle`` (60 a minute, 5 at once), so one
process syncing one tenant can never reach the app's limit. Hundreds of tenants synced
at once by many runs can: every process must count against one window. The window is
kept in a SQLite file beside the token store (every process on the machine already
shares that folder), through ``pyrate_limiter``'s SQLite bucket under a file lock: a
well-kept sliding-window limiter whose shared state survives any process being killed
(a killed process's calls simply age out of the window), where a home-made one would
have to get cross-process locking and crash recovery right on its own.

An ``appminute`` 429 (Xero's name for this limit is undocumented; ``appminute`` is the
sandbox's, fact sheet §2) stops every process's calls until its ``Retry-After`` has
passed: the deadline is written to a small file next to the window, so the tenant whose
call happened to be refused is not the only one that waits.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from pyrate_limiter import Duration, Limiter, Rate, SQLiteBucket

from xero_pipeline.xero.limits import APP_MINUTE_CALLS

APP_BUCKET = "xero-app"
APP_LIMIT_FILE = "xero_app_limit.sqlite"
# A call is counted here when it is sent and by Xero when it arrives, so a call slower than
# the one a window later would let Xero see one call too many: the window is longer by 5%,
# and by at least a second of latency (what matters in a time-scaled window of a second).
WINDOW_MARGIN = 1.05
MIN_MARGIN_SECONDS = 1.0


def app_limit_path(token_store: str | Path) -> Path:
    """The app's shared window: beside the token store, which every process of the app uses."""
    return Path(token_store).parent / APP_LIMIT_FILE


class AppLimit:
    """One slot of the app's minute window per call, shared through ``path``."""

    def __init__(self, path: str | Path, *, per_window: int = APP_MINUTE_CALLS, window_seconds: float = 60.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.path: Path | None = Path(path)
        self._blocked = Path(f"{path}.blocked-until")
        self._start(per_window, window_seconds, sleep, lambda rate: _sqlite_window(Path(path), rate))

    def _start(self, per_window: int, window_seconds: float, sleep: Callable[[float], None],
               window: Callable[[Rate], Limiter]) -> None:
        """Settings every store of the window shares, checked before ``window`` makes its limiter."""
        if per_window < 1:
            raise ValueError(f"the app's calls per window must be at least 1, not {per_window}")
        self.per_window = per_window
        self.window_seconds = window_seconds
        self.waited_seconds = 0.0
        self._sleep = sleep
        self._limiter = window(padded_rate(per_window, window_seconds))

    def acquire(self) -> None:
        """Wait until the app may make one more call, and count it."""
        started = time.monotonic()
        while (left := self._blocked_for()) > 0:
            self._sleep(min(left, self.window_seconds))
        self._limiter.try_acquire(APP_BUCKET, blocking=True)
        self.waited_seconds += time.monotonic() - started

    def back_off(self, seconds: float) -> None:
        """Xero refused a call for the app's limit: no process calls before ``seconds`` pass."""
        until = time.time() + seconds
        if until > self._blocked_until():
            tmp = self._blocked.with_name(f"{self._blocked.name}.{os.getpid()}.{threading.get_ident()}")
            tmp.write_text(f"{until:.3f}")
            tmp.replace(self._blocked)  # atomic: a reader sees the old deadline or the new one

    def _blocked_for(self) -> float:
        """Seconds left of the app's last refusal (0 or less: none)."""
        return self._blocked_until() - time.time()

    def _blocked_until(self) -> float:
        try:
            return float(self._blocked.read_text() or 0)
        except (OSError, ValueError):
            return 0.0


def _sqlite_window(path: Path, rate: Rate) -> Limiter:
    path.parent.mkdir(parents=True, exist_ok=True)
    return Limiter(SQLiteBucket.init_from_file([rate], db_path=str(path), use_file_lock=True))


def padded_rate(per_window: int, window_seconds: float) -> Rate:
    """``per_window`` calls in a window padded by WINDOW_MARGIN (see there)."""
    padded = max(window_seconds * WINDOW_MARGIN, window_seconds + MIN_MARGIN_SECONDS)
    return Rate(per_window, round(padded * Duration.SECOND))
