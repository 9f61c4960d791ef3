"""What one Xero answer tells the client: a page of records, Xero's clock, its limit headers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from xero_pipeline.errors import XeroScopeError


@dataclass
class Page:
    records: list[dict[str, Any]]
    pagination: dict[str, Any] | None
    server_time: datetime | None  # the envelope's DateTimeUTC: Xero's clock at this response
    number: int
    last_journal: int | None = None  # journals: the highest JournalNumber read so far


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
