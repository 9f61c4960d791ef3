"""Where the tokens and the limits live: local files for one machine (the default), or
PostgreSQL when XERO_POSTGRES_URL is set, so that every machine of the app shares them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from xero_pipeline.config import XeroSettings
from xero_pipeline.xero.app_limit import AppLimit, app_limit_path
from xero_pipeline.xero.tenant_days import TenantDays
from xero_pipeline.xero.token_store import TokenStorage, TokenStore


def token_store(settings: XeroSettings) -> TokenStorage:
    if settings.postgres_url:
        from xero_pipeline.xero.pg_token_store import PostgresTokenStore

        return PostgresTokenStore(settings.postgres_url, settings.client_id)
    return TokenStore(settings.token_store)


@dataclass
class Limits:
    """What ``XeroClient`` takes: the app's minute, each tenant's minute across machines, the days."""

    app_limit: AppLimit
    tenant_window: Callable[[str], None] | None
    days: TenantDays


def limits(settings: XeroSettings, *, app_calls: int, tenant_calls: int, window_seconds: float) -> Limits:
    if settings.postgres_url:
        from xero_pipeline.xero.shared_limits import SharedAppLimit, SharedTenantDays, SharedTenantWindows

        url = settings.postgres_url
        return Limits(SharedAppLimit(url, per_window=app_calls, window_seconds=window_seconds),
                      SharedTenantWindows(url, per_window=tenant_calls, window_seconds=window_seconds).acquire,
                      SharedTenantDays(url))
    return Limits(AppLimit(app_limit_path(settings.token_store), per_window=app_calls,
                           window_seconds=window_seconds), None, TenantDays())
