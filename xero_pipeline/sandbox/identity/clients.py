"""Who is calling the token endpoint: client authentication and the PKCE check.

Xero has two kinds of app that use the authorization code. A "Web app" is a confidential
client: it has a client secret and must send it, in a Basic header or in the form body.
A "Mobile or desktop app" (Auth Code with PKCE) is a public client: Xero issues no
secret, the app sends ``client_id`` in the form body and proves each code with its PKCE
verifier. The sandbox refuses every mix of the two with ``invalid_client`` (see the
assumptions in ``xero_pipeline.sandbox``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import unquote

from xero_pipeline.sandbox.identity.oauth import App, AuthCode, OAuthError, b64url


def authenticate_client(apps: Mapping[str, App], form: Mapping[str, str], authorization: str | None) -> App:
    """The app making a token or revocation request; ``OAuthError("invalid_client")`` if it cannot be trusted."""
    client_id, secret = form.get("client_id"), form.get("client_secret")
    basic = bool(authorization) and authorization[:6].lower() == "basic "
    if basic:
        try:
            raw = base64.b64decode(authorization[6:].strip(), validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            raise OAuthError("invalid_client") from None
        cid, _, sec = raw.partition(":")
        client_id, secret = unquote(cid), unquote(sec)
    app = apps.get(client_id or "")
    if app is None:
        raise OAuthError("invalid_client")
    if app.client_secret is None:
        if basic or secret is not None:  # a public client has no secret it could send
            raise OAuthError("invalid_client")
    elif secret is None or not hmac.compare_digest(secret, app.client_secret):
        raise OAuthError("invalid_client")
    return app


def pkce_verified(code: AuthCode, verifier: str) -> bool:
    """Whether ``verifier`` is the one whose challenge the authorize request sent with ``code``."""
    if code.challenge is None:
        return True
    computed = b64url(hashlib.sha256(verifier.encode()).digest()) if code.method == "S256" else verifier
    return bool(verifier) and hmac.compare_digest(computed, code.challenge)
