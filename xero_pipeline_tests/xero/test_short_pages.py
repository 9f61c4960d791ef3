"""A page shorter than asked is not the last one when Xero's ``pagination`` says more follow.

Xero may serve fewer rows than ``pageSize`` asks (it served a fixed 100 before pageSize
existed, and what it does above its cap is undocumented); its ``pagination.pageCount``
is then the only reliable end of the read.
"""

from __future__ import annotations

import pytest

from xero_pipeline.registry import BY_TABLE
from xero_pipeline.sandbox import Sandbox
from xero_pipeline.sandbox.books.store import SandboxClock
from xero_pipeline.xero.collections import read_pages
from xero_pipeline.xero.paging import Pager
from xero_pipeline_tests.conftest import N_CONTACTS, N_INVOICES, make_books
from xero_pipeline_tests.resource_helpers import (
    assert_matches_truth,
    run_sync,
    xero_resource,
)

SERVED = 100  # rows per page the sandbox serves, whatever the client asks
PAGED = [BY_TABLE["invoices"], BY_TABLE["contacts"]]


def pagination(page: int, count: int) -> dict[str, int]:
    return {"page": page, "pageSize": SERVED, "pageCount": -(-count // SERVED), "itemCount": count}


def test_a_short_page_is_not_the_end_while_pagecount_says_more():
    pager = Pager(BY_TABLE["invoices"])  # asks for 1000 a page
    pager.advance([{}] * SERVED, pagination(1, 250))
    assert not pager.done and pager.params()["page"] == "2"
    pager.advance([{}] * SERVED, pagination(2, 250))
    assert not pager.done and pager.params()["page"] == "3"
    pager.advance([{}] * 50, pagination(3, 250))
    assert pager.done


def test_without_pagination_a_short_page_still_ends_the_read():
    pager = Pager(BY_TABLE["invoices"], page_size=200)
    pager.advance([{}] * 199, None)
    assert pager.done


def test_an_empty_page_ends_the_read_whatever_pagecount_claims():
    pager = Pager(BY_TABLE["invoices"])
    pager.advance([], {"page": 1, "pageSize": SERVED, "pageCount": 4, "itemCount": 400})
    assert pager.done


@pytest.fixture
def short_pages() -> Sandbox:
    """Hand-made books (250 invoices, 30 contacts) served at most 100 rows a page."""
    with Sandbox(books=[make_books(SandboxClock(), 0)], limits=False, page_size_limit=SERVED) as sb:
        yield sb


def test_the_client_reads_every_short_page_xero_counts(short_pages, tmp_path):
    client = xero_resource(short_pages, tmp_path).get_client()
    tenant = short_pages.tenant_ids[0]
    pages = list(read_pages(client, BY_TABLE["invoices"], tenant_id=tenant))
    assert [len(p.records) for p in pages] == [100, 100, 50]
    ids = [r["InvoiceID"] for p in pages for r in p.records]
    assert len(set(ids)) == N_INVOICES
    # pageCount also spares the request for an empty page after the last one.
    assert short_pages.stats()["calls"][tenant]["Invoices"] == 3


def test_a_sync_against_short_pages_equals_the_truth(short_pages, instance, tmp_path, watch):
    watch.sandboxes.append(short_pages)
    watch.instances.append(instance)
    tenant = short_pages.tenant_ids[0]
    report = run_sync(instance, short_pages, tmp_path, objects=PAGED)
    assert report.ok, report.failures
    assert_matches_truth(short_pages, tmp_path, PAGED)
    calls = short_pages.stats()["calls"][tenant]
    # Three pages, then the closing If-Modified-Since read that ends every read of several
    # pages (sync.objects); the contacts fit in one page and need none.
    assert calls["Invoices"] == 3 + 1 and calls["Contacts"] == -(-N_CONTACTS // SERVED) == 1
