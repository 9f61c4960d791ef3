"""One HTTP POST as Xero sends it: the raw JSON body and its ``x-xero-signature``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.error
import urllib.request
from dataclasses import dataclass

# Xero's intent-to-receive body, byte for byte (sequence 0, outside the schema's range).
ITR_BODY = b'{"events":[],"lastEventSequence":0,"firstEventSequence":0,"entropy":"S0m3r4Nd0mt3xt"}'


def signature(body: bytes, key: str) -> str:
    mac = hmac.new(key.encode(), body, hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no answer (refused, reset, timed out)
    body: bytes = b""
    cookies: bool = False

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def batch_body(events: list[dict], first_sequence: int, entropy: str) -> bytes:
    return json.dumps({"events": events, "firstEventSequence": first_sequence,
                       "lastEventSequence": first_sequence + len(events) - 1, "entropy": entropy},
                      separators=(",", ":")).encode()


def post(url: str, body: bytes, sign_with: str, *, timeout: float) -> Answer:
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "x-xero-signature": signature(body, sign_with),
        "User-Agent": "Xero-Webhooks-Sandbox"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Answer(response.status, response.read(), response.headers.get("Set-Cookie") is not None)
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, exc.read(), exc.headers.get("Set-Cookie") is not None)
    except (OSError, urllib.error.URLError):  # refused, reset, timed out
        return Answer(None)
