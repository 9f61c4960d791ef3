"""``x-xero-signature``: base64 of HMAC-SHA256 over the raw request body, keyed by the webhook key."""

from __future__ import annotations

import base64
import hashlib
import hmac

HEADER = "x-xero-signature"


def sign(body: bytes, key: str) -> str:
    """The signature Xero sends with ``body``. Only the raw bytes verify: re-serialised JSON does not."""
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode("ascii")


def verify(body: bytes, signature: str | None, key: str) -> bool:
    """Whether ``signature`` is ``body``'s, compared in constant time (no timing oracle on the key)."""
    if not signature:
        return False
    return hmac.compare_digest(sign(body, key).encode("ascii"), signature.strip().encode("ascii", "replace"))
