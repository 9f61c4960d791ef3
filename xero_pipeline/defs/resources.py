"""Dagster resources: the Xero API and the DuckDB warehouse.

Both are configured in ``definitions.py`` with ``EnvVar`` for secrets; optional settings
fall back to the environment (see ``config``) when the resource is set up for a run,
never at import time.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import Field, PrivateAttr

from xero_pipeline.config import Lake, Warehouse, XeroSettings, warehouse_target, xero_settings
from xero_pipeline.errors import XeroPipelineError
from xero_pipeline.sync.access import DEFAULT_RECHECK_DAYS
from xero_pipeline.sync.reconcile import DEFAULT_EVERY_DAYS
from xero_pipeline.warehouse.connection import close_writer, open_writer, wal_path
from xero_pipeline.warehouse.locking import WarehouseLockTimeout, connect_with_wait, process_lock, writer_turn
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


class WarehouseResource(DuckDBResource):
    """The warehouse, opened only for the length of one write transaction: a DuckDB file, or a
    DuckLake (catalog in PostgreSQL, data under a shared path) that several machines write at once."""

    database: str = Field(
        default="", description="DuckDB file (XERO_WAREHOUSE, default data/warehouse.duckdb in the checkout), or "
        "ducklake:postgres:<libpq DSN or URL> for a DuckLake, with data_path.",
    )
    data_path: str = Field(
        default="", description="A DuckLake's data files (XERO_WAREHOUSE_DATA): one absolute path every machine "
        "mounts, or an object-store URL. Unused for a DuckDB file.",
    )
    lock_timeout_seconds: float = Field(
        default=120.0, description="How long a write waits for another process to release the file."
    )
    retry_lock_seconds: float = Field(
        default=10.0,
        description="Once a step of this run has given up on the lock, how long later steps wait (the holder is "
        "probably a long session; each of ~45 steps waiting the full bound would keep the run going for hours).",
    )

    memory_limit: str = Field(
        default="256MB",
        description="DuckDB's memory for one write session (XERO_WAREHOUSE_MEMORY). A merge larger than this spills "
        "to temp_directory instead of growing the process, so a run's peak memory does not grow with the "
        "organisation's size, and a machine holds a predictable number of runs at once. A DuckLake's sessions too.",
    )
    query_memory_limit: str = Field(
        default="1GB",
        description="DuckDB's memory for a session that builds the ledger views or reconciles the rebuilt ledger "
        "(XERO_WAREHOUSE_QUERY_MEMORY): queries over every tenant's documents, whose joins DuckDB cannot all spill; "
        "at 256MB eight demo-sized tenants already ran out.",
    )
    temp_directory: str = Field(
        default="", description="Where a merge spills past memory_limit (default: beside the warehouse file, "
        "<file>.tmp; for a DuckLake, the machine's temporary folder; it holds data only while a merge runs)."
    )

    _lock_gave_up: bool = PrivateAttr(default=False)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self.target()  # a wrong XERO_WAREHOUSE or XERO_WAREHOUSE_DATA fails before any call to Xero

    def duckdb_config(self, *, queries: bool = False) -> dict[str, object]:
        """The settings every write session opens with (``queries``: one for the ledger's large
        queries, see ``get_connection``); ``connection_config`` overrides them."""
        memory = (os.environ.get("XERO_WAREHOUSE_QUERY_MEMORY") or self.query_memory_limit if queries
                  else os.environ.get("XERO_WAREHOUSE_MEMORY") or self.memory_limit)
        return {
            "memory_limit": memory,
            "temp_directory": self.temp_directory or self.spill_directory(),
            # Merges join on keys and never need rows in insertion order: without it DuckDB
            # can stream and spill more of the merge.
            "preserve_insertion_order": False,
            **self.connection_config,
        }

    def target(self) -> Warehouse:
        """The file (its folder created) or the checked DuckLake; a ConfigError names a wrong setting."""
        return warehouse_target(self.database or None, data=self.data_path or None)

    def path(self) -> str:
        """The file, or the DuckLake as text with no password (what logs name; open ``target()``)."""
        return str(self.target())

    def spill_directory(self) -> str:
        """Beside a file (one writer at a time); for a DuckLake, one per process: runs on a machine
        write at once, and DuckDB removes the folder it made when it closes."""
        if isinstance(self.target(), Lake):
            return f"{self.local_base()}-{os.getpid()}.tmp"
        return f"{self.local_base()}.tmp"

    def local_base(self) -> str:
        """Where this machine's own files of the warehouse go (``<base>.spool``, ``<base>.tmp``):
        beside a file; for a DuckLake, which machines share, in this machine's temporary folder."""
        target = self.target()
        if isinstance(target, Lake):
            return os.path.join(tempfile.gettempdir(), "xero_pipeline_lake")
        return str(target)

    def get_connection(self, *, queries: bool = False) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        """A write session; ``queries``: for the ledger views and their reconciliation, with
        ``query_memory_limit`` instead of the merges' ``memory_limit``."""
        return self._session(checkpoint=False, queries=queries)

    @contextmanager
    def _session(self, *, checkpoint: bool, queries: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """One write session; ``checkpoint``: fold the WAL into the file when it closes."""
        target = self.target()
        if isinstance(target, Lake):
            # No turns to take: DuckLake serialises commits in its catalog, and a commit that
            # conflicts is run again (connection.in_transaction).
            conn = open_writer(target, config=self.duckdb_config(queries=queries))
            try:
                yield conn
            finally:
                close_writer(conn, target)
            return
        path = str(target)
        # Other processes are kept out by DuckDB's file lock; threads of this process share
        # one database instance, where two merges could conflict, so they take turns here.
        timeout = self.lock_timeout_seconds
        if self._lock_gave_up:
            timeout = min(timeout, self.retry_lock_seconds)
        log = dg.get_dagster_logger("xero_pipeline.warehouse.merge")
        deadline = time.monotonic() + timeout
        with process_lock(path), writer_turn(path, timeout=timeout, log=log.info):
            try:
                conn = connect_with_wait(path, timeout=timeout, deadline=deadline,
                                         config=self.duckdb_config(queries=queries),
                                         warn=log.warning, info=log.info)
            except WarehouseLockTimeout:
                self._lock_gave_up = True
                raise
            try:
                yield conn
            finally:
                # A leaked connection keeps the file lock for the life of the process.
                close_writer(conn, path, checkpoint=checkpoint)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        """A run leaves a single file: its commits still in the WAL are checkpointed now.

        Between runs the warehouse is then one self-contained file, so a copy of it is
        complete, and a backup restored over it meets no WAL of newer commits (DuckDB would
        replay that WAL onto the older file). A DuckLake has no WAL of its own."""
        if isinstance(self.target(), Lake) or not wal_path(self.path()).exists():
            return
        try:
            with self._session(checkpoint=True):
                pass
        except WarehouseLockTimeout:
            context.log.warning(f"warehouse {self.path()}: not checkpointed at the end of the run (another process "
                                "holds it); the next writer does it")
