"""Dagster resources: the Xero API and the DuckDB warehouse.

Both are configured in ``definitions.py`` with ``EnvVar`` for secrets; optional settings
fall back to the environment (see ``config``) when the resource is set up for a run,
never at import time.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import Field, PrivateAttr

from xero_pipeline.auth import TokenManager, TokenStore
from xero_pipeline.client import XeroClient
from xero_pipeline.config import XeroSettings, warehouse_path, xero_settings
from xero_pipeline.errors import ConfigError
from xero_pipeline.throttle import TenantThrottle
from xero_pipeline.warehouse import open_warehouse


class XeroResource(dg.ConfigurableResource):
    """Authenticated, throttled access to Xero's accounting API for every connected tenant."""

    client_id: str | None = Field(default=None, description="Xero app client id (XERO_CLIENT_ID).")
    client_secret: str | None = Field(default=None, description="Xero app client secret (XERO_CLIENT_SECRET).")
    refresh_token: str | None = Field(
        default=None, description="First refresh token (XERO_REFRESH_TOKEN); unset for a custom connection."
    )
    token_store: str | None = Field(default=None, description="Token store file (XERO_TOKEN_STORE).")
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
    calls_per_window: int = 60
    concurrent_calls: int = 5

    _client: XeroClient | None = PrivateAttr(default=None)

    def settings(self) -> XeroSettings:
        return xero_settings(
            {
                "XERO_CLIENT_ID": self.client_id,
                "XERO_CLIENT_SECRET": self.client_secret,
                "XERO_REFRESH_TOKEN": self.refresh_token,
                "XERO_TOKEN_STORE": self.token_store,
                "XERO_API_URL": self.api_url,
                "XERO_IDENTITY_URL": self.identity_url,
            }
        )

    def rate_window(self) -> float:
        if self.rate_window_seconds:
            return self.rate_window_seconds
        return float(os.environ.get("XERO_RATE_WINDOW_SECONDS") or 60.0)

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
                store=TokenStore(s.token_store),
                timeout=self.connect_timeout_seconds + self.read_timeout_seconds,
            )
            self._client = XeroClient(
                api_url=s.api_url,
                tokens=tokens,
                timeout=(self.connect_timeout_seconds, self.read_timeout_seconds),
                max_retries=self.max_retries,
                backoff_seconds=self.backoff_seconds,
                throttle_factory=lambda: TenantThrottle(
                    per_window=self.calls_per_window,
                    concurrent=self.concurrent_calls,
                    window_seconds=self.rate_window(),
                ),
            )
        return self._client


class WarehouseResource(DuckDBResource):
    """The DuckDB warehouse file, opened only for the length of one write transaction."""

    database: str = Field(default="", description="DuckDB file (XERO_WAREHOUSE, default data/xero.duckdb).")
    lock_timeout_seconds: float = Field(
        default=120.0, description="How long a write waits for another process to release the file."
    )

    def path(self) -> str:
        return str(warehouse_path(self.database or None))

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        path = self.path()
        # Other processes are kept out by DuckDB's file lock; threads of this process share
        # one database instance, where two merges could conflict, so they take turns here.
        with _process_lock(path):
            conn = _connect_with_wait(path, timeout=self.lock_timeout_seconds, config=self.connection_config)
            try:
                yield conn
            finally:
                # A leaked connection keeps the file lock for the life of the process.
                conn.close()


_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _process_lock(path: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(os.path.realpath(path), threading.Lock())


def _connect_with_wait(path: str, *, timeout: float, config: dict) -> duckdb.DuckDBPyConnection:
    """Open the file for writing, waiting (bounded) while another process holds it."""
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        try:
            return open_warehouse(path, config=config)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise ConfigError(f"cannot open the warehouse {path}: {exc}") from None
            if time.monotonic() >= deadline:
                raise ConfigError(
                    f"the warehouse {path} stayed locked by another process for {timeout:.0f} s ({exc}). "
                    "Close other writers or read-write sessions (the DuckDB CLI opens read-write unless run with "
                    "-readonly), or read through `xero-pipeline sql`."
                ) from None
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
