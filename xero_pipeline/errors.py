"""Typed errors. Each message says what happened and what to do, and carries no secret.

Tokens and the client secret are registered with ``register_secret`` as soon as the
pipeline holds them; every error message passes through ``redact`` so that text we did
not write ourselves (a ``requests`` exception quoting a header, an error body echoing a
request) cannot carry one into a log, a Dagster event or a traceback.
"""

from __future__ import annotations

import re
import threading
from datetime import datetime
from typing import Any

REDACTED = "[redacted]"
_MIN_SECRET_LENGTH = 8  # shorter values would redact ordinary words
_secrets: set[str] = set()
_secrets_lock = threading.Lock()
# An Authorization header value quoted by a library, even with a token we never registered.
_AUTH_VALUE = re.compile(r"\bBearer\s+[^\s'\",)]{4,}|\bBasic\s+[A-Za-z0-9+/]{16,}={0,2}")


def register_secret(value: str | None) -> None:
    """Never show ``value`` in an error message from now on (for this process)."""
    if not value:
        return
    with _secrets_lock:
        for v in (value, value.strip()):
            if len(v) >= _MIN_SECRET_LENGTH:
                _secrets.add(v)


def redact(text: str) -> str:
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return _AUTH_VALUE.sub(REDACTED, text)


def problem_text(resp: Any) -> tuple[str, list[str]]:
    """Xero's own words from an error response (a ``requests.Response``), whichever of its
    shapes it used: an ApiException with validation errors, a problem+json, OAuth's
    ``error``, or plain text (an outage page)."""
    try:
        body = resp.json()
    except ValueError:
        return redact(resp.text.strip()[:300] or resp.reason or "no message"), []
    if not isinstance(body, dict):
        return redact(str(body)[:300]), []
    details = [
        str(err.get("Message", ""))
        for element in body.get("Elements") or []
        if isinstance(element, dict)
        for err in element.get("ValidationErrors") or []
        if isinstance(err, dict)
    ]
    message = next((body[k] for k in ("Message", "Detail", "Title", "error") if body.get(k)), resp.reason)
    kind = body.get("Type")
    text = f"{kind}: {message}" if kind and kind not in str(message) else str(message)
    return redact(text), [redact(d) for d in details if d]


def human_duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(seconds, 0):.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class XeroPipelineError(Exception):
    """Base of every error this project raises on purpose."""

    def __str__(self) -> str:
        return redact(super().__str__())


class ConfigError(XeroPipelineError):
    """A setting is missing or wrong; raised before any work starts."""


class XeroAuthError(XeroPipelineError):
    """Tokens could not be obtained; a person has to act (re-authorise, fix credentials)."""


class XeroApiError(XeroPipelineError):
    """Xero answered with an error status that retrying will not fix."""

    def __init__(
        self,
        *,
        status: int,
        message: str,
        path: str,
        tenant_id: str | None,
        details: list[str] | None = None,
        what: str | None = None,
        method: str = "GET",
    ) -> None:
        self.status = status
        self.xero_message = message
        self.path = path
        self.tenant_id = tenant_id
        self.details = details or []
        self.what = what
        where = f"{method} {path}" + (f" ({what})" if what else "")
        where += f" for tenant {tenant_id}" if tenant_id else ""
        extra = "".join(f"\n  - {d}" for d in self.details)
        super().__init__(f"Xero returned {status} to {where}: {message}{extra}")


class XeroScopeError(XeroApiError):
    """401/403 for one endpoint: the app lacks its scope or the plan lacks the endpoint."""


class XeroRequestError(XeroPipelineError):
    """A request could not even be sent (a malformed header or URL); retrying cannot help."""


class XeroUnavailableError(XeroPipelineError):
    """Retries were exhausted on 5xx, timeouts, broken responses or rate limits."""


class XeroBudgetReached(XeroPipelineError):
    """The step stopped before spending the calls it must leave of the tenant's day.

    Progress, not a failure: the caller commits what it read and resumes next run.
    """

    def __init__(self, *, tenant_id: str, remaining: int, keep: int) -> None:
        self.tenant_id = tenant_id
        self.remaining = remaining
        self.keep = keep
        super().__init__(
            f"tenant {tenant_id} has {remaining} of today's Xero calls left and this step must leave {keep}: "
            "stopping here; the next run continues from what was committed"
        )


class XeroDailyLimitError(XeroPipelineError):
    """The tenant's daily call budget is spent; the next run resumes from the cursor."""

    def __init__(self, *, tenant_id: str, retry_after: float, resets_at: datetime) -> None:
        self.tenant_id = tenant_id
        self.retry_after = retry_after
        self.resets_at = resets_at
        super().__init__(
            f"Xero's daily call limit for tenant {tenant_id} is used up; it resets in about "
            f"{human_duration(retry_after)} (at {resets_at:%Y-%m-%d %H:%M:%S} UTC). Everything loaded before "
            "this object is committed with its cursor; run the sync again after the reset and it continues "
            "from there."
        )
