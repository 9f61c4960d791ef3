"""The push: pending outbox rows of one object to Xero, each row ending with one outcome.

For each tenant, in this order:

1. Requests left in flight by an earlier push (recorded as sent, answer never recorded:
   the process died, or Xero stayed unreachable) are settled first. Within Xero's
   idempotency window they are sent again, byte for byte, with their recorded key: Xero
   replays its first answer if it had one, or processes the request now if it never
   arrived, so nothing is written twice. Past the window Xero would take a replay for a
   new request, so the rows are *not* sent again: each gets the outcome ``unconfirmed``,
   naming the key and the time, for the user to look the record up in Xero and set
   ``retry`` if it is not there. (Looking the record up automatically would need a field
   every object can be found by, which Xero does not offer: contacts and items have no
   reference, and references need not be unique.)
2. Pending rows are checked (``batching.check_row``) and rows for tenants the app is not
   connected to are refused; each refused row gets the outcome ``rejected`` at once.
3. The rest go in requests of at most ``max_elements`` and 3.5 MB, PUT for creates and
   POST for updates. Each request and its rows are recorded as ``sending`` in one
   transaction before it is sent (``REQUESTS_PER_SESSION`` at a time), and every row's outcome in another after the answer
   (in the session that records the next requests):
   ``written`` with the record's id, or ``invalid`` with Xero's validation errors verbatim
   (the other elements of the batch are written all the same).

A request Xero refuses whole (a 4xx) gives its rows ``rejected`` with Xero's message; a
request certainly never processed (a 429, the day's budget, a token refused) is withdrawn
and its rows stay pending; one whose fate is unknown (retries exhausted) stays in flight
for the next push. Nothing here knows Dagster.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Collection
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from xero_pipeline.errors import (
    XeroApiError,
    XeroAuthError,
    XeroBudgetReached,
    XeroDailyLimitError,
    XeroPipelineError,
    XeroRequestError,
)
from xero_pipeline.registry import XeroObject
from xero_pipeline.sync.batching import batches, check_row, idempotency_key, request_body
from xero_pipeline.warehouse import writeback as wb
from xero_pipeline.warehouse.connection import Connection
from xero_pipeline.xero.client import XeroClient
from xero_pipeline.xero.writes import ElementResult, send_batch

log = logging.getLogger("xero_pipeline.sync.push")

Connect = Callable[[], AbstractContextManager[Connection]]
# Xero caches an idempotent answer for 6 minutes from the first call; a replay is only
# trusted well inside that (5 minutes), since the clocks of two machines are involved.
DEFAULT_IDEMPOTENCY_WINDOW = 300.0
# Requests recorded in flight per warehouse session. The sessions of every tenant's push
# take turns on the one DuckDB file (~0.1 s each on a busy 2-core machine), so one per
# request would bound all tenants together to ~10 requests a second; a crash leaves at
# most this many in flight, each settled by the next push.
REQUESTS_PER_SESSION = 5
_NOT_PROCESSED = (XeroBudgetReached, XeroDailyLimitError, XeroRequestError, XeroAuthError)


@dataclass
class PushReport:
    """What one push of one object did."""

    table: str
    outcomes: dict[str, int] = field(default_factory=dict)  # status -> rows
    replayed: int = 0  # requests left in flight and sent again with their key
    written_tenants: set[str] = field(default_factory=set)  # tenants whose read asset should refresh
    stopped: dict[str, str] = field(default_factory=dict)  # tenant -> why its push stopped early
    sent: list[tuple[datetime, int]] = field(default_factory=list)  # (when, elements) of each request sent

    def add(self, status: str, count: int = 1) -> None:
        self.outcomes[status] = self.outcomes.get(status, 0) + count


def push_object(client: XeroClient, connect: Connect, obj: XeroObject, *, connected: Collection[str],
                tenant_id: str | None = None, window_seconds: float = DEFAULT_IDEMPOTENCY_WINDOW,
                keep: int | None = None, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> PushReport:
    """Push ``obj``'s outbox (one tenant's rows, or every tenant's)."""
    if obj.writes is None:
        raise ValueError(f"{obj.table} is read only: the registry declares no writes for it")
    report = PushReport(obj.table)
    with connect() as conn:
        wb.ensure_tables(conn, [obj])
        stale = wb.in_flight(conn, obj, tenant_id=tenant_id)
    pusher = _Pusher(client, connect, obj, report, keep=keep, now=now)
    try:
        _push(pusher, connect, obj, stale, connected=connected, tenant_id=tenant_id, window_seconds=window_seconds,
              now=now)
    finally:
        pusher.flush()  # answers not yet recorded (an error stopped the push): recorded now
    return report


