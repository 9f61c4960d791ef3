"""Typed errors. Each message says what happened and what to do, and carries no secret."""

from __future__ import annotations

from datetime import datetime


class XeroPipelineError(Exception):
    """Base of every error this project raises on purpose."""


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
    ) -> None:
        self.status = status
        self.xero_message = message
        self.path = path
        self.tenant_id = tenant_id
        self.details = details or []
        where = f"GET {path}" + (f" for tenant {tenant_id}" if tenant_id else "")
        extra = "".join(f"\n  - {d}" for d in self.details)
        super().__init__(f"Xero returned {status} to {where}: {message}{extra}")


class XeroScopeError(XeroApiError):
    """401/403 for one endpoint: the app lacks its scope or the plan lacks the endpoint."""


class XeroUnavailableError(XeroPipelineError):
    """Retries were exhausted on 5xx, timeouts or broken responses."""


class XeroDailyLimitError(XeroPipelineError):
    """The tenant's daily call budget is spent; the next run resumes from the cursor."""

    def __init__(self, *, tenant_id: str, retry_after: float, resets_at: datetime) -> None:
        self.tenant_id = tenant_id
        self.retry_after = retry_after
        self.resets_at = resets_at
        super().__init__(
            f"Xero's daily call limit for tenant {tenant_id} is used up; it resets in about "
            f"{retry_after / 3600:.1f} h (at {resets_at:%Y-%m-%d %H:%M} UTC). Everything loaded so far is "
            "committed; the next run continues from there."
        )
