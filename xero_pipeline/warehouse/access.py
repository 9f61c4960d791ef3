"""Which endpoints Xero will not serve to this app, per tenant: ``pipeline.endpoint_access``.

A 401 ``AuthorizationUnsuccessful`` (a scope or tier the app lacks) is kept here with the
scopes the token granted at the time, so a later sync asks Xero again only when the
refusal is due for a recheck or the grant changed (``sync.access``), and the ledger views
can say why they are empty for a tenant (``ledger.sources``). Kept beside the data, in
schema ``pipeline`` like the sync state, so it is true of the file it is in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from xero_pipeline.warehouse.connection import Connection, in_transaction
from xero_pipeline.warehouse.names import q, qualified
from xero_pipeline.warehouse.sql import load
from xero_pipeline.warehouse.sync_state import STATE, STATE_SCHEMA, STATE_TABLE
from xero_pipeline.warehouse.tables import primary_key, table_exists

ACCESS_TABLE = "endpoint_access"
ACCESS = qualified(ACCESS_TABLE, STATE_SCHEMA)


@dataclass(frozen=True)
class Refusal:
    """Xero's standing refusal of one object (or report) to this app for one tenant."""

    tenant_id: str
    object: str  # the object's or report's table in schema xero
    endpoint: str  # the Xero path, for people
    scope: str  # the scope that would unlock it
    http_status: int | None  # None: not asked, the token's scopes showed it missing
    reason: str
    granted_scopes: frozenset[str] | None  # what the token granted when refused; None: unknown
    unavailable_since: datetime
    checked_at: datetime
    next_check: datetime


def ensure_access_table(conn: Connection) -> None:
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {q(STATE_SCHEMA)}")
    conn.execute(load("access/create_table", table=ACCESS, primary_key=primary_key(conn, "tenant_id", "object")))


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC)


def read_refusal(conn: Connection, tenant_id: str, obj: str) -> Refusal | None:
    if not table_exists(conn, ACCESS_TABLE, STATE_SCHEMA):
        return None
    row = conn.execute(load("access/read", table=ACCESS), [tenant_id, obj]).fetchone()
    if row is None:
        return None
    endpoint, scope, status, reason, granted, since, checked, next_check = row
    return Refusal(tenant_id, obj, endpoint, scope, status, reason,
                   frozenset(granted.split()) if granted is not None else None,
                   _aware(since), _aware(checked), _aware(next_check))


def record_refusal(conn: Connection, refusal: Refusal) -> Refusal:
    """Record ``refusal`` (keeping the date a standing one began) and drop the object's sync
    state, so the first sync once Xero serves it reads it whole. Returns what is on record."""
    def write() -> None:
        ensure_access_table(conn)
        granted = " ".join(sorted(refusal.granted_scopes)) if refusal.granted_scopes is not None else None
        conn.execute(load("access/write", table=ACCESS), [
            refusal.tenant_id, refusal.object, refusal.endpoint, refusal.scope, refusal.http_status, refusal.reason,
            granted, _naive(refusal.unavailable_since), _naive(refusal.checked_at), _naive(refusal.next_check),
        ])
        if table_exists(conn, STATE_TABLE, STATE_SCHEMA):
            conn.execute(load("access/delete", table=STATE), [refusal.tenant_id, refusal.object])

    in_transaction(conn, write)
    return read_refusal(conn, refusal.tenant_id, refusal.object) or refusal


def clear_refusal(conn: Connection, tenant_id: str, obj: str) -> bool:
    """Xero served the object: forget its refusal. Returns whether there was one."""
    if read_refusal(conn, tenant_id, obj) is None:
        return False
    conn.execute(load("access/delete", table=ACCESS), [tenant_id, obj])
    return True
