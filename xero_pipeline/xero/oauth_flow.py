"""``xero-pipeline auth``: authorise the app in a browser and save its tokens.

OAuth 2.0 authorization code with PKCE (S256) and a loopback redirect, as Xero expects
from an app run on the user's own machine:

1. a one-off HTTP server listens on ``http://localhost:<port>/callback`` (register that
   exact URI with the app at developer.xero.com);
2. the consent URL is printed and, where a browser can be started, opened;
3. Xero redirects the browser to the callback with a code; the ``state`` must match the
   one we sent, or the response is someone else's and is refused;
4. the code, the verifier and the redirect URI are exchanged for tokens (a Web app
   authenticates with its client secret, a "Mobile or desktop app", which has none, with
   its client id alone; see ``auth``), which go into
   the token store marked as an ``authorization_code`` grant, so later runs refresh
   from the store and need no ``XERO_REFRESH_TOKEN``;
5. the organisations now connected are listed (``xero-pipeline tenants`` lists them
   later).
"""

from __future__ import annotations

import base64
import hashlib
import os
import queue
import secrets
import threading
import webbrowser
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from xero_pipeline.config import XeroSettings
from xero_pipeline.errors import ConfigError, XeroAuthError, register_secret
from xero_pipeline.registry import OBJECTS, REPORTS
from xero_pipeline.xero import backends
from xero_pipeline.xero.auth import TokenManager
from xero_pipeline.xero.client import XeroClient

DEFAULT_AUTHORIZE_URL = "https://login.xero.com/identity/connect/authorize"
DEFAULT_PORT = 8749
# offline_access is what makes Xero issue a refresh token; the OpenID scopes identify the user.
BASE_SCOPES = ("offline_access", "openid", "profile", "email")

_PAGE = (
    "<!doctype html><meta charset='utf-8'><title>xero-pipeline</title>"
    "<body style='font-family:sans-serif'><h3>{}</h3><p>You can close this window.</p></body>"
)


def requested_scopes() -> list[str]:
    """Granular read scopes for every object and report the pipeline reads."""
    return [*BASE_SCOPES, *sorted({o.scope for o in OBJECTS} | {r.scope for r in REPORTS})]


def authorize_url_from_env() -> str:
    url = (os.environ.get("XERO_AUTHORIZE_URL") or DEFAULT_AUTHORIZE_URL).strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"XERO_AUTHORIZE_URL must be an http(s) URL such as {DEFAULT_AUTHORIZE_URL}, not {url!r}"
        )
    return url


def pkce_pair() -> tuple[str, str]:
    """A code verifier (43-128 URL-safe characters) and its S256 challenge."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class AuthResult:
    scopes: list[str]
    connections: list[dict[str, Any]]
    redirect_uri: str


class _CallbackServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int) -> None:
        super().__init__(("127.0.0.1", port), _CallbackHandler)
        self.answers: queue.Queue[dict[str, str]] = queue.Queue()


class _CallbackHandler(BaseHTTPRequestHandler):
    server: _CallbackServer

    def log_message(self, format: str, *args: object) -> None:
        pass  # the request line carries the authorisation code

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path != "/callback":
            self._answer(404, "Not found")
            return
        params = {k: v[0] for k, v in parse_qs(parts.query).items()}
        register_secret(params.get("code"))
        ok = "code" in params and "error" not in params
        if ok:
            self._answer(200, "Xero authorisation received.")
        else:
            self._answer(400, "Xero authorisation failed.")
        self.server.answers.put(params)

    def _answer(self, status: int, text: str) -> None:
        body = _PAGE.format(text).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)


def open_in_browser(url: str) -> None:
    try:
        webbrowser.open(url, new=1)
    except Exception:  # noqa: BLE001 - no browser (a server, a container): the printed URL is enough
        pass


def run_auth(
    *,
    settings: XeroSettings,
    authorize_url: str = DEFAULT_AUTHORIZE_URL,
    port: int = DEFAULT_PORT,
    scopes: Sequence[str] | None = None,
    open_browser: Callable[[str], object] | None = open_in_browser,
    timeout_seconds: float = 300.0,
    echo: Callable[[str], None] = print,
) -> AuthResult:
    """The whole consent round trip; returns the organisations now connected."""
    scopes = list(scopes or requested_scopes())
    try:
        server = _CallbackServer(port)
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on localhost port {port} for Xero's redirect ({exc.strerror}); pass --port with "
            "a free port and register http://localhost:<port>/callback as a redirect URI of the app"
        ) from None
    redirect_uri = f"http://localhost:{server.server_address[1]}/callback"
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(24)
    query = urlencode({
        "response_type": "code", "client_id": settings.client_id, "redirect_uri": redirect_uri,
        "scope": " ".join(scopes), "state": state,
        "code_challenge": challenge, "code_challenge_method": "S256",
    })
    url = f"{authorize_url}{'&' if '?' in authorize_url else '?'}{query}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        kind = ("a Web app (with its client secret)" if settings.client_secret
                else "a Mobile or desktop app (PKCE, no client secret)")
        echo(f"Authorising the Xero app {settings.client_id} as {kind}.")
        echo("Open this address in a browser to connect Xero organisations to the app:")
        echo(f"  {url}")
        echo(f"Waiting for Xero to redirect to {redirect_uri} (up to {timeout_seconds:.0f} s)...")
        if open_browser is not None:
            try:
                open_browser(url)
            except Exception:  # noqa: BLE001 - the printed URL still works
                pass
        try:
            answer = server.answers.get(timeout=timeout_seconds)
        except queue.Empty:
            raise XeroAuthError(
                f"no answer from Xero on {redirect_uri} within {timeout_seconds:.0f} s. Check that this "
                "exact redirect URI is registered with the app, then run `xero-pipeline auth` again."
            ) from None
    finally:
        server.shutdown()
        server.server_close()
    if not secrets.compare_digest(answer.get("state", ""), state):
        raise XeroAuthError(
            "the answer on the callback did not carry the state this request sent (a stale or forged "
            "redirect); nothing was saved. Run `xero-pipeline auth` again."
        )
    if "error" in answer or not answer.get("code"):
        error = answer.get("error", "no code")
        raise XeroAuthError(f"Xero did not authorise the app ({error}); nothing was saved. Run "
                            "`xero-pipeline auth` again and approve the consent screen.")
    tokens = TokenManager(
        client_id=settings.client_id, client_secret=settings.client_secret,
        refresh_token=settings.refresh_token, identity_url=settings.identity_url,
        store=backends.token_store(settings),
    )
    record = tokens.exchange_code(code=answer["code"], redirect_uri=redirect_uri, code_verifier=verifier)
    granted = record.get("scope", "").split()
    missing = [s for s in scopes if s not in granted]
    echo(f"Saved the tokens to {tokens.store.location} (granted {len(granted)} scope(s)).")
    if granted and missing:
        echo(f"Xero did not grant: {', '.join(missing)}; objects needing them will fail until it does.")
    connected = XeroClient(api_url=settings.api_url, tokens=tokens).organisations()
    connections = connected.every
    echo(f"{len(connected.organisations)} organisation(s) connected:")
    for c in connections:
        echo(f"  {connected.describe(c)}")
    return AuthResult(scopes=granted, connections=connections, redirect_uri=redirect_uri)
