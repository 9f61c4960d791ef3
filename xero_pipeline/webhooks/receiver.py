"""The HTTP receiver Xero posts to: verify, validate, store durably, then answer 200 with no body.

Starlette on uvicorn: both are already installed with dagster-webserver (the same stack
serves the Dagster UI), well kept, and an ASGI app is testable in-process and servable
behind any reverse proxy.

Order matters for Xero's intent-to-receive check: the signature is checked before the body
is parsed, so a wrongly signed probe always gets 401 and a correctly signed one 200. A
correctly signed body that breaks the schema gets 400 and is logged; Xero will retry it,
and after 24 hours disable the webhook, which health then shows.
"""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from xero_pipeline.webhooks.payload import PayloadError, parse
from xero_pipeline.webhooks.signature import HEADER, verify
from xero_pipeline.webhooks.store import EventStore

PATH = "/webhooks/xero"
MAX_BODY = 1024 * 1024  # Xero's deliveries are a few KiB; anything near this is not Xero

log = logging.getLogger("xero_pipeline.webhooks")


class _TooLarge(Exception):
    pass


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def build_app(*, key: str, store: EventStore, max_body: int = MAX_BODY, path: str = PATH) -> Starlette:
    """The receiver as an ASGI app; ``key`` stays in this closure and is never logged."""

    async def receive(request: Request) -> Response:
        peer = request.client.host if request.client else "?"
        try:
            body = await _read_body(request, max_body)
        except _TooLarge:
            log.warning("rejected a webhook from %s: body over %d bytes (413)", peer, max_body)
            return Response(status_code=413)
        if not verify(body, request.headers.get(HEADER), key):
            log.warning("rejected a webhook from %s: %s does not match the body (401)", peer, HEADER)
            return Response(status_code=401)
        try:
            delivery = parse(body)
        except PayloadError as exc:
            log.warning("rejected a signed webhook from %s: not Xero's schema: %s (400)", peer, exc)
            return Response(status_code=400)
        if delivery.intent_to_receive:
            return Response(status_code=200)
        # In a worker thread: the fsync must not stall other deliveries on the event loop.
        added = await run_in_threadpool(store.append, delivery.events)
        log.info("stored %d of %d events (sequence %d-%d)", added, len(delivery.events),
                 delivery.first_sequence, delivery.last_sequence)
        return Response(status_code=200)

    return Starlette(routes=[Route(path, receive, methods=["POST"])])
