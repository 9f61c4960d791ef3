"""Opening the warehouse (a DuckDB file, or a DuckLake: ``lake``), and the one shape of
transaction every write uses (retried where DuckLake refuses a commit that conflicts)."""

from __future__ import annotations

import logging
import random
import re
import shlex
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, TypeVar

from xero_pipeline.config import Lake, Warehouse, is_lake_setting, warehouse_target
from xero_pipeline.errors import ConfigError
from xero_pipeline.warehouse import host, lake
from xero_pipeline.warehouse.names import lit

CATALOG = "warehouse"
# A write session leaves its commits in the WAL until the WAL passes this (see close_writer).
WAL_CHECKPOINT_BYTES = 64 * 1024


class Connection(Protocol):
    def execute(self, query: str, parameters: Any = ...) -> Any: ...


def as_target(where: str | Path | Lake) -> Warehouse:
    """A ``Lake`` for a ``ducklake:`` string (its data path from XERO_WAREHOUSE_DATA), else the file."""
    if isinstance(where, Lake):
        return where
    if is_lake_setting(str(where)):
        return warehouse_target(str(where))
    return Path(where)


def open_warehouse(path: str | Path | Lake, *, read_only: bool = False, config: dict | None = None) -> Any:
    """A connection whose default catalog is the warehouse (file or DuckLake), attached as ``warehouse``.

    Other clients name the file's catalog after the file (``data/warehouse.duckdb`` is
    ``warehouse`` there too); the fixed alias keeps our own queries independent of the
    name a user gives the file. Everything refers to plain ``xero.<table>``, never to a
    catalog, so the views work under any catalog name.
    Raises ``duckdb.IOException`` when another process holds the file's lock, and
    ``ConfigError`` for a file written by a newer DuckDB.
    """
    import duckdb

    target = as_target(path)
    if isinstance(target, Lake):
        return lake.open_lake(target, alias=CATALOG, read_only=read_only, config=config)
    conn = duckdb.connect(":memory:", config=dict(config or {}))
    try:
        mode = " (READ_ONLY)" if read_only else ""
        with _newer_file_explained(path):
            conn.execute(f"ATTACH {lit(str(path))} AS {CATALOG}{mode}")
        conn.execute(f"USE {CATALOG}")
    except BaseException:
        conn.close()
        raise
    return conn


def open_writer(path: str | Path | Lake, *, config: dict | None = None) -> Any:
    """A connection for one short write session of the pipeline, closed with ``close_writer``.

    The file is attached to the process's one DuckDB instance (``host``): a new instance
    per session cost more than the session's own work in a tenant's daily run. A DuckLake
    has its own instance per process (``lake``), and no WAL of its own: every commit is
    Parquet files and catalog rows."""
    if isinstance(as_target(path), Lake):
        return open_warehouse(path, config=config)
    # The instance does not checkpoint when the file is detached (host): ~40-55 ms of
    # rewriting the file after every small merge was the largest single cost of a
    # tenant's daily run. A committed transaction is durable in the WAL (every DuckDB
    # client replays it on open, read-only ones too), so the checkpoint waits until the
    # WAL is worth it, and until the end of the run.
    with _newer_file_explained(path):
        return host.attach(str(path), CATALOG, dict(config or {}))


@contextmanager
def _newer_file_explained(path: str | Path) -> Iterator[None]:
    import duckdb

    try:
        yield
    except duckdb.IOException as exc:
        found = re.search(r"database file with version number (\d+)", str(exc))
        if found:
            raise ConfigError(newer_file_message(Path(path), found.group(1), duckdb.__version__)) from None
        raise


def wal_path(path: str | Path) -> Path:
    return Path(f"{path}.wal")


def close_writer(conn: Any, path: str | Path | Lake, *, checkpoint: bool = False) -> None:
    """Close a write session, checkpointing first when asked or when the WAL is past
    ``WAL_CHECKPOINT_BYTES``.

    Each open replays the WAL (about 0.15 ms a KiB), so it is kept small: 64 KiB is a
    handful of small merges, and minimises replay plus checkpoint per session."""
    import duckdb

    if isinstance(as_target(path), Lake):
        conn.close()
        return
    try:
        wal = wal_path(path)
        if checkpoint or (wal.exists() and wal.stat().st_size > WAL_CHECKPOINT_BYTES):
            conn.execute(f"CHECKPOINT {CATALOG}")
    except duckdb.Error:
        pass  # a session that failed mid-transaction: a later session checkpoints
    finally:
        host.detach(conn, CATALOG)


def newer_file_message(path: Path, storage_version: str, ours: str) -> str:
    """What to do with a warehouse written by DuckDB 2.x, whose files 1.4 and 1.5 cannot read."""
    converted = Path(f"{path}.v1.4")
    attach = (f"ATTACH {lit(str(path))} AS old (READ_ONLY); "
              f"ATTACH {lit(str(converted))} AS new (STORAGE_VERSION 'v1.4.0'); COPY FROM DATABASE old TO new")
    python = "/tmp/duckdb2/bin/python"
    return (
        f"{path} was written by a newer DuckDB (storage version {storage_version}) than this pipeline's "
        f"DuckDB {ours}, the 1.4 LTS line whose files the DuckDB 1.4 and 1.5 clients read. Convert it once "
        f"with DuckDB 2 in a scratch environment, then replace the file:\n"
        f"  python3 -m venv /tmp/duckdb2 && /tmp/duckdb2/bin/pip install 'duckdb>=2,<3'\n"
        f"  {python} -c 'import duckdb, sys; duckdb.connect().execute(sys.argv[1])' {shlex.quote(attach)}\n"
        f"  mv {shlex.quote(str(converted))} {shlex.quote(str(path))}"
    )


log = logging.getLogger(__name__)
T = TypeVar("T")
CONFLICT_ATTEMPTS = 8  # each a fresh transaction: enough for a few runs committing to one table at once
CONFLICT_BACKOFF_SECONDS = 0.05


def in_transaction(conn: Connection, body: Callable[[], T], *, attempts: int = CONFLICT_ATTEMPTS) -> T:
    """``body()`` in one transaction, run again from the start when DuckLake refuses the commit
    because another machine's commit touched the same files; bounded, the last conflict is
    raised. ``body`` sets up its own state (a retry runs it whole again). A DuckDB file never
    conflicts: its writers take turns (``locking``)."""
    for number in range(1, attempts + 1):
        try:
            with transaction(conn):
                return body()
        except Exception as exc:
            if number == attempts or not lake.is_conflict(exc):
                raise
            pause = CONFLICT_BACKOFF_SECONDS * 2 ** (number - 1) * (0.5 + random.random())
            log.info(f"warehouse: another writer committed first ({lake.conflict_text(exc)}); "
                     f"attempt {number + 1} of {attempts} in {pause:.2f} s")
            time.sleep(pause)
    raise AssertionError("unreachable")


@contextmanager
def transaction(conn: Connection) -> Iterator[None]:
    """Run the block in one transaction: committed if it returns, rolled back if it raises.

    The commit is inside the guard too, so a commit that fails is rolled back rather
    than leaving the connection in an aborted transaction.
    """
    conn.execute("BEGIN TRANSACTION")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        try:
            conn.execute("ROLLBACK")
        except Exception:  # noqa: BLE001 - a refused COMMIT has already ended the transaction
            pass
        raise
