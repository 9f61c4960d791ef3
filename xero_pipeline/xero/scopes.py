"""The scopes an access token grants, and whether they cover the scope an endpoint needs.

Xero's access token is a JWT whose ``scope`` claim lists the granted scopes (fact sheet
§3, §7), so the pipeline can know what it may read before it asks. The SDKs treat the
token as opaque and so may Xero one day: a token that is not a JWT with that claim means
"unknown", never "nothing granted". The signature is not verified: the claim only
saves calls Xero would refuse anyway, and Xero still decides on every request.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable

_READ = ".read"
# Apps created before March 2026 hold the broad scopes; each covers these granular ones.
_BROAD_COVERS = {
    "accounting.transactions": ("accounting.invoices", "accounting.payments", "accounting.banktransactions",
                                "accounting.manualjournals", "accounting.classicexpenses"),
    "accounting.reports": ("accounting.reports.aged", "accounting.reports.balancesheet",
                           "accounting.reports.banksummary", "accounting.reports.budgetsummary",
                           "accounting.reports.executivesummary", "accounting.reports.profitandloss",
                           "accounting.reports.trialbalance", "accounting.reports.taxreports"),
}


def token_scopes(access_token: str) -> frozenset[str] | None:
    """The ``scope`` claim of a JWT access token; None when the token does not say (opaque)."""
    parts = access_token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error):
        return None
    raw = claims.get("scope") if isinstance(claims, dict) else None
    if isinstance(raw, str):
        return frozenset(raw.split())
    if isinstance(raw, list) and all(isinstance(s, str) for s in raw):
        return frozenset(raw)
    return None


def _granting(required: str) -> Iterable[str]:
    """Every scope that grants ``required``: itself, its write form, the broad scope above it."""
    base = required.removesuffix(_READ)
    yield from (required, base)
    for broad, granular in _BROAD_COVERS.items():
        if base in granular:
            yield from (broad, broad + _READ)


def covers(granted: frozenset[str], required: str) -> bool:
    """Whether a grant of ``granted`` includes ``required`` (a read scope from the registry)."""
    return any(scope in granted for scope in _granting(required))
