"""OAuth values of the identity service: apps, grants, tokens, codes, scopes, helpers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from xero_pipeline.registry import OBJECTS, REPORTS, WRITABLE, write_scope
from xero_pipeline.sandbox.books.store import Connection

GRACE_SECONDS = 1800
CODE_SECONDS = 300
REFRESH_IDLE_SECONDS = 60 * 86_400

DEFAULT_SCOPES: tuple[str, ...] = (
    "openid", "profile", "email", "offline_access",
    *sorted({o.scope for o in OBJECTS} | {r.scope for r in REPORTS}
            | {"accounting.reports.taxreports.read"}  # GET /Reports (published tax reports)
            | {write_scope(o.scope) for o in WRITABLE}),  # PUT/POST of the writable objects
)

# Granular scopes (apps created since March 2026) that the broad accounting.transactions covers.
_TRANSACTION_SCOPES = frozenset(
    f"accounting.{s}.read"
    for s in ("invoices", "payments", "banktransactions", "manualjournals", "classicexpenses")
)


class OAuthError(Exception):
    """An OAuth error response: 400 ``{"error": code}``."""

    def __init__(self, code: str, status: int = 400) -> None:
        super().__init__(code)
        self.code = code
        self.status = status


@dataclass
class App:
    client_id: str
    client_secret: str | None  # None: a "Mobile or desktop app" (Auth Code with PKCE) has none
    name: str
    custom: bool = False  # a custom connection: client_credentials, one bound tenant
    connections: dict[str, Connection] = field(default_factory=dict)  # tenant id -> connection
    former: dict[str, Connection] = field(default_factory=dict)  # disconnected, kept for reconnects

    @property
    def public(self) -> bool:
        """A public client: identified by its client id alone, and bound to PKCE."""
        return self.client_secret is None


@dataclass
class Grant:
    auth_event_id: str
    app: App
    scope: str
    revoked: bool = False
    auth_time: int = field(default_factory=lambda: int(datetime.now(UTC).timestamp()))


@dataclass
class AccessToken:
    value: str
    grant: Grant
    expires_at: float  # ScaledTime seconds
    expires_wall: datetime  # for Xero's "TokenExpired: token expired at ..." message
    tenant_id: str | None = None  # custom connections are bound to one tenant
    scope: str = ""  # what was granted when it was issued: its JWT's ``scope`` claim

    @property
    def app(self) -> App:
        return self.grant.app


@dataclass
class RefreshToken:
    value: str
    grant: Grant
    created_at: float
    used_at: float | None = None


@dataclass
class AuthCode:
    value: str
    app: App
    auth_event_id: str
    redirect_uri: str
    scope: str
    challenge: str | None
    method: str
    expires_at: float
    used: bool = False


def derive(seed: int, label: str, n: int) -> str:
    return hashlib.sha256(f"xero-sandbox:{seed}:{label}".encode()).hexdigest()[:n]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_encode(claims: dict, key: str) -> str:
    """A compact JWS (HS256): base64url header, payload and signature joined by dots."""
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = b64url(json.dumps(claims, separators=(",", ":")).encode())
    sig = hmac.new(key.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(sig)}"


def xero_utc(dt: datetime) -> str:
    """``/connections`` dates: ISO, UTC, seven fractional digits, no ``Z``."""
    return dt.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"


def has_scope(token: AccessToken, required: str) -> bool:
    """Granular read and write scopes, satisfied also by the write scope or a broad legacy scope."""
    granted = set(token.scope.split())
    if required in granted or required.removesuffix(".read") in granted:
        return True
    if required in _TRANSACTION_SCOPES:
        return bool(granted & {"accounting.transactions", "accounting.transactions.read"})
    if required + ".read" in _TRANSACTION_SCOPES:  # a write: only the broad write scope covers it
        return "accounting.transactions" in granted
    if required == "accounting.reports.read":  # a report the registry does not know
        return any(g.startswith("accounting.reports.") for g in granted)
    if required.startswith("accounting.reports."):
        return "accounting.reports.read" in granted
    return False
