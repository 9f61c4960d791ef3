"""Xero's ``Idempotency-Key`` (fact sheet §5): per app, 128 characters at most, answers
cached for 6 minutes from the first call.

The same key with the same request (method, URL and body) replays the cached answer,
errors included, and writes nothing again; the same key with a different request is
refused with 400 "Idempotency Key … is used with a different request". A second request
with a key whose first is still being processed waits for it and then replays it (Xero's
behaviour for that overlap is not documented). The 6 minutes run on ``ScaledTime`` like
the rate limits' windows, so a time-scaled sandbox shortens them too.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass

from xero_pipeline.sandbox.api.limits import ScaledTime
from xero_pipeline.sandbox.api.render import api_exception
from xero_pipeline.sandbox.api.wire import JSON, Request, Response

MAX_KEY_LENGTH = 128
CACHE_SECONDS = 360.0


@dataclass
class _Entry:
    fingerprint: str
    expires: float
    done: threading.Event
    status: int = 0
    body: bytes = b""
    content_type: str | None = JSON


def fingerprint(req: Request) -> str:
    query = "&".join(f"{k}={v}" for k in sorted(req.query) for v in req.query[k])
    digest = hashlib.sha256()
    for part in (req.method.upper().encode(), req.path.lower().encode(), query.encode(), req.body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


class IdempotencyCache:
    def __init__(self, *, time: ScaledTime, seconds: float = CACHE_SECONDS) -> None:
        self.time = time
        self.seconds = seconds
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._lock = threading.Lock()
        self.replays = 0

    def run(self, app_id: str, req: Request, serve: Callable[[], Response]) -> Response:
        """``serve`` once per (app, key) while the key is cached; replay or refuse after."""
        key = req.header("Idempotency-Key")
        if key is None:
            return serve()
        if len(key) > MAX_KEY_LENGTH:
            return Response(400, api_exception(400, "BadRequest",
                                               f"Idempotency Key is {len(key)} characters; 128 at most"), JSON)
        mine = fingerprint(req)
        now = self.time.now()
        with self._lock:
            self._entries = {k: e for k, e in self._entries.items() if e.expires > now or not e.done.is_set()}
            entry = self._entries.get((app_id, key))
            first = entry is None
            if first:
                entry = self._entries[(app_id, key)] = _Entry(mine, now + self.seconds, threading.Event())
        if not first:
            if entry.fingerprint != mine:
                message = f"Idempotency Key {key} is used with a different request"
                return Response(400, api_exception(400, "BadRequest", message), JSON)
            entry.done.wait()
            if not entry.status:  # the first request failed without an answer: this one is the first
                return self.run(app_id, req, serve)
            self.replays += 1
            return Response(entry.status, entry.body, entry.content_type)
        try:
            resp = serve()
        except BaseException:
            with self._lock:  # nothing was answered: the key is free again
                self._entries.pop((app_id, key), None)
            entry.done.set()
            raise
        entry.status, entry.body, entry.content_type = resp.status, resp.body, resp.content_type
        entry.done.set()
        return resp
