"""Xero's limits shared by every machine of the app, through PostgreSQL (XERO_POSTGRES_URL).

On one machine the app's minute is a SQLite file beside the token store (``app_limit``),
each tenant's minute is paced in its process (``throttle``) and a tenant parked for the
day is known to its process (``tenant_days``). Runs on several machines share no file,
so with PostgreSQL configured:

* the app's minute is pyrate-limiter's PostgresBucket, and an ``appminute`` Retry-After
  is a row of ``xero_pipeline.blocked_until`` every machine waits out;
* each tenant's minute is a PostgresBucket of its own, taken by every call on top of
  the process's own pacing (which still keeps a process to 5 calls at once): two runs on
  two machines that read one tenant (a sync and a report run) share its 60 calls;
* a tenant whose day Xero refused is parked in ``blocked_until`` too, so no machine
  spends a request on it until Xero's ``Retry-After``.

Every wait is measured on the server's clock, the one clock the machines share.
"""

from __future__ import annotations

import re
import threading
import time
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from pyrate_limiter import Limiter, PostgresBucket, Rate

from xero_pipeline.errors import XeroDailyLimitError
from xero_pipeline.xero import pg
from xero_pipeline.xero.app_limit import APP_BUCKET, AppLimit, padded_rate
from xero_pipeline.xero.limits import APP_MINUTE_CALLS, MINUTE_CALLS
from xero_pipeline.xero.tenant_days import TenantDays

APP_ROW = "app"

_BLOCK = (f"INSERT INTO {pg.SCHEMA}.blocked_until AS b (name, until) "
          "VALUES (%s, now() + %s * interval '1 second') "
          "ON CONFLICT (name) DO UPDATE SET until = greatest(b.until, EXCLUDED.until), updated_at = now()")
_LEFT = (f"SELECT extract(epoch FROM until - now())::float8 FROM {pg.SCHEMA}.blocked_until "
         "WHERE name = %s AND until > now()")


def _block(url: str, name: str, seconds: float) -> None:
    with pg.connection(url) as conn:
        conn.execute(_BLOCK, (name, seconds))


def _blocked_for(url: str, name: str) -> float:
    with pg.connection(url) as conn:
        row = conn.execute(_LEFT, (name,)).fetchone()
    return float(row[0]) if row else 0.0


def _bucket(url: str, table: str, rate: Rate) -> Limiter:
    return Limiter(PostgresBucket(pg.pool(url, role="limits"), table, [rate]))


class SharedAppLimit(AppLimit):
    """``AppLimit`` with its window and its refusal in PostgreSQL, for every machine."""

    def __init__(self, url: str, *, per_window: int = APP_MINUTE_CALLS, window_seconds: float = 60.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.url = url
        self.path = None  # nothing local
        self._start(per_window, window_seconds, sleep, lambda rate: _bucket(url, "xero_app", rate))

    def back_off(self, seconds: float) -> None:
        _block(self.url, APP_ROW, seconds)

    def _blocked_for(self) -> float:
        return _blocked_for(self.url, APP_ROW)


def _tenant_table(tenant_id: str) -> str:
    # PostgreSQL names stop at 63 bytes; pyrate prefixes ours with 15 characters.
    readable = re.sub(r"[^0-9a-z]", "", tenant_id.lower())[:32]
    return f"xero_tenant_{readable}_{zlib.crc32(tenant_id.encode()):08x}"


class SharedTenantWindows:
    """Each tenant's rolling minute, one PostgresBucket per tenant, shared by every machine."""

    def __init__(self, url: str, *, per_window: int = MINUTE_CALLS, window_seconds: float = 60.0) -> None:
        self.url = url
        # Stamped when sent, counted by Xero when it arrives: padded as the app's window is.
        self._rate = padded_rate(per_window, window_seconds)
        self._limiters: dict[str, Limiter] = {}
        self._lock = threading.Lock()

    def acquire(self, tenant_id: str) -> None:
        """Wait until the tenant may take one more call in its minute, and count it."""
        with self._lock:
            limiter = self._limiters.get(tenant_id)
            if limiter is None:
                limiter = self._limiters[tenant_id] = _bucket(self.url, _tenant_table(tenant_id), self._rate)
        limiter.try_acquire(APP_BUCKET, blocking=True)


class SharedTenantDays(TenantDays):
    """``TenantDays`` whose parked tenants are parked on every machine."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url

    def park(self, tenant_id: str, until: datetime) -> None:
        super().park(tenant_id, until)
        seconds = (until - datetime.now(UTC)).total_seconds()
        if seconds > 0:
            _block(self.url, f"day:{tenant_id}", seconds)

    def parked(self, tenant_id: str) -> XeroDailyLimitError | None:
        if (local := super().parked(tenant_id)) is not None:
            return local
        wait = _blocked_for(self.url, f"day:{tenant_id}")
        if wait <= 0:
            return None
        super().park(tenant_id, datetime.now(UTC) + timedelta(seconds=wait))
        return super().parked(tenant_id)
