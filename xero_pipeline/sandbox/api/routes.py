"""URL routing for the sandbox, and the identity service's HTTP endpoints.

One server answers for both of Xero's hosts: ``api.xero.com`` (``/api.xro/2.0/...``,
``/connections``) and ``identity.xero.com``/``login.xero.com`` (``/connect/token``,
``/connect/revocation``, ``/identity/connect/authorize``), plus the sandbox's own
controls under ``/_sandbox/``. Path matching is case-insensitive, as Xero's is.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from xero_pipeline.sandbox.api import render
from xero_pipeline.sandbox.api.accounting import AccountingApi
from xero_pipeline.sandbox.api.faults import Faults, Stats
from xero_pipeline.sandbox.api.wire import (
    JSON,
    Request,
    Response,
    json_response,
    not_found,
    text_response,
)
from xero_pipeline.sandbox.identity.service import Identity, OAuthError

if TYPE_CHECKING:
    from xero_pipeline.sandbox.app import Sandbox

_AUTHORIZE = ("/identity/connect/authorize", "/connect/authorize")
_NO_STORE = {"Cache-Control": "no-store, no-cache, max-age=0", "Pragma": "no-cache"}


class Router:
    def __init__(self, *, sandbox: Sandbox, api: AccountingApi, identity: Identity, faults: Faults,
                 stats: Stats, controls: Callable[[Request], Response]) -> None:
        self.sandbox = sandbox
        self.api = api
        self.identity = identity
        self.faults = faults
        self.stats = stats
        self.controls = controls

    def dispatch(self, req: Request) -> Response:
        low = req.path.lower()
        if low.startswith("/api.xro/2.0/"):
            return self.api.handle(req)
        if low.startswith("/_sandbox/"):
            return self.controls(req)
        if low == "/connect/token" and req.method == "POST":
            return self._faulted("connect/token", self._token, req)
        if low == "/connect/revocation" and req.method == "POST":
            return self._faulted("connect/revocation", self._revoke, req)
        if low in _AUTHORIZE and req.method == "GET":
            return self._authorize(req)
        if low.rstrip("/") == "/connections" and req.method == "GET":
            return self._faulted("connections", self._connections, req)
        if low.startswith("/connections/") and req.method == "DELETE":
            return self._faulted("connections", self._delete_connection, req)
        if low == "/.well-known/openid-configuration":
            return self._discovery(req)
        return not_found()

    def _faulted(self, endpoint: str, handler: Callable[[Request], Response], req: Request) -> Response:
        fault = self.faults.before(None, endpoint)
        resp = handler(req)
        if fault is not None:
            self.stats.fault(fault.kind)
            resp = self.api._apply(fault, resp)
        self.stats.record(endpoint, None, "reset" if resp.reset else resp.status)
        return resp

    def _token(self, req: Request) -> Response:
        try:
            body = self.identity.token(req.form(), req.header("Authorization"))
        except OAuthError as e:
            return json_response(e.status, {"error": e.code}, **_NO_STORE)
        return json_response(200, body, **_NO_STORE)

    def _revoke(self, req: Request) -> Response:
        try:
            self.identity.revoke(req.form(), req.header("Authorization"))
        except OAuthError as e:
            return json_response(e.status, {"error": e.code})
        return Response(200, b"", None)

    def _authorize(self, req: Request) -> Response:
        params = {k: v[0] for k, v in req.query.items()}
        try:
            location = self.identity.authorize(params)
        except OAuthError as e:
            return text_response(400, f"Sorry, something went wrong: {e.code}")
        return Response(302, b"", None, {"Location": location})

    def _bearer(self, req: Request) -> Response | object:
        token = self.identity.authenticate(req.header("Authorization"))
        if isinstance(token, str):
            return Response(401, render.problem(401, "Unauthorized", token, str(uuid.uuid4())), JSON)
        return token

    def _connections(self, req: Request) -> Response:
        token = self._bearer(req)
        if isinstance(token, Response):
            return token
        return json_response(200, self.identity.connections.for_token(token, req.arg("authEventId")))

    def _delete_connection(self, req: Request) -> Response:
        token = self._bearer(req)
        if isinstance(token, Response):
            return token
        conn_id = req.path.rstrip("/").rsplit("/", 1)[-1]
        if self.identity.connections.delete(token, conn_id):
            return Response(204, b"", None)
        return not_found()

    def _discovery(self, req: Request) -> Response:
        base = f"http://{req.header('Host') or 'localhost'}"
        return json_response(200, {
            "issuer": base, "authorization_endpoint": base + _AUTHORIZE[0],
            "token_endpoint": base + "/connect/token", "revocation_endpoint": base + "/connect/revocation",
            "response_types_supported": ["code"], "code_challenge_methods_supported": ["plain", "S256"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        })
