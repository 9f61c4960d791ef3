"""Opening the warehouse file, and the one shape of transaction every write uses."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from xero_pipeline.warehouse.names import lit

CATALOG = "warehouse"


class Connection(Protocol):
    def execute(self, query: str, parameters: Any = ...) -> Any: ...


def open_warehouse(path: str | Path, *, read_only: bool = False, config: dict | None = None) -> Any:
    """A connection whose default catalog is the warehouse file, attached as ``warehouse``.

    DuckDB names a file's catalog after the file, so ``data/xero.duckdb`` would be catalog
    ``xero`` holding schema ``xero``, and ``xero.invoices`` would be ambiguous. Attaching
    under a fixed alias keeps every query (ours and users') plain ``xero.<table>``.
    Raises ``duckdb.IOException`` when another process holds the file's lock.
    """
    import duckdb

    conn = duckdb.connect(":memory:", config=dict(config or {}))
    try:
        mode = " (READ_ONLY)" if read_only else ""
        conn.execute(f"ATTACH {lit(str(path))} AS {CATALOG}{mode}")
        conn.execute(f"USE {CATALOG}")
    except BaseException:
        conn.close()
        raise
    return conn


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
        conn.execute("ROLLBACK")
        raise
