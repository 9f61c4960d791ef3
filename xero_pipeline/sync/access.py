"""Whether to ask Xero for an object it has refused to this app (no Dagster).

Xero answers 401 ``AuthorizationUnsuccessful`` to an app without an endpoint's scope or
tier: Journals below the Advanced tier, classic expenses for apps created since March
2026 (fact sheet §7). Asking again tomorrow gets the same answer and spends a call of
the tenant's daily budget, so a refusal is kept in the warehouse (``warehouse.access``)
and the object is asked for again only when

* the recheck is due (``recheck`` after the last refusal: a tier bought, an app approved),
* or the access token's granted scopes differ from those the refusal was recorded with
  (the user re-authorised with other scopes).

When the token's scopes are known and lack the object's scope, Xero is not asked at all.
When the token does not say (an opaque token), only the recheck applies.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from xero_pipeline.errors import XeroApiError
from xero_pipeline.registry import XeroObject, XeroReport
from xero_pipeline.warehouse.access import Refusal, clear_refusal, read_refusal, record_refusal
from xero_pipeline.warehouse.connection import Connection
from xero_pipeline.warehouse.sync_state import held_rows
from xero_pipeline.xero.scopes import covers

DEFAULT_RECHECK_DAYS = 7


@dataclass(frozen=True)
class Endpoint:
    """An object or report as far as access goes."""

    table: str  # its table in schema xero, the key of its refusal
    path: str  # Xero's path
    scope: str  # the read scope Xero checks
    gated: str = ""  # why Xero may withhold it whatever the scopes (a tier, an app's age)
    report: bool = False  # a report's table is a snapshot, without _deleted_at

    @classmethod
    def of_object(cls, obj: XeroObject) -> Endpoint:
        return cls(obj.table, obj.path, obj.scope, obj.gated)

    @classmethod
    def of_report(cls, report: XeroReport) -> Endpoint:
        return cls(report.table, f"Reports/{report.name}", report.scope, report=True)


@dataclass(frozen=True)
class Unavailable:
    """An object this app may not read for the tenant now, and why."""

    refusal: Refusal
    asked: bool  # this sync asked Xero (one call) and was refused
    held_rows: int | None  # the tenant's live rows the warehouse still holds (None: a report)

    @property
    def reason(self) -> str:
        return self.refusal.reason


class NotAvailable(Exception):  # noqa: N818 - an outcome, not an error
    """The object is not available to this app; raised by ``sync_object`` before or instead of a read."""

    def __init__(self, gone: Unavailable) -> None:
        super().__init__(gone.reason)
        self.gone = gone


def is_refusal(exc: XeroApiError) -> bool:
    """Xero's answer to an app without the endpoint's scope or tier (fact sheet §3, §7)."""
    return exc.status == 401 and "AuthorizationUnsuccessful" in exc.xero_message


def refused_reason(endpoint: Endpoint) -> str:
    text = (f"Xero refused {endpoint.path} to this app (401 AuthorizationUnsuccessful): it needs the scope "
            f"{endpoint.scope}")
    if endpoint.gated:
        text += f" and a Xero tier or app that includes it ({endpoint.gated})"
    return text


def missing_scope_reason(endpoint: Endpoint) -> str:
    return (f"the app's access token does not grant the scope {endpoint.scope}, which {endpoint.path} needs; add "
            "the scope to the app and run `xero-pipeline auth` again")


class AccessGate:
    """One tenant's refusals: consulted before an object's sync, updated after it."""

    def __init__(
        self,
        *,
        connect: Callable[[], AbstractContextManager[Connection]],
        tenant_id: str,
        granted: frozenset[str] | None,
        recheck: timedelta = timedelta(days=DEFAULT_RECHECK_DAYS),
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._connect = connect
        self.tenant_id = tenant_id
        self.granted = granted
        self._recheck = recheck
        self._now = now
        self.had_refusal = False  # before() found a refusal on record (to clear once Xero serves)

    def before(self, endpoint: Endpoint, *, conn: Connection | None = None) -> Unavailable | None:
        """None: ask Xero. Otherwise the object is unavailable and no call is to be made.

        ``conn``: an open warehouse connection to use (the sync's first look), else one is opened.
        """
        if conn is None:
            with self._connect() as opened:
                return self.before(endpoint, conn=opened)
        now = self._now()
        known = read_refusal(conn, self.tenant_id, endpoint.table)
        self.had_refusal = known is not None
        if self.granted is not None and not covers(self.granted, endpoint.scope):
            since = known.unavailable_since if known else now
            record = self._refusal(endpoint, status=None, reason=missing_scope_reason(endpoint), since=since)
            return Unavailable(record_refusal(conn, record), False, self._held(conn, endpoint))
        if known is None:
            return None
        if self.granted is not None and self.granted != known.granted_scopes:
            return None  # the grant changed since the refusal: Xero may answer otherwise
        if now >= known.next_check:
            return None
        return Unavailable(known, False, self._held(conn, endpoint))

    def refused(self, endpoint: Endpoint) -> Unavailable:
        """Xero just refused ``endpoint`` (401 AuthorizationUnsuccessful)."""
        record = self._refusal(endpoint, status=401, reason=refused_reason(endpoint), since=self._now())
        with self._connect() as conn:
            return Unavailable(record_refusal(conn, record), True, self._held(conn, endpoint))

    def served(self, endpoint: Endpoint, *, conn: Connection | None = None) -> bool:
        """Xero served ``endpoint``: forget any refusal. Returns whether there was one.

        ``conn``: the transaction of the merge that Xero's answer went into, so the
        refusal is forgotten exactly when the rows it kept out arrive.
        """
        if conn is None:
            with self._connect() as opened:
                return clear_refusal(opened, self.tenant_id, endpoint.table)
        return clear_refusal(conn, self.tenant_id, endpoint.table)

    def _refusal(self, endpoint: Endpoint, *, status: int | None, reason: str, since: datetime) -> Refusal:
        now = self._now()
        return Refusal(self.tenant_id, endpoint.table, endpoint.path, endpoint.scope, status, reason, self.granted,
                       since, now, now + self._recheck)

    def _held(self, conn: Connection, endpoint: Endpoint) -> int | None:
        return None if endpoint.report else held_rows(conn, self.tenant_id, endpoint.table) or 0
