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
3. the same transaction records the sync state (``sync_state``: the cursor this load
   stands for), and the caller records the cursor in Dagster only after that commit.

A crash before the commit leaves the warehouse as it was; after it, re-running the same
delta rewrites nothing (same hashes), so loads are idempotent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from xero_pipeline.warehouse.connection import Connection, in_transaction
from xero_pipeline.warehouse.names import SCHEMA, lit, q, qualified
from xero_pipeline.warehouse.shaping import TableShape
from xero_pipeline.warehouse.spool import Spool
from xero_pipeline.warehouse.sql import load
from xero_pipeline.warehouse.sync_state import SyncState, write_state
from xero_pipeline.warehouse.tables import ensure_table
from xero_pipeline.warehouse.values import cast_text_sql
from xero_pipeline.warehouse.widening import Widening, spool_read_type, widen_columns

_TEMP_TABLES = ("stg_parent", "stg_changed", "stg_gone", "stg_child")


def read_spool_sql(shape: TableShape, path: Path) -> str:
    """A SELECT over one spool file with every column typed as the table declares."""
    types, casts = {}, []
    for name, c in shape.columns.items():
        types[name], cast = spool_read_type(c.kind, shape.stored.get(name, c.kind))
        if cast:
            casts.append(f"{cast_text_sql(q(name), cast)} AS {q(name)}")
    types["_seq"] = "BIGINT"
    struct = ", ".join(f"{lit(name)}: {lit(t)}" for name, t in types.items())
    replace = f"REPLACE ({', '.join(casts)})" if casts else ""
    return load("merge/read_spool", path=lit(str(path)), columns=struct, replace=replace)


def _columns(names: Iterable[str], prefix: str = "") -> str:
    return ", ".join(prefix + q(n) for n in names)


def _on(keys: Iterable[str], left: str, right: str) -> str:
    return " AND ".join(f"{left}.{q(k)} = {right}.{q(k)}" for k in keys)


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
    widened: list[Widening] = field(default_factory=list)  # columns altered to hold this load's values


def merge(
    conn: Connection,
    spool: Spool,
    *,
    snapshot: bool,
    now: datetime,
    schema: str = SCHEMA,
    state: SyncState | None = None,
) -> LoadStats:
    """Merge a closed spool into the warehouse inside one transaction.

    ``snapshot`` says the spool holds every record Xero has for this tenant, so rows it
    lacks were deleted in Xero. ``state`` (its row count and time filled in here) is
    written in the same transaction, so it is true of whatever the commit leaves.
    """
    shaper = spool.shaper
    parent = shaper.parent
    pk = q(parent.key[1])
    tenant = shaper.tenant_id
    target = qualified(parent.table, schema)
    stamp = now.replace(tzinfo=None)

    def write() -> LoadStats:
        stats = LoadStats()
        for shape in shaper.shapes():
            stats.new_columns += ensure_table(conn, shape, schema)
            stats.widened += widen_columns(conn, shape, schema)
        if spool.rows.get(parent.table, 0) > 0:
            spooled = read_spool_sql(parent, spool.path(parent.table))
            conn.execute(load("merge/stage_parents", spooled=spooled, pk=pk))
        else:
            conn.execute(
                f"CREATE OR REPLACE TEMP TABLE stg_parent AS SELECT *, 0::BIGINT AS _seq FROM {target} LIMIT 0"
            )
        conn.execute(load("merge/changed_parents", pk=pk, target=target), [tenant])
        stats.inserted, stats.updated = conn.execute(
            "SELECT count(*) FILTER (WHERE is_new), count(*) FILTER (WHERE NOT is_new) FROM stg_changed"
        ).fetchone()
        staged = conn.execute("SELECT count(*) FROM stg_parent").fetchone()[0]
        stats.unchanged = staged - stats.inserted - stats.updated
        conn.execute(f"DELETE FROM {target} t USING stg_changed c WHERE t.tenant_id = ? AND t.{pk} = c.k", [tenant])
        conn.execute(load("merge/insert_changed", target=target, columns=_columns(parent.columns), pk=pk))
        conn.execute(load("merge/gone_parents", pk=pk, target=target), [tenant, snapshot])
        for child, shape in shaper.children.values():
            if child.hard_deletes:
                written, marked = _upsert_marking_children(conn, spool, shape, tenant, schema, stamp)
                stats.child_deleted[shape.table] = marked
            else:
                written = _replace_children(conn, spool, shape, tenant, schema)
            stats.child_rows[shape.table] = written
        if snapshot:
            stats.deleted = conn.execute(
                f"UPDATE {target} t SET _deleted_at = ? FROM stg_gone g WHERE t.tenant_id = ? AND t.{pk} = g.k",
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
        if state is not None:
            write_state(conn, replace(state, row_count=stats.row_count, updated_at=now))
        for temp in _TEMP_TABLES:
            conn.execute(f"DROP TABLE IF EXISTS {temp}")
        return stats

    return in_transaction(conn, write)


def _winning_children_sql(spool: Spool, shape: TableShape) -> str:
    """The spooled children that came with the winning copy of each changed parent."""
    return load(
        "merge/winning_children", columns=_columns(shape.columns, "s."),
        spooled=read_spool_sql(shape, spool.path(shape.table)), parent_key=q(shape.key[1]),
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
    return conn.execute(
        f"INSERT INTO {target} ({_columns(shape.columns)}) {_winning_children_sql(spool, shape)}"
    ).fetchone()[0]


def _upsert_marking_children(
    conn: Connection, spool: Spool, shape: TableShape, tenant: str, schema: str, stamp: datetime
) -> tuple[int, int]:
    """Children Xero hard-deletes (tracking options, group members): elements a changed
    parent no longer has, and every element of a parent that vanished, keep their row
    with ``_deleted_at`` set, so a user sees that the option or membership ended instead
    of it silently disappearing. Returns (rows written, rows newly marked)."""
    target = qualified(shape.table, schema)
    col_list = _columns(shape.columns)
    if spool.rows.get(shape.table):
        conn.execute(f"CREATE OR REPLACE TEMP TABLE stg_child AS {_winning_children_sql(spool, shape)}")
    else:
        conn.execute(f"CREATE OR REPLACE TEMP TABLE stg_child AS SELECT {col_list} FROM {target} LIMIT 0")
    same = _on(shape.key[1:], "s", "t")
    marked = conn.execute(
        load("merge/mark_children", target=target, parent_key=q(shape.key[1]), same_element=same), [stamp, tenant]
    ).fetchone()[0]
    conn.execute(f"DELETE FROM {target} t USING stg_child s WHERE t.tenant_id = ? AND {same}", [tenant])
    written = conn.execute(f"INSERT INTO {target} ({col_list}) SELECT {col_list} FROM stg_child").fetchone()[0]
    return written, marked
