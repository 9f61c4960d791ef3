"""Collection pages read raw: the envelope decoded, each record kept as the text Xero sent,
and every body the envelope cannot take parsed as before (or retried, when it is no JSON)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from xero_pipeline.registry import BY_TABLE
from xero_pipeline.xero.collections import read_pages
from xero_pipeline.xero.decoding import RawBody, decode_page, journal_heads
from xero_pipeline_tests.resource_helpers import xero_resource

PAGE = (b'{"Id":"x","Status":"OK","DateTimeUTC":"\\/Date(1793491200102)\\/",'
        b'"pagination":{"page":1,"pageSize":1000,"pageCount":1,"itemCount":2},'
        b'"Invoices":[{"InvoiceID":"a","Total":115.00}, {"InvoiceID":"b","Reference":"caf\\u00e9"}]}')


def test_a_page_keeps_each_record_as_the_text_xero_sent():
    body = decode_page(PAGE, envelope="Invoices")
    assert isinstance(body, RawBody)
    assert [bytes(r) for r in body.records] == [b'{"InvoiceID":"a","Total":115.00}',
                                                b'{"InvoiceID":"b","Reference":"caf\\u00e9"}']
    assert body.pagination == {"page": 1, "pageSize": 1000, "pageCount": 1, "itemCount": 2}
    assert body.server_time == "/Date(1793491200102)/"


@pytest.mark.parametrize("content", [PAGE[:-1], PAGE[:40], b"<html>Bad gateway</html>", b""])
def test_a_truncated_or_non_json_body_is_a_value_error_the_client_retries(content):
    with pytest.raises(ValueError):
        decode_page(content, envelope="Invoices")


@pytest.mark.parametrize("content", [
    b'{"Invoices":[{"InvoiceID":"a","Total":NaN}]}',  # Python's parser takes NaN; msgspec does not
    b'{"Invoices":null,"Status":"OK"}',  # no records: the reader's error names the keys
    b'{"Elsewhere":[]}',
    b'{"Invoices":[],"pagination":[1,2]}',
    b'{"Invoices":[],"DateTimeUTC":12}',
    b'[1, 2]',
    b'{"Invoices":[{"InvoiceID":"a","Reference":"\\ud800"}]}',  # a lone surrogate
])
def test_a_body_the_envelope_cannot_take_is_parsed_as_before(content):
    assert decode_page(content, envelope="Invoices") == json.loads(content, parse_float=Decimal)


def test_journal_heads_are_what_paging_reads():
    body = decode_page(b'{"Journals":[{"JournalID":"j","JournalNumber":7,"JournalDate":"\\/Date(0+0000)\\/",'
                       b'"JournalLines":[]},{"JournalNumber":8},{"JournalID":"k"}]}', envelope="Journals")
    assert journal_heads(body.records) == [{"JournalNumber": 7, "JournalDate": "/Date(0+0000)/"},
                                           {"JournalNumber": 8}, {}]


def test_a_truncated_page_read_raw_is_retried_and_then_read(sandbox, tmp_path):
    client = xero_resource(sandbox, tmp_path).get_client()
    tenant = sandbox.tenant_ids[0]
    obj = BY_TABLE["journals"]
    sandbox.inject("truncated", tenant_id=tenant, path="Journals", after_page=1, count=1)
    pages = list(read_pages(client, obj, tenant_id=tenant, raw=True))
    assert sandbox.stats()["faults_fired"].get("truncated") == 1
    assert client.stats.retries == 1
    assert all(p.raw is not None and not p.records for p in pages)
    numbers = [json.loads(bytes(r))["JournalNumber"] for p in pages for r in p.raw]
    assert numbers == list(range(1, len(numbers) + 1)) and len(pages) > 2
    assert pages[-1].last_journal == numbers[-1]
    # The same pages parsed as before: the same records, in the same order.
    parsed = [r for p in read_pages(client, obj, tenant_id=tenant) for r in p.records]
    assert [json.loads(bytes(r), parse_float=Decimal) for p in pages for r in p.raw] == parsed
