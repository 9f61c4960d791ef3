"""The next page read while the caller works on the current one.

A sync shapes and spools each page before it asks for the next, so Xero's time to
answer and ours add up. ``lookahead`` runs the page iterator in a thread of its own, one
page ahead: while the caller shapes page N, page N+1 is on the wire (and waits out the
rate limit, if it must).

It makes no call the plain iterator would not: ``read_pages`` decides each request from
the page before it (the journal offset, whether the last page was full), so the thread
can only ever ask for the page the caller will want next. The one exception is a caller
that stops early (an error while shaping): the call already in flight is finished and
its page dropped. One thread, one call at a time: well inside Xero's 5 at once.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

_POLL_SECONDS = 0.1


def lookahead(items: Iterator[T], *, name: str = "xero-lookahead") -> Iterator[T]:
    """``items`` in order, each produced in a background thread while the caller handles
    the one before, never further ahead. An exception ``items`` raises reaches the caller
    after every item produced before it; closing the returned iterator stops the thread
    after its current item."""
    handoff: queue.SimpleQueue[tuple[bool, object]] = queue.SimpleQueue()
    # Item k is asked for only once the caller has taken item k-1: one page ahead, not more.
    may_produce = threading.Semaphore(1)
    stop = threading.Event()

    def produce() -> None:
        try:
            while True:
                while not may_produce.acquire(timeout=_POLL_SECONDS):
                    if stop.is_set():
                        return
                if stop.is_set():
                    return
                try:
                    item = next(items)
                except StopIteration:
                    handoff.put((False, None))
                    return
                handoff.put((True, item))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, raised there
            handoff.put((False, exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    # A daemon: a caller stopped by Ctrl-C must not wait for an HTTP call to time out.
    thread = threading.Thread(target=produce, name=name, daemon=True)
    thread.start()
    try:
        while True:
            is_item, value = handoff.get()
            if is_item:
                may_produce.release()
                yield value  # type: ignore[misc]
            elif value is None:
                return
            else:
                raise value  # type: ignore[misc]
    finally:
        stop.set()
