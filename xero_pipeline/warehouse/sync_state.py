"""The warehouse's own record of what it holds: one sync state per (tenant, object).

The Dagster instance keeps each partition's cursor in its materialization metadata,
but the instance and the warehouse file can part ways: the file deleted, moved
(``XERO_WAREHOUSE`` pointed elsewhere) or restored from an older copy while
``DAGSTER_HOME`` stays. A cursor only means something for the rows it describes, so the
state is kept beside those rows and written in the same transaction as the merge it
describes (``merge.merge(state=...)``): whatever copy of the file a sync finds, its
state is true of that copy.

It lives in its own schema, ``pipeline``, not in ``xero``: it is the pipeline's
bookkeeping, not Xero data, and a user listing or querying ``xero.*`` (or a tool that
exports every table of that schema) should see only Xero's objects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from xero_pipeline.warehouse.connection import Connection, in_transaction
from xero_pipeline.warehouse.names import q, qualified
from xero_pipeline.warehouse.sql import load
from xero_pipeline.warehouse.tables import primary_key, table_exists

STATE_SCHEMA = "pipeline"
STATE_TABLE = "sync_state"
STATE = qualified(STATE_TABLE, STATE_SCHEMA)
PARTIAL = "partial"  # sync_mode of a state written by a checkpoint of an unfinished read (sync.checkpoints)
PARKING_TABLE = "tenant_parking"
PARKING = qualified(PARKING_TABLE, STATE_SCHEMA)


@dataclass(frozen=True)
class SyncState:
    """What one committed merge left for one tenant and object."""

    tenant_id: str
    object: str  # the object's table in schema xero (``invoices``)
    cursor: str | None  # the cursor that merge stands for; None for objects read whole
    row_count: int = 0  # the tenant's live rows of the table afterwards
    sync_mode: str = ""  # full, incremental or snapshot
    updated_at: datetime | None = None
    # Progress of a long read that has not reached its merge yet (None once merged).
    checkpoint: dict[str, Any] | None = None
    full_read_at: datetime | None = None  # the last read of the whole collection (see sync.reconcile)


def ensure_state_table(conn: Connection) -> None:
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {q(STATE_SCHEMA)}")
    conn.execute(load("state/create_table", table=STATE, primary_key=primary_key(conn, "tenant_id", "object")))


def write_state(conn: Connection, state: SyncState) -> None:
    """Record ``state``; the caller's transaction makes it commit with its merge."""
    ensure_state_table(conn)
    stamp = state.updated_at.replace(tzinfo=None) if state.updated_at else None
    checkpoint = json.dumps(state.checkpoint) if state.checkpoint is not None else None
    full = state.full_read_at.replace(tzinfo=None) if state.full_read_at else None
    conn.execute(load("state/write", table=STATE), [
        state.tenant_id, state.object, state.cursor, state.row_count, state.sync_mode, stamp, checkpoint, full,
    ])


def read_state(conn: Connection, tenant_id: str, table: str) -> SyncState | None:
    """The state of ``table`` for the tenant; None when this warehouse has none."""
    if not table_exists(conn, STATE_TABLE, STATE_SCHEMA):
        return None
    row = conn.execute(load("state/read", table=STATE), [tenant_id, table]).fetchone()
    if row is None:
        return None
    cursor, row_count, mode, updated_at, checkpoint, full_read_at = row
    return SyncState(tenant_id, table, cursor, row_count, mode, updated_at,
                     json.loads(checkpoint) if checkpoint is not None else None,
                     full_read_at.replace(tzinfo=UTC) if full_read_at else None)


def held_rows(conn: Connection, tenant_id: str, table: str) -> int | None:
    """The tenant's live rows of ``xero.<table>`` now; None when the table does not exist."""
    if not table_exists(conn, table):
        return None
    return conn.execute(load("state/held_rows", table=qualified(table)), [tenant_id]).fetchone()[0]


def park_tenant(conn: Connection, tenant_id: str, until: datetime, *, now: datetime) -> None:
    """Record that Xero refuses the tenant's calls until ``until`` (its day limit is spent)."""
    def write() -> None:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {q(STATE_SCHEMA)}")
        conn.execute(load("state/create_parking", table=PARKING, primary_key=primary_key(conn, "tenant_id")))
        conn.execute(load("state/park", table=PARKING),
                     [tenant_id, until.astimezone(UTC).replace(tzinfo=None), now.astimezone(UTC).replace(tzinfo=None)])

    in_transaction(conn, write)


def parked_until(conn: Connection, tenant_id: str, *, now: datetime) -> datetime | None:
    """When Xero takes the tenant's calls again, if that is after ``now``."""
    if not table_exists(conn, PARKING_TABLE, STATE_SCHEMA):
        return None
    row = conn.execute(f"SELECT parked_until FROM {PARKING} WHERE tenant_id = ?", [tenant_id]).fetchone()
    until = row[0].replace(tzinfo=UTC) if row else None
    return until if until is not None and until > now else None