def _push(pusher: _Pusher, connect: Connect, obj: XeroObject, stale: list[wb.Request], *, connected: Collection[str],
          tenant_id: str | None, window_seconds: float, now: Callable[[], datetime]) -> None:
    report = pusher.report
    for request in stale:
        if request.tenant_id in report.stopped:
            continue
        age = now() - request.sent_at.replace(tzinfo=UTC)
        if age > timedelta(seconds=window_seconds):
            message = (f"sent at {request.sent_at:%Y-%m-%d %H:%M:%S} UTC with Idempotency-Key {request.key}, and the "
                       "answer was lost; Xero's idempotency cache has expired, so it was not sent again. Look for the "
                       "record in Xero; if it is not there, set retry on the row.")
            pusher.settle(request, [wb.Outcome(wb.UNCONFIRMED, message=message)] * len(request.rows), "unconfirmed")
            continue
        report.replayed += 1
        pusher.send(request)
    with connect() as conn:
        rows = wb.pending(conn, obj, tenant_id=tenant_id)
        if tenant_id is not None:
            # A tenant's push also settles rows no tenant's push would ever send: those of
            # tenants the app is not connected to get their `rejected` outcome here.
            rows += [r for r in wb.pending(conn, obj) if r.tenant_id not in connected and r.tenant_id != tenant_id]
    refused, ready = [], []
    for row in rows:
        method, problem = check_row(obj, row.payload)
        if problem is None and row.tenant_id not in connected:
            problem = (f"tenant {row.tenant_id} is not connected to this Xero app (GET /connections): connect it "
                       "with `xero-pipeline auth`, or fix the row's tenant_id, then set retry")
        if problem is not None:
            refused.append((row, problem))
        elif row.tenant_id not in report.stopped:
            ready.append((row, method))
    if refused:
        with connect() as conn:
            wb.record_rejected(conn, obj, refused, at=now())
        report.add(wb.REJECTED, len(refused))
    groups: dict[tuple[str, str], list[wb.OutboxRow]] = {}
    for row, method in ready:
        groups.setdefault((row.tenant_id, method), []).append(row)
    max_elements = obj.writes.max_elements if obj.writes else 1
    for (tenant, method), members in groups.items():
        payloads = [r.payload or "" for r in members]
        requests = []
        for part in batches(payloads, max_elements=max_elements):
            pairs = tuple((members[i].request_id, members[i].attempt) for i in part)
            requests.append(wb.Request(idempotency_key(tenant_id=tenant, table=obj.table, method=method, rows=pairs),
                                       tenant, method, request_body(obj, [payloads[i] for i in part]), pairs,
                                       sent_at=now()))
        for start in range(0, len(requests), REQUESTS_PER_SESSION):
            if tenant in report.stopped:
                break
            at = now()
            group = [dataclasses.replace(r, sent_at=at) for r in requests[start:start + REQUESTS_PER_SESSION]]
            with connect() as conn:
                # One session for several requests: the answers kept so far, then these in flight.
                pusher.flush(conn)
                for request in group:
                    wb.record_sending(conn, obj, request)
            for i, request in enumerate(group):
                if tenant in report.stopped:  # recorded but never sent: pending again
                    with connect() as conn:
                        for unsent in group[i:]:
                            wb.withdraw(conn, obj, unsent)
                    break
                pusher.send(request)


class _Pusher:
    def __init__(self, client: XeroClient, connect: Connect, obj: XeroObject, report: PushReport, *,
                 keep: int | None, now: Callable[[], datetime]) -> None:
        self.client, self.connect, self.obj, self.report, self.keep, self.now = client, connect, obj, report, keep, now
        self.answered: list[tuple[wb.Request, list[wb.Outcome], str, datetime]] = []

    def flush(self, conn: Connection | None = None) -> None:
        """Record the answers kept by ``settle``, each request in its own transaction."""
        if not self.answered:
            return
        if conn is None:
            with self.connect() as own:
                self.flush(own)
            return
        while self.answered:
            request, outcomes, summary, at = self.answered[0]
            wb.record_outcomes(conn, self.obj, request, outcomes, at=at, summary=summary)
            self.answered.pop(0)

    def send(self, request: wb.Request) -> None:
        self.report.sent.append((self.now(), len(request.rows)))
        try:
            results = send_batch(self.client, self.obj, tenant_id=request.tenant_id, method=request.method,
                                 body=request.body.encode(), key=request.key, count=len(request.rows), keep=self.keep)
        except _NOT_PROCESSED as exc:
            with self.connect() as conn:
                wb.withdraw(conn, self.obj, request)
            self.report.stopped[request.tenant_id] = str(exc)
            return
        except XeroApiError as exc:
            if exc.status == 200:  # an answer that does not fit the request: Xero's cache would repeat it
                outcome = wb.Outcome(wb.UNCONFIRMED, message=f"{exc}; look for the record in Xero, then set retry")
            else:  # Xero refused the whole request: none of its elements was written
                outcome = wb.Outcome(wb.REJECTED, message=str(exc))
            self.settle(request, [outcome] * len(request.rows), f"HTTP {exc.status}")
            return
        except XeroPipelineError as exc:
            # Retries exhausted, the answer unknown: the request stays in flight and the
            # next push settles it with the same key.
            log.warning("%s: request %s left in flight: %s", self.obj.table, request.key, exc)
            self.report.stopped[request.tenant_id] = str(exc)
            return
        self.settle(request, [_outcome(r) for r in results], "answered")

    def settle(self, request: wb.Request, outcomes: list[wb.Outcome], summary: str) -> None:
        """Keep the outcomes for the next session (``flush``): the answer is safe meanwhile,
        since a push that dies first replays the request and Xero answers the same."""
        self.answered.append((request, outcomes, summary, self.now()))
        for o in outcomes:
            self.report.add(o.status)
            if o.status == wb.WRITTEN:
                self.report.written_tenants.add(request.tenant_id)


def _outcome(result: ElementResult) -> wb.Outcome:
    if not result.written:
        message = "; ".join(result.errors) or "Xero refused the element without a message"
        return wb.Outcome(wb.INVALID, result.status, None, result.errors, result.warnings, message)
    if not result.xero_id:
        return wb.Outcome(wb.UNCONFIRMED, result.status, None, (), result.warnings,
                          "Xero answered OK without the record's id: look for the record in Xero")
    return wb.Outcome(wb.WRITTEN, result.status, result.xero_id, (), result.warnings)
