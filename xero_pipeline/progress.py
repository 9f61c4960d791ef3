"""Live progress of a read: what each tenant's calls are doing, for whoever is watching.

The Xero client reports each answered call and each wait for one of Xero's limits
here. Nothing listens unless a command installs a sink (``xero-pipeline sync`` does,
to show each tenant's object, pages, calls and waits as they happen); in a run the
daemon launched they go nowhere, at the cost of one function call.

Events are flat dicts, so a child process can pass them up a pipe as JSON lines:

* ``{"event": "calling", "tenant": ..., "what": <table or report>}`` as a request is sent,
  and ``{"event": "call", "tenant": ..., "what": ..., "status": 200}`` when it is answered
* ``{"event": "wait", "tenant": ..., "seconds": 12.5, "limit": "minute"}`` (``limit``:
  ``minute``, ``app``, ``concurrent`` or ``retry``)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

Sink = Callable[[dict[str, Any]], None]

_sink: Sink | None = None
_guard = threading.Lock()


def emit(event: str, **fields: Any) -> None:
    """Tell the watcher, if any; a watcher that fails never fails the read it watches."""
    sink = _sink
    if sink is None:
        return
    try:
        sink({"event": event, **fields})
    except Exception:  # noqa: BLE001 - progress is a courtesy, the sync is the work
        pass


@contextmanager
def watching(sink: Sink) -> Iterator[None]:
    """Send this process's progress events to ``sink`` for the length of the block."""
    global _sink
    with _guard:
        previous, _sink = _sink, sink
    try:
        yield
    finally:
        with _guard:
            _sink = previous
