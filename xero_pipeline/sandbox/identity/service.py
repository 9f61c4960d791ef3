"""Xero's identity service: OAuth 2.0 apps, tokens and authorisation codes.

Two apps exist: the demo app (authorization_code + refresh_token, client id and secret
derived from the seed; ``public_app``: a "Mobile or desktop app", PKCE and no secret, see
``clients``) and a custom connection (client_credentials) bound to the
first tenant. Token values come from ``secrets`` and are never logged. Which tenants
each app is connected to is kept by ``connections``.

Xero behaviours modelled (see the fact sheet, section 3):

* access tokens live 1800 s; ``expires_in`` reports that lifetime in real seconds, i.e.
  divided by the time scale, because that is what a client's timer measures;
* every refresh rotates the refresh token; the previous one may be replayed for 30
  minutes after its first use (each replay returns a fresh pair, and counts as the event
  ``token_reuse``), then it is ``invalid_grant``; an unused refresh token expires after 60 days;
* without ``offline_access`` in the scope no refresh token is issued;
* authorisation codes are single-use and live 5 minutes; PKCE (S256 and plain) is
  verified at the token endpoint; a web app must send its secret even with PKCE, a
  public app must use PKCE and send only its client id;
* revoking a refresh token ends its grant (its access tokens stop working) and, as
  Xero documents, removes the user's connections;
* access tokens are JWTs (HS256 with a key derived from the seed) carrying the claims
  xero-node's ``XeroAccessToken`` declares plus ``authentication_event_id``; ``scope``
  is the list of scopes granted, which the app ``profile`` may narrow from the scopes
  asked for. Tokens are still looked up by value, so revocation and expiry work as before.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from xero_pipeline.sandbox.api.limits import ScaledTime
from xero_pipeline.sandbox.books.store import SandboxClock
from xero_pipeline.sandbox.identity.clients import authenticate_client, pkce_verified
from xero_pipeline.sandbox.identity.connections import Connections
from xero_pipeline.sandbox.identity.oauth import (
    CODE_SECONDS,
    DEFAULT_SCOPES,
    GRACE_SECONDS,
    REFRESH_IDLE_SECONDS,
    AccessToken,
    App,
    AuthCode,
    Grant,
    OAuthError,
    RefreshToken,
    b64url,
    derive,
    has_scope,
    jwt_encode,
)
from xero_pipeline.sandbox.identity.profile import AppProfile

__all__ = ["AccessToken", "Identity", "OAuthError", "has_scope"]

class Identity:
    def __init__(self, *, seed: int, time: ScaledTime, clock: SandboxClock, tenants: dict[str, str],
                 tenant_types: dict[str, str] | None = None, token_lifetime: float = 1800, grace: float = GRACE_SECONDS,
                 code_lifetime: float = CODE_SECONDS, profile: AppProfile | None = None, public_app: bool = False,
                 on_event: Callable[[str], None] = lambda e: None) -> None:
        self.time = time
        self.profile = profile or AppProfile()
        self.token_lifetime = token_lifetime
        self.grace = grace
        self.code_lifetime = code_lifetime
        self.on_event = on_event
        self._lock = threading.RLock()
        self.demo = App(derive(seed, "client-id", 32).upper(),
                        None if public_app else derive(seed, "client-secret", 48), "Xero Pipeline Sandbox")
        self.custom = App(derive(seed, "custom-id", 32).upper(), derive(seed, "custom-secret", 48),
                          "Xero Pipeline Sandbox (custom connection)", custom=True)
        self.apps = {a.client_id: a for a in (self.demo, self.custom)}
        self.user_id = str(uuid.UUID(derive(seed, "user", 32)))
        self._signing_key = derive(seed, "access-token-key", 64)
        self._access: dict[str, AccessToken] = {}
        self._refresh: dict[str, RefreshToken] = {}
        self._codes: dict[str, AuthCode] = {}
        self.connections = Connections(seed=seed, clock=clock, tenants=tenants, apps=(self.demo, self.custom),
                                       lock=self._lock, tenant_types=tenant_types)
        initial_event = str(uuid.UUID(derive(seed, "auth-event", 32)))
        for tid in self.connections.tenants:
            self.connections.connect(tid, auth_event_id=initial_event)
        if self.connections.tenants:
            self.connections.connect(next(iter(self.connections.tenants)), app=self.custom,
                                     auth_event_id=initial_event)
        self._initial_grant = Grant(initial_event, self.demo, self.profile.consent)
        self._granted: set[str] = set()

    # --- tokens ------------------------------------------------------------------------

    def _issue(self, grant: Grant, *, tenant_id: str | None = None, refresh: bool = True) -> dict:
        now = self.time.now()
        scope = self.profile.granted(grant.app, grant.scope)
        lifetime = self.time.real(self.token_lifetime)
        wall = datetime.now(UTC)
        access = AccessToken(self._access_jwt(grant, scope, wall, lifetime), grant, now + self.token_lifetime,
                             wall + timedelta(seconds=lifetime), tenant_id, scope)
        body: dict = {}
        if not grant.app.custom:
            body["id_token"] = self._id_token(grant)
        body.update(access_token=access.value, expires_in=max(1, int(self.time.real(self.token_lifetime))),
                    token_type="Bearer")
        with self._lock:
            self._access[access.value] = access
            if refresh and "offline_access" in grant.scope.split():
                rt = RefreshToken(secrets.token_urlsafe(48), grant, now)
                self._refresh[rt.value] = rt
                body["refresh_token"] = rt.value
        body["scope"] = scope
        return body

    def _access_jwt(self, grant: Grant, scope: str, wall: datetime, lifetime: float) -> str:
        now = int(wall.timestamp())
        claims = {"nbf": now, "exp": now + max(1, int(lifetime)), "iss": "https://identity.xero.com",
                  "aud": "https://identity.xero.com/resources", "client_id": grant.app.client_id,
                  "sub": self.user_id.replace("-", ""), "auth_time": grant.auth_time, "idp": "Xero",
                  "xero_userid": self.user_id, "global_session_id": derive(0, grant.auth_event_id, 32),
                  "jti": secrets.token_hex(16), "authentication_event_id": grant.auth_event_id,
                  "scope": scope.split(), "amr": ["pwd"]}
        return jwt_encode(claims, self._signing_key)

    def set_profile(self, profile: AppProfile) -> None:
        """Tokens issued from now on follow ``profile``. A new scope set is a new consent:
        the demo app's live grants take it at their next refresh (tokens already issued
        keep the claims they were signed with)."""
        with self._lock:
            reconsent = profile.scopes != self.profile.scopes
            self.profile = profile
            if reconsent:
                grants = {id(t.grant): t.grant for t in self._refresh.values() if t.grant.app is self.demo}
                for grant in [*grants.values(), self._initial_grant]:
                    grant.scope = profile.consent

    def _id_token(self, grant: Grant) -> str:
        now = int(datetime.now(UTC).timestamp())
        claims = {"nbf": now, "exp": now + 300, "iss": "https://identity.xero.com",
                  "aud": grant.app.client_id, "iat": now, "auth_time": now,
                  "sub": self.user_id.replace("-", ""), "xero_userid": self.user_id,
                  "authentication_event_id": grant.auth_event_id, "global_session_id": secrets.token_hex(16),
                  "preferred_username": "demo@example.com", "email": "demo@example.com",
                  "given_name": "Demo", "family_name": "User"}
        return jwt_encode(claims, grant.app.client_secret or self._signing_key)

    def initial_refresh_token(self) -> str:
        """A refresh token of a new demo-app grant (the first one is printed for the user).

        Connections are left as they are: after a revocation the tenants stay
        disconnected until ``connect`` or an authorize round trip reconnects them.
        """
        grant = self._initial_grant
        if grant.revoked or grant.app.client_id in self._granted:
            grant = Grant(str(uuid.uuid4()), self.demo, self.profile.consent)
        self._granted.add(grant.app.client_id)
        return self._issue(grant)["refresh_token"]

    def token(self, form: dict[str, str], authorization: str | None) -> dict:
        """POST /connect/token; raises ``OAuthError`` for Xero's 400 responses."""
        grant_type = form.get("grant_type", "")
        try:
            app = authenticate_client(self.apps, form, authorization)
            if grant_type == "authorization_code":
                body = self._code_grant(app, form)
            elif grant_type == "refresh_token":
                body = self._refresh_grant(app, form)
            elif grant_type == "client_credentials":
                if not app.custom:
                    raise OAuthError("unauthorized_client")
                scope = " ".join(s for s in DEFAULT_SCOPES if s != "offline_access")
                grant = Grant(str(uuid.uuid4()), app, scope)
                tenant = next(iter(app.connections), None)
                body = self._issue(grant, tenant_id=tenant, refresh=False)
            else:
                raise OAuthError("unsupported_grant_type")
        except OAuthError as e:
            self.on_event(f"token_error:{e.code}")
            raise
        self.on_event(f"token:{grant_type}")
        return body

    def _code_grant(self, app: App, form: dict[str, str]) -> dict:
        now = self.time.now()
        with self._lock:
            code = self._codes.get(form.get("code", ""))
            if code is None or code.used or code.app is not app or now > code.expires_at:
                raise OAuthError("invalid_grant")
            if form.get("redirect_uri") and form["redirect_uri"] != code.redirect_uri:
                raise OAuthError("invalid_grant")
            if not pkce_verified(code, form.get("code_verifier") or ""):
                raise OAuthError("invalid_grant")
            code.used = True
        return self._issue(Grant(code.auth_event_id, app, code.scope))

    def _refresh_grant(self, app: App, form: dict[str, str]) -> dict:
        now = self.time.now()
        reused = False
        with self._lock:
            rt = self._refresh.get(form.get("refresh_token", ""))
            if rt is None or rt.grant.revoked or rt.grant.app is not app:
                raise OAuthError("invalid_grant")
            if rt.used_at is None:
                if now - rt.created_at > REFRESH_IDLE_SECONDS:
                    raise OAuthError("invalid_grant")
                rt.used_at = now
            elif now - rt.used_at > self.grace:
                raise OAuthError("invalid_grant")
            else:
                reused = True
        if reused:
            # Accepted in the grace period, but two clients spent one token: counted, so a test
            # of clients sharing a store sees the race even with Xero's 30 minutes of grace.
            self.on_event("token_reuse")
        return self._issue(rt.grant)

    def revoke(self, form: dict[str, str], authorization: str | None) -> None:
        """POST /connect/revocation: ends the token's grant; unknown tokens are ignored."""
        app = authenticate_client(self.apps, form, authorization)
        value = form.get("token", "")
        with self._lock:
            tok = self._refresh.get(value) or self._access.get(value)
            if tok is None or tok.grant.app is not app:
                return
            tok.grant.revoked = True
            for tid in list(app.connections):
                self.connections.disconnect(tid, app=app)
        self.on_event("revocation")

    def authenticate(self, authorization: str | None) -> AccessToken | str:
        """The access token, or the ``Detail`` of Xero's 401 problem response."""
        if not authorization or authorization[:7].lower() != "bearer ":
            return "AuthenticationUnsuccessful"
        tok = self._access.get(authorization[7:].strip())
        if tok is None or tok.grant.revoked:
            return "AuthenticationUnsuccessful"
        if self.time.now() >= tok.expires_at:
            return f"TokenExpired: token expired at {tok.expires_wall:%m/%d/%Y %H:%M:%S}"
        return tok

    def expire_all(self) -> int:
        """Every current access token expires now (refresh tokens are untouched)."""
        now, wall, n = self.time.now(), datetime.now(UTC), 0
        with self._lock:
            for tok in self._access.values():
                if tok.expires_at > now:
                    tok.expires_at, tok.expires_wall, n = now, wall, n + 1
        return n

    # --- authorize -----------------------------------------------------------------------

    def authorize(self, params: dict[str, str]) -> str:
        """GET /identity/connect/authorize: auto-consent; returns the redirect Location.

        The demo user consents to every organisation they hold, so any disconnected
        tenant is reconnected under the new auth event (``/connections?authEventId=``
        then lists exactly the tenants this consent added).
        """
        app = self.apps.get(params.get("client_id", ""))
        redirect = params.get("redirect_uri", "")
        if app is None or app.custom:
            raise OAuthError("invalid_client")
        if not redirect:
            raise OAuthError("invalid_request")
        sep = "&" if "?" in redirect else "?"
        state = {"state": params["state"]} if "state" in params else {}
        if params.get("response_type") != "code":
            return redirect + sep + urlencode({"error": "unsupported_response_type", **state})
        challenge = params.get("code_challenge")
        method = params.get("code_challenge_method", "plain" if challenge else "")
        if (challenge and method not in ("S256", "plain")) or (app.public and not challenge):
            return redirect + sep + urlencode({"error": "invalid_request", **state})
        scope = " ".join((params.get("scope") or self.profile.consent).split())
        event = str(uuid.uuid4())
        code = AuthCode(secrets.token_urlsafe(32), app, event, redirect, scope, challenge or None,
                        method, self.time.now() + self.code_lifetime)
        with self._lock:
            self._codes[code.value] = code
            for tid in self.connections.tenants:
                self.connections.connect(tid, app=app, auth_event_id=event)
        self.on_event("authorize")
        return redirect + sep + urlencode({"code": code.value, "scope": scope, **state,
                                           "session_state": b64url(secrets.token_bytes(16))})
