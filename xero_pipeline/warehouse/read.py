"""Reading the warehouse safely while syncs may be writing to it.

DuckDB lets one process write a file, or many read it, not both at once. Readers here
open read-only and briefly, and report a lock clearly instead of failing obscurely.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from xero_pipeline.config import warehouse_path
from xero_pipeline.errors import ConfigError
from xero_pipeline.warehouse.connection import open_warehouse


def connect_read_only(path: str | None = None) -> duckdb.DuckDBPyConnection:
    db = warehouse_path(path)
    if not Path(db).exists():
        raise ConfigError(f"there is no warehouse at {db} yet: run `xero-pipeline sync` (or `make demo`) first")
    try:
        return open_warehouse(db, read_only=True)
    except duckdb.IOException as exc:
        raise ConfigError(
            f"the warehouse {db} is being written by another process ({exc}); try again when the sync finishes"
        ) from None


def run_query(query: str, *, path: str | None = None, max_rows: int = 200) -> str:
    """Run one query read-only and format the result as a text table."""
    conn = connect_read_only(path)
    try:
        try:
            cursor = conn.execute(query)
        except duckdb.Error as exc:
            raise ConfigError(f"query failed: {exc}") from None
        if cursor.description is None:
            return "ok"
        # Nullable dtypes: counts stay integers ("587", not "587.0") even beside a NULL.
        frame = cursor.fetch_df().convert_dtypes()
    finally:
        conn.close()
    shown = frame.head(max_rows).to_string(index=False, max_colwidth=60)
    more = f"\n({len(frame)} rows, {max_rows} shown)" if len(frame) > max_rows else f"\n({len(frame)} rows)"
    return shown + more
