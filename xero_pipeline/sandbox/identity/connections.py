"""Which organisations each app is connected to, as Xero's ``/connections`` lists them.

Besides organisations, the demo user may hold Xero HQ (``PRACTICE``) and Practice
Manager (``PRACTICEMANAGER``) tenants: ``/connections`` lists them with that
``tenantType``; the Accounting API has no books for them and answers 403.

A connection is per (app, tenant). Disconnecting keeps it aside, so that a reconnection
keeps its id and ``createdDateUtc`` and only gets a new ``updatedDateUtc`` and
``authEventId``, as Xero does. Connection ids are derived from the seed.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence

from xero_pipeline.sandbox.books.store import Connection, SandboxClock
from xero_pipeline.sandbox.identity.oauth import AccessToken, App, derive, xero_utc

_PRACTICE_NAMES = {"PRACTICE": "Xero HQ Practice", "PRACTICEMANAGER": "Practice Manager"}


def practice_tenants(seed: int, kinds: Sequence[str]) -> dict[str, tuple[str, str]]:
    """tenant id -> (tenantType, name) for tenants that are not organisations."""
    out = {}
    for i, kind in enumerate(kinds):
        if kind not in _PRACTICE_NAMES:
            raise ValueError(f"practices takes {' or '.join(_PRACTICE_NAMES)}, not {kind!r}")
        out[str(uuid.UUID(derive(seed, f"practice:{i}", 32)))] = (kind, f"Demo {_PRACTICE_NAMES[kind]} {i + 1}")
    return out


class Connections:
    def __init__(self, *, seed: int, clock: SandboxClock, tenants: dict[str, str], apps: tuple[App, ...],
                 lock: threading.RLock, tenant_types: dict[str, str] | None = None) -> None:
        self.tenants = dict(tenants)  # every tenant the demo user can consent to
        self.types = dict(tenant_types or {})  # tenantType when not ORGANISATION (PRACTICE ...)
        self._seed = seed
        self._clock = clock
        self._apps = apps  # the first is the one connect() uses by default
        self._lock = lock

    def connect(self, tenant_id: str, *, name: str | None = None, app: App | None = None,
                auth_event_id: str | None = None) -> Connection:
        """(Re)connect a tenant; a reconnection keeps its id and creation date, like Xero."""
        app = app or self._apps[0]
        with self._lock:
            if name is not None:
                self.tenants[tenant_id] = name
            now = self._clock.now()
            event = auth_event_id or str(uuid.uuid4())
            conn = app.connections.get(tenant_id)
            if conn is not None:
                return conn
            conn = app.former.pop(tenant_id, None)
            if conn is not None:
                conn.updated, conn.auth_event_id = now, event
            else:
                conn_id = str(uuid.UUID(derive(self._seed, f"conn:{app.client_id}:{tenant_id}", 32)))
                conn = Connection(conn_id, tenant_id, self.tenants.get(tenant_id, tenant_id), now, now, event,
                                  self.types.get(tenant_id, "ORGANISATION"))
            app.connections[tenant_id] = conn
            return conn

    def disconnect(self, tenant_id: str, *, app: App | None = None) -> bool:
        with self._lock:
            apps = [app] if app else list(self._apps)
            found = False
            for a in apps:
                conn = a.connections.pop(tenant_id, None)
                if conn is not None:
                    a.former[tenant_id] = conn
                    found = True
            return found

    def for_token(self, token: AccessToken, auth_event_id: str | None = None) -> list[dict]:
        """``GET /connections`` (optionally ``?authEventId=``) for the token's app."""
        with self._lock:
            conns = list(token.app.connections.values())
        return [
            {"id": c.id, "authEventId": c.auth_event_id, "tenantId": c.tenant_id, "tenantType": c.tenant_type,
             "tenantName": c.tenant_name, "createdDateUtc": xero_utc(c.created),
             "updatedDateUtc": xero_utc(c.updated)}
            for c in conns if auth_event_id is None or c.auth_event_id.lower() == auth_event_id.lower()
        ]

    def delete(self, token: AccessToken, connection_id: str) -> bool:
        """``DELETE /connections/{id}``: disconnects that tenant from the token's app."""
        with self._lock:
            for tid, c in list(token.app.connections.items()):
                if c.id.lower() == connection_id.lower():
                    return self.disconnect(tid, app=token.app)
        return False

    def allowed(self, token: AccessToken, tenant_id: str) -> bool:
        if token.tenant_id is not None and token.tenant_id != tenant_id:
            return False
        return tenant_id in token.app.connections
