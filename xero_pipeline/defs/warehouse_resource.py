"""The warehouse resource: a DuckDB file or a DuckLake, opened for one write session at a time.

Configured in ``definitions.py``; optional settings fall back to the environment (see
``config``) when the resource is set up for a run, never at import time.
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

from xero_pipeline.config import Lake, Warehouse, warehouse_target
from xero_pipeline.warehouse.connection import close_writer, open_writer, wal_path
from xero_pipeline.warehouse.locking import WarehouseLockTimeout, connect_with_wait, process_lock, writer_turn


MERGE_THREADS = 2


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
        default="160MB",
        description="DuckDB's memory for one write session (XERO_WAREHOUSE_MEMORY). A merge larger than this spills "
        "to temp_directory instead of growing the process, so a run's peak memory does not grow with the "
        "organisation's size, and a machine holds a predictable number of runs at once. A DuckLake's sessions too. "
        "It also bounds a checkpoint, which rewrites a table's last row group (up to 122,880 rows): at 256MB a "
        "full sync peaked at 596 MiB for 7.8 million rows against 342 for 0.78 million; at 160MB (with sessions "
        "handing memory back as they end), 467-536 against 342-368 over three benchmark runs.",
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
            # memory_limit is sized for two threads: while a merge reads its spool, DuckDB's
            # JSON reader holds twice the largest record it allows (16 MiB) per thread, and at
            # 128MB a merge of payments already ran out of memory on two. A merge of at most
            # 50,000 rows gains little from more threads; the ledger's queries take every core.
            # Named either way, because sessions share the process's DuckDB (warehouse.host).
            "threads": (os.cpu_count() or 1) if queries else MERGE_THREADS,
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
