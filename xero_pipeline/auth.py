"""OAuth tokens for Xero: a durable token store and the refresh that rotates them.

Xero refresh tokens are single-use: every refresh returns a new one and the old one
dies 30 minutes later. Losing the new one means a person must re-authorise, which is
exactly what breaks most connectors in production. So:

* the token store is a file we own (``XERO_TOKEN_STORE``), written to a temporary file,
  fsynced and atomically renamed, with permissions 0600;
* a refresh happens under an exclusive cross-process lock on ``<store>.lock``; whoever
  gets the lock first re-reads the store, and only refreshes if the access token there
  is still stale, so concurrent processes reuse one refresh instead of racing;
* the rotated refresh token is saved before the new access token is handed out;
* if a refresh response is lost, the previous refresh token is still in the store and
  Xero accepts it again within its grace period, so the retry simply repeats it;
* ``XERO_REFRESH_TOKEN`` only seeds the store. If it changes (someone re-authorised and
  set a new one) it replaces what the store holds.

Custom connections have no refresh token: they use the client-credentials grant.
No token or secret is ever put in a log line or an exception message.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from xero_pipeline.errors import XeroAuthError

REFRESH_MARGIN_SECONDS = 120  # refresh this long before expiry; a long page must not outlive its token


def _fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


@dataclass
class TokenStore:
    """The JSON file that holds the current tokens, owned by the pipeline."""

    path: Path

    def load(self) -> dict[str, Any]:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except json.JSONDecodeError as exc:
            raise XeroAuthError(
                f"the token store {self.path} is not valid JSON ({exc.msg}); delete it and run "
                "`xero-pipeline auth`, or set XERO_REFRESH_TOKEN to a fresh refresh token"
            ) from None

    def save(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tokens-", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as handle:
                json.dump(data, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)  # make the rename itself durable
            finally:
                os.close(dir_fd)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @contextmanager
    def locked(self) -> Iterator[None]:
        """An exclusive lock shared by every process using this store."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


class TokenManager:
    """Hands out a valid access token, refreshing (and rotating) when needed."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        refresh_token: str | None,
        identity_url: str,
        store: TokenStore,
        session: requests.Session | None = None,
        timeout: float = 30.0,
    ) -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        self._seed = refresh_token or None
        self._token_url = identity_url.rstrip("/") + "/connect/token"
        self._store = store
        self._session = session or requests.Session()
        self._timeout = timeout
        self._cached: dict[str, Any] = {}
        self.refreshes = 0

    @property
    def custom_connection(self) -> bool:
        return self._seed is None

    def access_token(self) -> str:
        if self._fresh(self._cached):
            return self._cached["access_token"]
        with self._store.locked():
            data = self._store.load()
            if not self._stale_seed(data) and self._fresh(data):
                self._cached = data  # another process refreshed while we waited
            else:
                self._cached = self._refresh(data)
        return self._cached["access_token"]

    def invalidate(self, access_token: str) -> None:
        """Xero said 401 to this token: make the next call refresh, once."""
        with self._store.locked():
            data = self._store.load()
            if data.get("access_token") == access_token:
                data["expires_at"] = 0
                self._store.save(data)
        self._cached = {}

    def _fresh(self, data: dict[str, Any]) -> bool:
        return bool(data.get("access_token")) and data.get("expires_at", 0) - time.time() > REFRESH_MARGIN_SECONDS

    def _stale_seed(self, data: dict[str, Any]) -> bool:
        return self._seed is not None and data.get("seed") != _fingerprint(self._seed)

    def _refresh(self, data: dict[str, Any]) -> dict[str, Any]:
        if self._seed is None:
            form = {"grant_type": "client_credentials"}
        else:
            current = self._seed if self._stale_seed(data) else data.get("refresh_token") or self._seed
            form = {"grant_type": "refresh_token", "refresh_token": current}
        body = self._post(form)
        now = time.time()
        new = {
            "access_token": body["access_token"],
            "expires_at": now + int(body.get("expires_in", 1800)),
            "refresh_token": body.get("refresh_token") or data.get("refresh_token"),
            "scope": body.get("scope", ""),
            "seed": _fingerprint(self._seed) if self._seed else None,
            "refreshed_at": now,
        }
        # Saved before anyone uses the new access token: the old refresh token is now
        # spent, and this file is the only place the new one exists.
        self._store.save(new)
        self.refreshes += 1
        return new

    def _post(self, form: dict[str, str]) -> dict[str, Any]:
        basic = base64.b64encode(f"{self._client_id}:{self._client_secret}".encode()).decode()
        try:
            resp = self._session.post(
                self._token_url,
                data=form,
                headers={"Authorization": f"Basic {basic}", "Accept": "application/json"},
                timeout=self._timeout,
            )
        except requests.RequestException as exc:
            raise XeroAuthError(f"could not reach Xero's token endpoint {self._token_url}: {type(exc).__name__}") from None
        try:
            body = resp.json()
        except ValueError:
            body = {}
        if resp.status_code == 200 and "access_token" in body:
            return body
        error = body.get("error") or f"HTTP {resp.status_code}"
        if error == "invalid_grant":
            raise XeroAuthError(
                "Xero rejected the refresh token (invalid_grant): it was already used more than 30 minutes ago, "
                "revoked, or the organisation was disconnected. Run `xero-pipeline auth` to authorise again "
                "(or set XERO_REFRESH_TOKEN to a new refresh token)."
            )
        if error == "invalid_client":
            raise XeroAuthError(
                "Xero rejected the client credentials (invalid_client): check XERO_CLIENT_ID and XERO_CLIENT_SECRET."
            )
        raise XeroAuthError(f"token request failed: {error}")
