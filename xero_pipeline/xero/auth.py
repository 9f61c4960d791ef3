"""OAuth tokens for Xero: a durable token store and the refresh that rotates them.

Xero refresh tokens are single-use: every refresh returns a new one, and the old one is
accepted again only for a 30-minute grace period. Losing the new one means a person
must re-authorise, which is exactly what breaks most connectors in production. So:

* the token store is a file we own (``XERO_TOKEN_STORE``), written to a temporary file,
  fsynced and atomically renamed, with permissions 0600;
* a refresh happens under an exclusive cross-process lock on ``<store>.lock``; whoever
  gets the lock re-reads the store and only refreshes if the access token there is
  stale, so concurrent processes reuse one refresh instead of spending one token twice;
* the rotated refresh token is saved before the new access token is handed out; if the
  save fails, or the process dies first, the store still holds the previous token,
  which Xero accepts again within the grace period, so the next attempt recovers;
* a lost or broken token response is retried with the same refresh token, for the same
  reason;
* the store records how it was obtained (``grant``): ``authorization_code`` (written by
  ``xero-pipeline auth`` or seeded from ``XERO_REFRESH_TOKEN``) refreshes, and
  ``client_credentials`` is a custom connection. ``XERO_REFRESH_TOKEN`` only seeds the
  store, which keeps its digest (``seed``, never the value), also across ``auth``: the
  variable wins only when it differs from that digest (set anew after re-authorising),
  never as a daemon's spent leftover over a store ``auth`` renewed in another shell. A
  variable the store never saw that Xero refuses falls back to the store's own token.

A Web app authenticates with its client secret in a Basic header. A "Mobile or desktop
app" (Xero's Auth Code with PKCE) has no secret: ``client_secret=None`` sends
``client_id`` in the form body instead, and no Authorization header, on every token
request; its refresh tokens rotate exactly as a Web app's do.

Every token and the client secret are registered with ``errors.register_secret`` and
never put in a log line or an exception message.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import random
import threading
import time
from typing import Any

import requests

from xero_pipeline.errors import XeroAuthError, redact, register_secret
from xero_pipeline.xero.scopes import token_scopes
from xero_pipeline.xero.token_errors import INVALID_GRANT, NO_REFRESH_TOKEN, REAUTHORISE, Rejected, rejection
from xero_pipeline.xero.token_store import TokenStorage, TokenStore

__all__ = ["GRANT_AUTHORIZATION_CODE", "GRANT_CLIENT_CREDENTIALS", "TokenManager", "TokenStore"]

log = logging.getLogger("xero_pipeline.xero.auth")

GRANT_AUTHORIZATION_CODE = "authorization_code"
GRANT_CLIENT_CREDENTIALS = "client_credentials"
REFRESH_MARGIN_SECONDS = 120  # refresh this long before expiry; a long page must not outlive its token
GRACE_MINUTES = 30
_TRANSIENT = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


def _fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


class TokenManager:
    """Hands out a valid access token, refreshing (and rotating) when needed."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str | None,
        refresh_token: str | None,
        identity_url: str,
        store: TokenStorage,
        session: requests.Session | None = None,
        timeout: float = 30.0,
        max_retries: int = 4,
        backoff_seconds: float = 0.5,
    ) -> None:
        register_secret(client_secret)
        register_secret(refresh_token)
        self._client_id = client_id
        self._client_secret = client_secret or None
        self._seed = refresh_token or None
        self.token_url = identity_url.rstrip("/") + "/connect/token"
        self._store = store
        self._session = session or requests.Session()
        self._timeout = timeout
        self._max_retries = max_retries
        self._backoff = backoff_seconds
        self._cached: dict[str, Any] = {}
        self._lock = threading.RLock()
        self._dead_token: str | None = None  # a refresh token Xero rejected: never sent again
        self._fatal: str | None = None  # the client itself was rejected
        self.refreshes = 0

    @property
    def store(self) -> TokenStorage:
        return self._store

    @property
    def custom_connection(self) -> bool:
        """No refresh token anywhere: Xero's client-credentials grant (one organisation)."""
        data = self._store.load()
        return (self._client_secret is not None and self._seed is None
                and not (self._belongs(data) and data.get("refresh_token")))

    def access_token(self) -> str:
        with self._lock:
            if self._fresh(self._cached):
                return self._cached["access_token"]
            if self._fatal:
                raise XeroAuthError(self._fatal)
            with self._store.locked():
                data = self._store.load()
                if self._belongs(data) and not self._stale_seed(data) and self._fresh(data):
                    self._cached = data  # another process refreshed while we waited
                else:
                    self._cached = self._refresh(data)
            return self._cached["access_token"]

    def granted_scopes(self) -> frozenset[str] | None:
        """The scopes the current access token grants (its JWT ``scope`` claim); None: unknown."""
        return token_scopes(self.access_token())

    def invalidate(self, access_token: str) -> None:
        """Xero said 401 to this token: make the next call refresh, once."""
        with self._lock, self._store.locked():
            data = self._store.load()
            if data.get("access_token") == access_token:
                data["expires_at"] = 0
                self._store.save(data)
            self._cached = {}

    def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str) -> dict[str, Any]:
        """The authorization-code grant (``xero-pipeline auth``): tokens saved to the store."""
        register_secret(code)
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                "code_verifier": code_verifier}
        with self._lock, self._store.locked():
            try:
                previous = self._store.load()
            except XeroAuthError:
                previous = {}  # a broken store is what auth is run to repair
            # Only the seed digest carries over: which variable the store already absorbed.
            kept = {"seed": previous.get("seed")} if self._belongs(previous) else {}
            sent_at = time.time()
            # Codes are single-use: a retry after a lost response could only be refused.
            body = self._post(form, retries=0, what="the authorisation code")
            record = self._record(body, kept, GRANT_AUTHORIZATION_CODE, sent_at)
            self._save(record)
            self._cached, self._dead_token, self._fatal = record, None, None
            return record

    # ------------------------------------------------------------------ internals

    def _margin(self, data: dict[str, Any]) -> float:
        # Short-lived tokens (a time-scaled sandbox) get a proportional margin.
        return min(REFRESH_MARGIN_SECONDS, 0.25 * float(data.get("expires_in") or 1800))

    def _fresh(self, data: dict[str, Any]) -> bool:
        return bool(data.get("access_token")) and data.get("expires_at", 0) - time.time() > self._margin(data)

    def _belongs(self, data: dict[str, Any]) -> bool:
        return data.get("client_id") in (None, self._client_id)

    def _stale_seed(self, data: dict[str, Any]) -> bool:
        return self._seed is not None and data.get("seed") != _fingerprint(self._seed)

    def _refresh(self, data: dict[str, Any]) -> dict[str, Any]:
        foreign = not self._belongs(data)
        stored = data.get("refresh_token") if not foreign else None
        fallback = None
        if self._seed is not None and (self._stale_seed(data) or not stored):
            current, grant = self._seed, GRANT_AUTHORIZATION_CODE
            fallback = stored if stored != self._seed else None
        elif stored:
            current, grant = stored, GRANT_AUTHORIZATION_CODE
        elif foreign and data.get("refresh_token"):
            raise XeroAuthError(
                f"the token store {self._store.location} holds tokens of another Xero app (client id "
                f"{data.get('client_id')}); {REAUTHORISE}, or point XERO_TOKEN_STORE at another file"
            )
        else:
            current, grant = None, GRANT_CLIENT_CREDENTIALS
        sent_at = time.time()
        try:
            body = self._grant(current)
        except Rejected as exc:
            if exc.code != "invalid_grant" or fallback is None:
                raise XeroAuthError(str(exc)) from None
            # A variable the store never recorded (the store was rebuilt by `auth` in a shell
            # without it) and already spent: the store's token is the newer one.
            log.warning("XERO_REFRESH_TOKEN was refused (invalid_grant); using the token store's refresh "
                        "token (from `xero-pipeline auth`). Unset or update XERO_REFRESH_TOKEN.")
            sent_at = time.time()
            body = self._grant(fallback)
        new = self._record(body, data if not foreign else {}, grant, sent_at)
        # Saved before anyone uses the new access token: the old refresh token is now
        # spent, and this file is the only place the new one exists.
        self._save(new)
        self.refreshes += 1
        log.info("obtained a new Xero access token (%s grant, valid %s s)", grant, new["expires_in"])
        return new

    def _grant(self, refresh_token: str | None) -> dict[str, Any]:
        """One token request: ``refresh_token``, or client credentials when there is none."""
        if refresh_token is None:
            if self._client_secret is None:
                raise XeroAuthError(f"{NO_REFRESH_TOKEN}.")
            return self._post({"grant_type": "client_credentials"}, retries=self._max_retries, what="")
        if refresh_token == self._dead_token:
            raise Rejected("invalid_grant", INVALID_GRANT)
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        try:
            return self._post(form, retries=self._max_retries, what="the refresh token")
        except Rejected as exc:
            if exc.code == "invalid_grant":
                self._dead_token = refresh_token
            raise

    def _record(
        self, body: dict[str, Any], previous: dict[str, Any], grant: str, sent_at: float
    ) -> dict[str, Any]:
        expires_in = int(body.get("expires_in") or 1800)
        refresh_token = None
        if grant != GRANT_CLIENT_CREDENTIALS:
            refresh_token = body.get("refresh_token") or previous.get("refresh_token")
        return {
            "grant": grant,
            "client_id": self._client_id,
            "access_token": body["access_token"],
            "expires_in": expires_in,
            "expires_at": sent_at + expires_in,  # from the send time: never later than Xero's clock
            "refresh_token": refresh_token,
            "scope": body.get("scope", ""),
            "seed": _fingerprint(self._seed) if self._seed else previous.get("seed"),
            "refreshed_at": time.time(),
        }

    def _save(self, record: dict[str, Any]) -> None:
        try:
            self._store.save(record)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise XeroAuthError(
                f"could not save the new Xero tokens to {self._store.location} ({reason}). "
                f"The token store still holds the previous refresh token, which Xero accepts again for "
                f"{GRACE_MINUTES} minutes: fix the problem and run again within that time, or {REAUTHORISE}."
            ) from None

    def _post(self, form: dict[str, str], *, retries: int, what: str) -> dict[str, Any]:
        headers = {"Accept": "application/json"}
        if self._client_secret is None:
            form = {**form, "client_id": self._client_id}  # a public client names itself, nothing more
        else:
            basic = base64.b64encode(f"{self._client_id}:{self._client_secret}".encode()).decode()
            headers["Authorization"] = f"Basic {basic}"
        attempt = 0
        while True:
            try:
                resp = self._session.post(self.token_url, data=form, headers=headers, timeout=self._timeout)
            except requests.RequestException as exc:
                problem = f"{type(exc).__name__}: {redact(str(exc))[:200]}"
                transient = isinstance(exc, _TRANSIENT)
            else:
                try:
                    body = resp.json()
                except ValueError:
                    body = None
                if resp.status_code == 200 and isinstance(body, dict) and body.get("access_token"):
                    register_secret(body["access_token"])
                    register_secret(body.get("refresh_token"))
                    register_secret(body.get("id_token"))
                    return body
                if resp.status_code not in (200, 429) and resp.status_code < 500 and isinstance(body, dict):
                    refused = rejection(str(body.get("error") or "error"), resp.status_code,
                                        redact(str(body.get("error_description") or ""))[:200], what,
                                        form["grant_type"], public=self._client_secret is None)
                    if refused.fatal:
                        self._fatal = str(refused)
                    raise refused
                problem = f"HTTP {resp.status_code}" + (" with a malformed body" * (resp.status_code == 200))
                transient = resp.status_code == 200 or resp.status_code >= 500 or resp.status_code == 429
            if not transient or attempt >= retries:
                keep = (" The token store is unchanged and its refresh token stays valid at Xero for "
                        f"{GRACE_MINUTES} minutes after its first use, so the next run retries it."
                        if form["grant_type"] == "refresh_token" else "")
                raise XeroAuthError(
                    f"could not get a token from Xero's token endpoint {self.token_url} after {attempt + 1} "
                    f"attempt(s); last: {problem}.{keep}"
                )
            log.warning("token endpoint: %s; retrying (attempt %d of %d)", problem, attempt + 1, retries + 1)
            # Repeating the same refresh token is safe: Xero's grace period covers a lost response.
            time.sleep(min(self._backoff * 2**attempt, 10.0) * (0.5 + random.random() / 2))
            attempt += 1
