"""What the token endpoint's OAuth errors mean, said as what a person has to do."""

from __future__ import annotations

from xero_pipeline.errors import XeroAuthError

NO_REFRESH_TOKEN = (
    "there is no refresh token, and an app without a client secret (a Mobile or desktop app) cannot be a "
    "custom connection: run `xero-pipeline auth` to authorise the app (or set XERO_REFRESH_TOKEN)"
)
REAUTHORISE = (
    "run `xero-pipeline auth` to authorise the app again (or set XERO_REFRESH_TOKEN to a new refresh token)"
)
INVALID_GRANT = (
    "Xero rejected the refresh token (invalid_grant): it was rotated more than 30 minutes ago by another copy "
    "of these tokens, has not been used for 60 days, or the app was disconnected or revoked in Xero. A person "
    f"has to authorise again: {REAUTHORISE}."
)


class Rejected(XeroAuthError):
    """The token endpoint answered with an OAuth error (no point in retrying).

    ``fatal``: the client itself was refused, so every later request would be too.
    """

    def __init__(self, code: str, message: str, *, fatal: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.fatal = fatal


def rejection(error: str, status: int, description: str, what: str, grant_type: str, *,
              public: bool = False) -> Rejected:
    """The error for an OAuth ``error`` answer to a ``grant_type`` request about ``what``;
    ``public``: the request carried no client secret (a PKCE app's, or a forgotten one)."""
    if error == "invalid_grant" and grant_type == "refresh_token":
        return Rejected(error, INVALID_GRANT)
    if error == "invalid_grant":
        return Rejected(error, f"Xero rejected {what} (invalid_grant): it expired (codes live 5 minutes), was "
                               "already used, or the redirect URI differs; run `xero-pipeline auth` again.")
    if error == "invalid_client" and public:
        return Rejected(error, "Xero rejected the client (invalid_client). XERO_CLIENT_SECRET is not set, so the "
                               "pipeline identified the app by XERO_CLIENT_ID alone, as a Mobile or desktop app (PKCE) "
                               "does: if the app is a Web app, set XERO_CLIENT_SECRET to its client secret; "
                               "otherwise check XERO_CLIENT_ID.", fatal=True)
    if error == "invalid_client":
        return Rejected(error, "Xero rejected the client credentials (invalid_client): check XERO_CLIENT_ID and "
                               "XERO_CLIENT_SECRET (a Mobile or desktop app has no client secret: leave "
                               "XERO_CLIENT_SECRET unset for one).", fatal=True)
    if error == "unauthorized_client" and grant_type == "client_credentials":
        return Rejected(error, "this app is not a Xero custom connection, so it cannot use the client-credentials "
                               f"grant, and no refresh token is configured: {REAUTHORISE}.", fatal=True)
    detail = f" ({description})" if description else ""
    return Rejected(error, f"Xero's token endpoint refused the {grant_type} request: {error}{detail} "
                           f"(HTTP {status}).")
