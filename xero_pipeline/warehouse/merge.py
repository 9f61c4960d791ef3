"""The DuckDB warehouse: staging on local disk, then one short merge transaction.

Why not Dagster's pandas IO manager: it deletes the partition and re-inserts the output
with no transaction, so an empty incremental delta wipes a tenant and a failed insert
after the delete loses rows. Here a load is:

1. pages are shaped and appended to NDJSON files in a private spool directory while
   Xero is being read (no warehouse lock held, so tenants fetch in parallel, and memory
   stays flat however large the table);
2. one transaction on the warehouse stages the files, upserts parents on
   ``(tenant_id, primary key)`` (only rows whose content hash changed), replaces the
   children of exactly those parents, and, for full snapshots, marks rows Xero no longer
   returns with ``_deleted_at``;
3. the caller records the cursor only after that commit.

A crash before the commit leaves the warehouse as it was; after it, re-running the same
delta rewrites nothing (same hashes), so loads are idempotent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from xero_pipeline.warehouse.shaping import Column, TableShape
from xero_pipeline.warehouse.spool import Spool

__all__ = ["Spool", "merge", "open_warehouse", "ensure_table", "LoadStats"]

SCHEMA = "xero"
CATALOG = "warehouse"


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
        conn.execute(f"ATTACH {_lit(str(path))} AS {CATALOG}{mode}")
        conn.execute(f"USE {CATALOG}")
    except BaseException:
        conn.close()
        raise
    return conn


class Connection(Protocol):
    def execute(self, query: str, parameters: Any = ...) -> Any: ...


def q(name: str) -> str:
    """Quote an identifier."""
    return '"' + name.replace('"', '""') + '"'


def qualified(table: str, schema: str = SCHEMA) -> str:
    return f"{q(schema)}.{q(table)}"


# ----------------------------------------------------------------------------- SQL text


def create_table_sql(shape: TableShape, schema: str = SCHEMA) -> str:
    cols = ",\n  ".join(f"{q(c.name)} {c.sql_type}" for c in shape.columns.values())
    return f"CREATE TABLE IF NOT EXISTS {qualified(shape.table, schema)} (\n  {cols}\n)"


def add_column_sql(table: str, column: Column, schema: str = SCHEMA) -> str:
    return f"ALTER TABLE {qualified(table, schema)} ADD COLUMN IF NOT EXISTS {q(column.name)} {column.sql_type}"


def read_spool_sql(shape: TableShape, path: Path) -> str:
    """A SELECT over one spool file with every column typed as the table declares."""
    types = {name: c.sql_type for name, c in shape.columns.items()}
    types["_seq"] = "BIGINT"
    struct = ", ".join(f"{_lit(name)}: {_lit(t)}" for name, t in types.items())
    return (
        f"SELECT * FROM read_json({_lit(str(path))}, format = 'newline_delimited', "
        f"columns = {{{struct}}}, maximum_object_size = 67108864)"
    )


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _on(keys: Iterable[str], left: str, right: str) -> str:
    return " AND ".join(f"{left}.{q(k)} = {right}.{q(k)}" for k in keys)


# ----------------------------------------------------------------------------- merging


@dataclass
class LoadStats:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0  # marked _deleted_at by a snapshot reconciliation
    child_rows: dict[str, int] = field(default_factory=dict)  # written by this load
    child_deleted: dict[str, int] = field(default_factory=dict)  # hard-deleted elements marked
    child_row_count: dict[str, int] = field(default_factory=dict)  # held for the tenant afterwards
    row_count: int = 0  # live parent rows for the tenant after the load
    new_columns: list[str] = field(default_factory=list)


def ensure_table(conn: Connection, shape: TableShape, schema: str = SCHEMA) -> list[str]:
    """Create the table, or add the columns it lacks. Returns the columns added."""
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {q(schema)}")
    conn.execute(create_table_sql(shape, schema))
    existing = {
        r[0]
        for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?",
            [schema, shape.table],
        ).fetchall()
    }
    added = []
    for col in shape.columns.values():
        if col.name not in existing:
            conn.execute(add_column_sql(shape.table, col, schema))
            added.append(f"{shape.table}.{col.name}")
    return added


def merge(
    conn: Connection,
    spool: Spool,
    *,
    snapshot: bool,
    now: datetime,
    schema: str = SCHEMA,
) -> LoadStats:
    """Merge a closed spool into the warehouse inside one transaction.

    ``snapshot`` says the spool holds every record Xero has for this tenant, so rows it
    lacks were deleted in Xero.
    """
    shaper = spool.shaper
    parent = shaper.parent
    pk = parent.key[1]
    tenant = shaper.tenant_id
    target = qualified(parent.table, schema)
    stamp = now.replace(tzinfo=None)
    stats = LoadStats()
    conn.execute("BEGIN TRANSACTION")
    try:
        for shape in shaper.shapes():
            stats.new_columns += ensure_table(conn, shape, schema)
        has_rows = spool.rows.get(parent.table, 0) > 0
        cols = [c for c in parent.columns]
        if has_rows:
            # A key can appear twice when records were inserted while we paged; the
            # later copy (higher _seq) is the newer one.
            conn.execute(
                f"CREATE OR REPLACE TEMP TABLE stg_parent AS {read_spool_sql(parent, spool.path(parent.table))} "
                f"QUALIFY row_number() OVER (PARTITION BY {q(pk)} ORDER BY _seq DESC) = 1"
            )
        else:
            conn.execute(f"CREATE OR REPLACE TEMP TABLE stg_parent AS SELECT *, 0::BIGINT AS _seq FROM {target} LIMIT 0")
        conn.execute(
            f"CREATE OR REPLACE TEMP TABLE stg_changed AS "
            f"SELECT s.{q(pk)} AS k, s._seq AS seq, t.{q(pk)} IS NULL AS is_new "
            f"FROM stg_parent s LEFT JOIN {target} t ON t.tenant_id = ? AND t.{q(pk)} = s.{q(pk)} "
            f"WHERE t.{q(pk)} IS NULL OR t._hash IS DISTINCT FROM s._hash OR t._deleted_at IS NOT NULL",
            [tenant],
        )
        stats.inserted, stats.updated = conn.execute(
            "SELECT count(*) FILTER (WHERE is_new), count(*) FILTER (WHERE NOT is_new) FROM stg_changed"
        ).fetchone()
        staged = conn.execute("SELECT count(*) FROM stg_parent").fetchone()[0]
        stats.unchanged = staged - stats.inserted - stats.updated
        col_list = ", ".join(q(c) for c in cols)
        conn.execute(f"DELETE FROM {target} t USING stg_changed c WHERE t.tenant_id = ? AND t.{q(pk)} = c.k", [tenant])
        conn.execute(
            f"INSERT INTO {target} ({col_list}) SELECT {col_list} FROM stg_parent s "
            f"SEMI JOIN stg_changed c ON s.{q(pk)} = c.k"
        )
        # Parents Xero no longer returns (snapshots only); empty for incremental loads.
        conn.execute(
            f"CREATE OR REPLACE TEMP TABLE stg_gone AS SELECT {q(pk)} AS k FROM {target} "
            f"WHERE tenant_id = ? AND _deleted_at IS NULL AND ? "
            f"AND {q(pk)} NOT IN (SELECT {q(pk)} FROM stg_parent)",
            [tenant, snapshot],
        )
        for child, shape in shaper.children.values():
            if child.hard_deletes:
                written, marked = _upsert_marking_children(conn, spool, shape, tenant, schema, stamp)
                stats.child_deleted[shape.table] = marked
            else:
                written = _replace_children(conn, spool, shape, tenant, schema)
            stats.child_rows[shape.table] = written
        if snapshot:
            stats.deleted = conn.execute(
                f"UPDATE {target} t SET _deleted_at = ? FROM stg_gone g WHERE t.tenant_id = ? AND t.{q(pk)} = g.k",
                [stamp, tenant],
            ).fetchone()[0]
        for _, shape in shaper.children.values():
            stats.child_row_count[shape.table] = conn.execute(
                f"SELECT count(*) FROM {qualified(shape.table, schema)} WHERE tenant_id = ?"
                + (" AND _deleted_at IS NULL" if "_deleted_at" in shape.columns else ""),
                [tenant],
            ).fetchone()[0]
        stats.row_count = conn.execute(
            f"SELECT count(*) FROM {target} WHERE tenant_id = ? AND _deleted_at IS NULL", [tenant]
        ).fetchone()[0]
        for temp in ("stg_parent", "stg_changed", "stg_gone", "stg_child"):
            conn.execute(f"DROP TABLE IF EXISTS {temp}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return stats


def _winning_children_sql(spool: Spool, shape: TableShape) -> str:
    """The spooled children that came with the winning copy of each changed parent."""
    select = ", ".join(f"s.{q(c)}" for c in shape.columns)
    return (
        f"SELECT {select} FROM ({read_spool_sql(shape, spool.path(shape.table))}) s "
        f"JOIN stg_changed c ON s.{q(shape.key[1])} = c.k AND s._seq = c.seq"
    )


def _replace_children(conn: Connection, spool: Spool, shape: TableShape, tenant: str, schema: str) -> int:
    """Children of every changed parent are deleted and re-inserted from the spool."""
    target = qualified(shape.table, schema)
    conn.execute(
        f"DELETE FROM {target} t USING stg_changed c WHERE t.tenant_id = ? AND t.{q(shape.key[1])} = c.k",
        [tenant],
    )
    if not spool.rows.get(shape.table):
        return 0
    col_list = ", ".join(q(c) for c in shape.columns)
    return conn.execute(f"INSERT INTO {target} ({col_list}) {_winning_children_sql(spool, shape)}").fetchone()[0]


def _upsert_marking_children(
    conn: Connection, spool: Spool, shape: TableShape, tenant: str, schema: str, stamp: datetime
) -> tuple[int, int]:
    """Children Xero hard-deletes (tracking options, group members): elements a changed
    parent no longer has, and every element of a parent that vanished, keep their row
    with ``_deleted_at`` set, so a user sees that the option or membership ended instead
    of it silently disappearing. Returns (rows written, rows newly marked)."""
    target = qualified(shape.table, schema)
    parent_col = shape.key[1]
    col_list = ", ".join(q(c) for c in shape.columns)
    if spool.rows.get(shape.table):
        conn.execute(f"CREATE OR REPLACE TEMP TABLE stg_child AS {_winning_children_sql(spool, shape)}")
    else:
        conn.execute(f"CREATE OR REPLACE TEMP TABLE stg_child AS SELECT {col_list} FROM {target} LIMIT 0")
    same = _on(shape.key[1:], "s", "t")
    marked = conn.execute(
        f"UPDATE {target} t SET _deleted_at = ? WHERE t.tenant_id = ? AND t._deleted_at IS NULL AND ("
        f"(t.{q(parent_col)} IN (SELECT k FROM stg_changed) AND NOT EXISTS (SELECT 1 FROM stg_child s WHERE {same}))"
        f" OR t.{q(parent_col)} IN (SELECT k FROM stg_gone))",
        [stamp, tenant],
    ).fetchone()[0]
    conn.execute(f"DELETE FROM {target} t USING stg_child s WHERE t.tenant_id = ? AND {same}", [tenant])
    written = conn.execute(f"INSERT INTO {target} ({col_list}) SELECT {col_list} FROM stg_child").fetchone()[0]
    return written, marked
