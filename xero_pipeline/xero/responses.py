"""What one Xero answer tells the client: a page of records, Xero's clock, its limit headers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from xero_pipeline.errors import XeroDailyLimitError, XeroScopeError

if TYPE_CHECKING:
    from xero_pipeline.xero.app_limit import AppLimit
    from xero_pipeline.xero.decoding import RawRecords
    from xero_pipeline.xero.tenant_days import TenantDays
    from xero_pipeline.xero.throttle import TenantThrottle


@dataclass
class Page:
    """One response's records: parsed (``records``), or each as the JSON text Xero sent
    (``raw``, with ``records`` empty) when the reader asked for raw pages."""

    records: list[dict[str, Any]]
    pagination: dict[str, Any] | None
    server_time: datetime | None  # the envelope's DateTimeUTC: Xero's clock at this response
    number: int
    last_journal: int | None = None  # journals: the highest JournalNumber read so far
    raw: RawRecords | None = None
    # A raw journal page's JournalNumber and JournalDate of each record (decoding.journal_heads).
    raw_heads: list[dict[str, Any]] | None = None

    @property
    def count(self) -> int:
        return len(self.raw) if self.raw is not None else len(self.records)

    @property
    def heads(self) -> list[dict[str, Any]]:
        """Records whose JournalNumber and JournalDate can be read, whichever the page is."""
        return self.raw_heads if self.raw_heads is not None else self.records


@dataclass
class CallStats:
    calls: int = 0
    retries: int = 0
    throttled_seconds: float = 0.0
    day_remaining: int | None = None
    minute_remaining: int | None = None
    by_status: dict[int, int] = field(default_factory=dict)
    rate_limited: dict[str, int] = field(default_factory=dict)  # 429s by X-Rate-Limit-Problem


def int_header(headers: Any, name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def seconds_header(headers: Any, default: float) -> float:
    try:
        return max(0.0, float(headers.get("Retry-After")))
    except (TypeError, ValueError):
        return default  # absent, or an HTTP date: Xero sends seconds


def refused(status: int, message: str, *, path: str, tenant_id: str | None, what: str | None,
            scope: str | None) -> XeroScopeError:
    """Xero's refusal of one endpoint to this app: 401 ``AuthorizationUnsuccessful`` (a
    scope or a tier the app lacks) or 403 (a tenant or plan that does not include it)."""
    if status == 401:
        text = (f"{message}. The app is not authorised for this endpoint"
                + (f": it needs the scope {scope}" if scope else "")
                + ". Add the scope to the app and run `xero-pipeline auth` again"
                + (", or leave this object out of the sync." if what else "."))
    else:
        text = (f"{message}. The organisation is not connected to this app, or the app's plan or scopes do not "
                "include this endpoint" + (f" (scope {scope})" if scope else "") + ".")
    return XeroScopeError(status=status, path=path, tenant_id=tenant_id, what=what, message=text)


def wait_out_429(problem: str, headers: Any, *, throttle: TenantThrottle, app: AppLimit | None,
                 sleep: Callable[[float], None]) -> tuple[float, str]:
    """Make whoever a 429 names wait ``Retry-After`` (any ``X-Rate-Limit-Problem`` but
    ``day``, which stops the tenant instead); returns (seconds, the limit's name).

    ``concurrent``: another process holds the tenant's 5 slots, so only this call waits.
    ``appminute``: the app's limit, not this tenant's, so every tenant's calls wait.
    Anything else is the tenant's minute: every call to the tenant waits."""
    if problem == "concurrent":
        wait = seconds_header(headers, 1.0)
        sleep(wait)
    elif problem == "appminute" and app is not None:
        wait = seconds_header(headers, app.window_seconds)
        app.back_off(wait)
    else:
        wait = seconds_header(headers, throttle.window_seconds)
        throttle.back_off(wait)
    return wait, "app" if problem == "appminute" else problem


def day_spent(headers: Any, *, tenant_id: str, days: TenantDays) -> XeroDailyLimitError:
    """A 429 ``day``: the tenant is parked until Xero's day resets (no later call for it
    spends a request), and the error that stops it is returned for the caller to raise."""
    retry_after = seconds_header(headers, 3600.0)
    resets_at = datetime.now(UTC) + timedelta(seconds=retry_after)
    days.park(tenant_id, resets_at)
    return XeroDailyLimitError(tenant_id=tenant_id, retry_after=retry_after, resets_at=resets_at)
