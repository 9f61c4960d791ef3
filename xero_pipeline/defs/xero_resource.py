"""The Xero resource: authenticated, throttled access to Xero's API for every tenant.

Configured in ``definitions.py`` with ``EnvVar`` for secrets; optional settings fall back
to the environment (see ``config``) when the resource is set up for a run, never at
import time.
"""

from __future__ import annotations

import os

import dagster as dg
from pydantic import Field, PrivateAttr

from xero_pipeline.config import XeroSettings, xero_settings
from xero_pipeline.errors import XeroPipelineError
from xero_pipeline.sync.access import DEFAULT_RECHECK_DAYS
from xero_pipeline.sync.reconcile import DEFAULT_EVERY_DAYS
from xero_pipeline.xero import backends
from xero_pipeline.xero.auth import TokenManager
from xero_pipeline.xero.client import XeroClient
from xero_pipeline.xero.limits import (
    APP_MINUTE_CALLS,
    CONCURRENT_CALLS,
    DEFAULT_DAILY_CALLS,
    MINUTE_CALLS,
)
from xero_pipeline.xero.throttle import TenantThrottle


class XeroResource(dg.ConfigurableResource):
    """Authenticated, throttled access to Xero's accounting API for every connected tenant."""

    client_id: str | None = Field(default=None, description="Xero app client id (XERO_CLIENT_ID).")
    client_secret: str | None = Field(
        default=None, description="A Web app's client secret (XERO_CLIENT_SECRET); unset for a Mobile or desktop "
        "app, which uses PKCE and has none.",
    )
    refresh_token: str | None = Field(
        default=None, description="First refresh token (XERO_REFRESH_TOKEN); unset for a custom connection."
    )
    token_store: str | None = Field(default=None, description="Token store file (XERO_TOKEN_STORE).")
    postgres_url: str | None = Field(
        default=None, description="PostgreSQL shared by every machine (XERO_POSTGRES_URL): the tokens and the "
        "app's and each tenant's call limits live there instead of in local files.",
    )
    api_url: str | None = Field(default=None, description="Accounting API base (XERO_API_URL).")
    identity_url: str | None = Field(default=None, description="Identity base (XERO_IDENTITY_URL).")
    connect_timeout_seconds: float = 10.0
    read_timeout_seconds: float = 120.0
    page_size: int = Field(default=1000, ge=1, le=1000, description="Rows per page where Xero pages (max 1000).")
    max_retries: int = 5
    backoff_seconds: float = 1.0
    rate_window_seconds: float | None = Field(
        default=None,
        description="Xero's rate-limit minute (60 s; XERO_RATE_WINDOW_SECONDS shortens it for a time-scaled sandbox).",
    )
    reconcile_every_days: int = Field(
        default=DEFAULT_EVERY_DAYS, ge=0,
        description="Read each If-Modified-Since object whole this often (days; 0: never), to catch changes Xero "
        "does not timestamp and records it deletes outright. Spread across the days of the period.",
    )
    recheck_unavailable_days: int = Field(
        default=DEFAULT_RECHECK_DAYS, ge=0,
        description="Ask Xero again for an object it refused to this app (a scope or tier the app lacks) after "
        "this many days (0: every sync); at once when the access token's granted scopes change.",
    )
    calls_per_window: int = MINUTE_CALLS
    app_calls_per_window: int = Field(
        default=APP_MINUTE_CALLS, ge=1,
        description="Xero's app-wide limit: calls a minute across every organisation, shared by every run and "
        "process on the machine through a file beside the token store (across machines: XERO_POSTGRES_URL).",
    )
    concurrent_calls: int = CONCURRENT_CALLS
    daily_call_limit: int = Field(
        default=DEFAULT_DAILY_CALLS, ge=1,
        description="Calls a day per organisation on the app's Xero plan: 1,000 on Starter, 5,000 on the others.",
    )

    reserve_daily_calls: int = Field(
        default=0, ge=0,
        description="Calls of each organisation's day the sync leaves unspent (for other work on the same app). A "
        "step stops before eating into them, commits what it read and the next run continues from there.",
    )
    checkpoint_pages: int = Field(
        default=20, ge=1,
        description="A long read commits every this many pages, so a kill or a stop loses at most that many.",
    )

    idempotency_window_seconds: float | None = Field(
        default=None, gt=0,
        description="How long after sending a write the push trusts Xero's idempotency cache to replay it (Xero "
        "keeps answers 6 minutes; default 5 of the rate limit's minutes, so a time-scaled sandbox shortens it too).",
    )

    _client: XeroClient | None = PrivateAttr(default=None)
    _tenant_names: dict[str, str] | None = PrivateAttr(default=None)

    def settings(self) -> XeroSettings:
        return xero_settings(
            {
                "XERO_CLIENT_ID": self.client_id,
                "XERO_CLIENT_SECRET": self.client_secret,
                "XERO_REFRESH_TOKEN": self.refresh_token,
                "XERO_TOKEN_STORE": self.token_store,
                "XERO_POSTGRES_URL": self.postgres_url,
                "XERO_API_URL": self.api_url,
                "XERO_IDENTITY_URL": self.identity_url,
            }
        )

    def rate_window(self) -> float:
        if self.rate_window_seconds:
            return self.rate_window_seconds
        return float(os.environ.get("XERO_RATE_WINDOW_SECONDS") or 60.0)

    def idempotency_window(self) -> float:
        return self.idempotency_window_seconds or 5 * self.rate_window()

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self.settings()  # fail before the first call with a message naming the variable

    def get_client(self) -> XeroClient:
        """One client (and one token manager and throttle per tenant) per resource instance."""
        if self._client is None:
            s = self.settings()
            tokens = TokenManager(
                client_id=s.client_id,
                client_secret=s.client_secret,
                refresh_token=s.refresh_token,
                identity_url=s.identity_url,
                store=backends.token_store(s),
                timeout=self.connect_timeout_seconds + self.read_timeout_seconds,
            )
            limits = backends.limits(s, app_calls=self.app_calls_per_window, tenant_calls=self.calls_per_window,
                                     window_seconds=self.rate_window())
            self._client = XeroClient(
                api_url=s.api_url,
                tokens=tokens,
                timeout=(self.connect_timeout_seconds, self.read_timeout_seconds),
                max_retries=self.max_retries,
                backoff_seconds=self.backoff_seconds,
                reserve_daily_calls=self.reserve_daily_calls,
                app_limit=limits.app_limit,
                tenant_window=limits.tenant_window,
                days=limits.days,
                throttle_factory=lambda: TenantThrottle(
                    per_window=self.calls_per_window,
                    concurrent=self.concurrent_calls,
                    window_seconds=self.rate_window(),
                ),
            )
        return self._client

    def tenant_names(self) -> dict[str, str]:
        """Organisation name by tenant id, from one ``/connections`` call per resource instance
        (per run with the in-process executor); {} when Xero cannot be asked."""
        if self._tenant_names is None:
            try:
                self._tenant_names = self.get_client().organisations().names
            except XeroPipelineError as exc:
                # Names only label what the run did; the run's own calls report a real problem.
                dg.get_dagster_logger("xero_pipeline").info(f"organisation names not available: {exc}")
                self._tenant_names = {}
        return self._tenant_names
