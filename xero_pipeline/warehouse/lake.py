"""The warehouse as a DuckLake: catalog in PostgreSQL, Parquet files under a shared path.

Several machines write it at once. There is no file lock to take turns at: DuckLake
serialises commits in the catalog, and a commit that deleted from a data file another
commit deleted from since the transaction began is refused ("Transaction conflict"). With
DuckLake 0.3 on DuckDB 1.4.4 this happens to two runs writing *different* tenants' rows of
one table too, since the merge deletes before it inserts; the transaction is then run again
from the start (``connection.in_transaction``).

DuckDB cannot download extensions on our machines: ``duckdb-ext-ducklake`` and
``duckdb-ext-postgres`` (PyPI) ship them in ``duckdb_ext/extensions/v<duckdb>/<platform>/``,
the layout of DuckDB's own extension directory, so that folder is the connection's
``extension_directory`` and ``LOAD`` finds them there.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from xero_pipeline.config import Lake, redact_dsn
from xero_pipeline.errors import ConfigError
from xero_pipeline.warehouse.names import lit

PACKAGES = "duckdb-ext-ducklake==1.4.4.* duckdb-ext-postgres==1.4.4.*"
# What DuckLake says when another commit got there first (DuckDB raises TransactionException;
# the catalog's own retry, ducklake_max_retry_count, covers only colliding snapshot ids).
CONFLICT_MARKS = ("Transaction conflict", "Failed to commit DuckLake transaction")


class LakeMissing(ConfigError):
    """A read of a DuckLake that no sync has created yet."""


def extension_directory() -> str:
    """The folder the duckdb-ext-* packages install extensions into."""
    try:
        import duckdb_ext
    except ImportError:
        raise ConfigError(
            f"XERO_WAREHOUSE is a DuckLake, but DuckDB's ducklake and postgres extensions are not installed: "
            f"`make install` (or pip install '{PACKAGES.split()[0]}' '{PACKAGES.split()[1]}')"
        ) from None
    return str(Path(next(iter(duckdb_ext.__path__))) / "extensions")


def open_lake(target: Lake, *, alias: str, read_only: bool = False, config: dict | None = None) -> Any:
    """A connection with the lake attached as ``alias`` and in use: a cursor of this process's
    DuckDB instance for the lake (and settings), made on first use. Loading the two extensions
    takes ~0.4 s, too much for each of a run's hundreds of short sessions; the cursor is
    closed with the session, the instance stays."""
    settings = {"extension_directory": extension_directory(), "autoinstall_known_extensions": False,
                **(config or {})}
    key = (os.getpid(), target, alias, read_only, repr(sorted(settings.items())))
    with _GUARD:
        base = _INSTANCES.get(key)
        if base is None:
            base = _INSTANCES[key] = _attach(target, alias=alias, read_only=read_only, settings=settings)
    conn = base.cursor()
    try:
        conn.execute(f"USE {alias}")
    except BaseException:
        conn.close()
        raise
    return conn


_INSTANCES: dict[tuple, Any] = {}  # by process too: an instance does not survive a fork
_GUARD = threading.Lock()
INIT_ATTEMPTS = 5


def _attach(target: Lake, *, alias: str, read_only: bool, settings: dict) -> Any:
    import duckdb

    conn = duckdb.connect(":memory:", config=settings)
    try:
        try:
            conn.execute("LOAD ducklake")
            conn.execute("LOAD postgres")
        except duckdb.Error as exc:
            raise ConfigError(
                f"cannot load DuckDB's ducklake and postgres extensions from {settings['extension_directory']} "
                f"({first_line(exc)}): `make install` installs {PACKAGES} for DuckDB {duckdb.__version__}"
            ) from None
        options = [f"DATA_PATH {lit(target.data_path)}"] + (["READ_ONLY"] if read_only else [])
        attach = f"ATTACH {lit('ducklake:' + target.catalog)} AS {alias} ({', '.join(options)})"
        for attempt in range(1, INIT_ATTEMPTS + 1):
            try:
                conn.execute(attach)
                break
            except duckdb.Error as exc:
                # Two machines creating a new lake at once: one's CREATE TABLEs of the catalog
                # fail on the other's; once the other commits, the lake exists and attaches.
                if "Failed to initialize DuckLake" in str(exc) and attempt < INIT_ATTEMPTS:
                    time.sleep(0.2 * attempt)
                    continue
                if read_only and "creating a new DuckLake is explicitly disabled" in str(exc):
                    raise LakeMissing(f"there is no warehouse in the DuckLake {target} yet: run `xero-pipeline "
                                      "sync` first, or check XERO_WAREHOUSE") from None
                raise ConfigError(
                    f"cannot open the DuckLake warehouse {target}: {scrub(first_line(exc), target)}. Check "
                    "XERO_WAREHOUSE's PostgreSQL connection (the server running, the database created, the user "
                    "allowed to create tables in it) and that XERO_WAREHOUSE_DATA is the path the lake was "
                    "created with"
                ) from None
    except BaseException:
        conn.close()
        raise
    return conn


def scrub(text: str, target: Lake) -> str:
    """DuckDB's message without the catalog's password (the postgres extension quotes the DSN)."""
    dsn = target.catalog.split(":", 1)[1]
    return redact_dsn(text.replace(dsn, redact_dsn(dsn)))


def first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0].rstrip(".") if str(exc).strip() else type(exc).__name__


def is_conflict(exc: BaseException) -> bool:
    import duckdb

    return isinstance(exc, duckdb.TransactionException) and any(m in str(exc) for m in CONFLICT_MARKS)


def conflict_text(exc: BaseException) -> str:
    """DuckLake's reason, from the last line of its message ("Transaction conflict - ...")."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__


def is_lake(conn: Any) -> bool:
    """Whether ``conn``'s default catalog is a DuckLake."""
    row = conn.execute("SELECT type FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    return bool(row) and row[0] == "ducklake"
