"""The write-back tables in schema ``writeback``: an outbox per writable object, the
requests sent, and one outcome per attempt at an outbox row.

A push records each request (key, exact body) and its rows as ``sending`` in one
transaction *before* sending, and the outcome of every row in another *after*: a push
killed in between leaves a request without an answer, which the next push sends again,
byte for byte, with the same key (``sync.push``). Nothing here talks to Xero.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from xero_pipeline.registry import WRITABLE, XeroObject
from xero_pipeline.warehouse import lake
from xero_pipeline.warehouse.connection import Connection, in_transaction
from xero_pipeline.warehouse.names import q, qualified
from xero_pipeline.warehouse.sql import load
from xero_pipeline.warehouse.tables import primary_key, table_exists

SCHEMA = "writeback"
RESULTS = qualified("results", SCHEMA)
REQUESTS = qualified("requests", SCHEMA)
SENDING, WRITTEN, INVALID, REJECTED, UNCONFIRMED = "sending", "written", "invalid", "rejected", "unconfirmed"


def outbox(obj: XeroObject) -> str:
    return qualified(obj.table, SCHEMA)


def ensure_tables(conn: Connection, objects: Sequence[XeroObject] = WRITABLE) -> None:
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {q(SCHEMA)}")
    created_default = "" if lake.is_lake(conn) else " NOT NULL DEFAULT current_timestamp"
    for obj in objects:
        conn.execute(load("writeback/create_outbox", table=outbox(obj), created_default=created_default,
                          primary_key=primary_key(conn, "tenant_id", "request_id")))
    conn.execute(load("writeback/create_requests", table=REQUESTS, primary_key=primary_key(conn, "idempotency_key")))
    conn.execute(load("writeback/create_results", table=RESULTS,
                      primary_key=primary_key(conn, "tenant_id", "object", "request_id", "attempt")))


@dataclass(frozen=True)
class OutboxRow:
    tenant_id: str
    request_id: str
    payload: str | None  # the JSON text as stored
    attempt: int


@dataclass(frozen=True)
class Request:
    """One write request: what was (or is about to be) sent, and the rows it carries."""

    key: str
    tenant_id: str
    method: str
    body: str
    rows: tuple[tuple[str, int], ...]  # (request_id, attempt) in the order of the elements
    sent_at: datetime


@dataclass(frozen=True)
class Outcome:
    status: str  # WRITTEN, INVALID, REJECTED or UNCONFIRMED
    xero_status: str | None = None
    xero_id: str | None = None
    errors: Sequence[str] = ()
    warnings: Sequence[str] = ()
    message: str | None = None


def pending(conn: Connection, obj: XeroObject, *, tenant_id: str | None = None) -> list[OutboxRow]:
    rows = conn.execute(load("writeback/pending", outbox=outbox(obj), results=RESULTS,
                             payload="CAST(o.payload AS VARCHAR)"), [obj.table, tenant_id, tenant_id]).fetchall()
    return [OutboxRow(*r) for r in rows]


def waiting(conn: Connection, obj: XeroObject) -> dict[str, int]:
    """Tenant -> rows of ``obj``'s outbox a push would settle (pending, or in a request in flight)."""
    if not all(table_exists(conn, t, SCHEMA) for t in (obj.table, "results", "requests")):
        return {}
    out: dict[str, int] = {}
    for tenant, *_ in conn.execute(load("writeback/pending", outbox=outbox(obj), results=RESULTS, payload="NULL"),
                                   [obj.table, None, None]).fetchall():
        out[tenant] = out.get(tenant, 0) + 1
    for request in in_flight(conn, obj):
        out[request.tenant_id] = out.get(request.tenant_id, 0) + len(request.rows)
    return out


def in_flight(conn: Connection, obj: XeroObject, *, tenant_id: str | None = None) -> list[Request]:
    out = []
    for key, tenant, method, body, _count, sent_at in conn.execute(
        load("writeback/in_flight", requests=REQUESTS), [obj.table, tenant_id, tenant_id]
    ).fetchall():
        rows = conn.execute(load("writeback/request_rows", results=RESULTS), [key]).fetchall()
        out.append(Request(key, tenant, method, body, tuple((r, a) for r, a in rows), sent_at))
    return out


def record_sending(conn: Connection, obj: XeroObject, request: Request) -> None:
    """The request and its rows, in flight, in one transaction; a retried row's flag is spent."""
    naive = request.sent_at.replace(tzinfo=None)
    def write() -> None:
        conn.execute(load("writeback/insert_request", requests=REQUESTS),
                     [request.key, request.tenant_id, obj.table, request.method, request.body,
                      len(request.rows), naive])
        ids = [r for r, _ in request.rows]
        conn.execute(load("writeback/insert_sending", results=RESULTS),
                     [request.tenant_id, obj.table, request.key, request.method, naive, naive, ids,
                      [a for _, a in request.rows], list(range(len(ids)))])
        conn.execute(load("writeback/clear_retry", outbox=outbox(obj)), [request.tenant_id, ids])

    in_transaction(conn, write)


def record_outcomes(conn: Connection, obj: XeroObject, request: Request, outcomes: Sequence[Outcome],
                    *, at: datetime, summary: str) -> None:
    """Every row of ``request`` gets its outcome, and the request its answer, together."""
    if len(outcomes) != len(request.rows):
        raise ValueError(f"{len(outcomes)} outcomes for a request of {len(request.rows)} rows")
    naive = at.replace(tzinfo=None)
    def write() -> None:
        conn.execute(load("writeback/record_outcome", results=RESULTS), [
            naive, [r for r, _ in request.rows], [a for _, a in request.rows], [o.status for o in outcomes],
            [o.xero_status for o in outcomes], [o.xero_id for o in outcomes], [_json(o.errors) for o in outcomes],
            [_json(o.warnings) for o in outcomes], [o.message for o in outcomes], request.tenant_id, obj.table,
        ])
        conn.execute(load("writeback/answer_request", requests=REQUESTS), [naive, summary, request.key])

    in_transaction(conn, write)


def withdraw(conn: Connection, obj: XeroObject, request: Request) -> None:
    """Undo ``record_sending`` for a request Xero certainly never processed (refused before
    it was sent, or answered 429): its rows are pending again, a retried row's flag restored."""
    def write() -> None:
        conn.execute(load("writeback/withdraw_results", results=RESULTS), [request.key])
        conn.execute(load("writeback/withdraw_request", requests=REQUESTS), [request.key])
        for request_id, attempt in request.rows:
            if attempt > 1:
                conn.execute(load("writeback/restore_retry", outbox=outbox(obj)), [request.tenant_id, request_id])

    in_transaction(conn, write)


def record_rejected(conn: Connection, obj: XeroObject, rows: Sequence[tuple[OutboxRow, str]], *,
                    at: datetime) -> None:
    """Rows refused before any request was made (malformed, unknown tenant): one outcome each."""
    naive = at.replace(tzinfo=None)
    def write() -> None:
        for row, message in rows:
            conn.execute(load("writeback/insert_result", results=RESULTS),
                         [row.tenant_id, obj.table, row.request_id, row.attempt, None, None, REJECTED, None, None,
                          None, None, message, None, naive, None])
            conn.execute(load("writeback/clear_retry", outbox=outbox(obj)), [row.tenant_id, [row.request_id]])

    in_transaction(conn, write)


def _json(values: Sequence[str]) -> str | None:
    return json.dumps(list(values)) if values else None
