"""The next page is read while the current one is shaped, and never a page more than
a plain read would ask for.

Against the sandbox over HTTP: a page handler that waits, inside page 1, for the
sandbox to have answered the call for page 2 only returns because that call was made
in the background (without the lookahead it would wait in vain until its guard ran out).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from xero_pipeline.registry import BY_TABLE
from xero_pipeline.sandbox import Sandbox
from xero_pipeline.sandbox.books.store import SandboxClock
from xero_pipeline.sync.reading import walk
from xero_pipeline.xero.lookahead import lookahead
from xero_pipeline_tests.conftest import make_books
from xero_pipeline_tests.resource_helpers import xero_resource

SERVED = 100  # rows a page: 250 invoices are three pages
GUARD_SECONDS = 30.0  # how long a handler waits for a call that should come at once


class Counted:
    """An iterator of 0, 1, 2... that records how many items were asked of it."""

    def __init__(self, n: int, *, fail_at: int | None = None) -> None:
        self.n, self.fail_at, self.asked, self.closed = n, fail_at, 0, threading.Event()

    def __iter__(self) -> Iterator[int]:
        try:
            for i in range(self.n):
                self.asked += 1
                if i == self.fail_at:
                    raise ValueError(f"item {i} failed")
                yield i
        finally:
            self.closed.set()


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + GUARD_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.01)


def test_items_arrive_in_order_and_the_source_is_closed():
    source = Counted(50)
    assert list(lookahead(iter(source))) == list(range(50))
    assert source.closed.wait(GUARD_SECONDS)


def test_an_error_arrives_after_every_item_before_it():
    source = Counted(10, fail_at=4)
    got = []
    with pytest.raises(ValueError, match="item 4 failed"):
        for item in lookahead(iter(source)):
            got.append(item)
    assert got == [0, 1, 2, 3]


def test_never_more_than_one_item_ahead_and_stopping_early_stops_the_thread():
    source = Counted(100)
    items = lookahead(iter(source))
    assert next(items) == 0
    wait_for(lambda: source.asked == 2, "the second item to be produced in the background")
    time.sleep(0.3)  # time to run further ahead, if it would
    assert source.asked == 2
    items.close()
    assert source.closed.wait(GUARD_SECONDS)
    assert source.asked == 2


@pytest.fixture
def short_pages() -> Iterator[Sandbox]:
    """250 invoices served 100 a page: three pages."""
    with Sandbox(books=[make_books(SandboxClock(), 0)], limits=False, page_size_limit=SERVED) as sb:
        yield sb


def invoice_calls(sandbox: Sandbox) -> int:
    return sandbox.stats()["calls"][sandbox.tenant_ids[0]].get("Invoices", 0)


def test_page_two_is_read_while_page_one_is_handled(short_pages, tmp_path):
    client = xero_resource(short_pages, tmp_path).get_client()
    seen: list[tuple[int, int]] = []

    def on_page(records, w):
        if w.pages == 1:
            wait_for(lambda: invoice_calls(short_pages) == 2, "page 2's call during page 1's handling")
        seen.append((len(records), invoice_calls(short_pages)))

    read = walk(client, BY_TABLE["invoices"], short_pages.tenant_ids[0], on_page, since=None, page_size=1000)
    assert read.failed is None and read.stopped is None
    assert [n for n, _ in seen] == [100, 100, 50]
    # No call a plain read would not make: three pages, three calls.
    assert invoice_calls(short_pages) == 3


def test_a_failing_page_handler_costs_at_most_the_one_call_ahead(short_pages, tmp_path):
    client = xero_resource(short_pages, tmp_path).get_client()

    def on_page(records, w):
        wait_for(lambda: invoice_calls(short_pages) == 2, "page 2's call")
        raise RuntimeError("shaping failed")

    with pytest.raises(RuntimeError, match="shaping failed"):
        walk(client, BY_TABLE["invoices"], short_pages.tenant_ids[0], on_page, since=None, page_size=1000)
    time.sleep(0.5)  # time for a third call, if the thread went on
    assert invoice_calls(short_pages) == 2
