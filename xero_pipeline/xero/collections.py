"""Every page of one Xero collection, in order, as Xero returns them (``Pager`` decides
each request's query and when to stop; the client makes the calls)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from xero_pipeline.errors import XeroApiError
from xero_pipeline.registry import Paging, XeroObject
from xero_pipeline.xero.client import XeroClient
from xero_pipeline.xero.dates import parse_instant
from xero_pipeline.xero.decoding import RawBody, journal_heads, page_decoder
from xero_pipeline.xero.paging import Pager
from xero_pipeline.xero.responses import Page


def read_pages(
    client: XeroClient,
    obj: XeroObject,
    *,
    tenant_id: str,
    since: datetime | None = None,
    after_journal: int = 0,
    page_size: int = 1000,
    first_page: int = 1,
    keep: int | None = None,
    raw: bool = False,
) -> Iterator[Page]:
    """Every page of one collection from ``first_page`` on, in order, as Xero returns them.

    ``raw``: pages keep each record as the JSON text Xero sent (``Page.raw``) where the
    body allows (``decoding.decode_page``); a page it does not is parsed as before."""
    pager = Pager(obj, page_size=page_size, after_journal=after_journal, page=first_page)
    path = f"/api.xro/2.0/{obj.path}"
    decode = page_decoder(obj.envelope) if raw else None
    while not pager.done:
        body = client.get_json(
            path, tenant_id=tenant_id, params=pager.params(),
            modified_since=since if obj.ims else None, scope=obj.scope, what=obj.table, keep=keep,
            decode=decode,
        )
        number = pager.page
        if isinstance(body, RawBody):
            # Paging reads only the number of records, and the journal numbers.
            heads = journal_heads(body.records) if obj.paging is Paging.OFFSET else None
            pager.advance(heads if heads is not None else body.records, body.pagination)
            server_time = parse_instant(body.server_time) if body.server_time else None
            yield Page([], body.pagination, server_time, number, last_journal=pager.last_journal,
                       raw=body.records, raw_heads=heads)
            continue
        records = body.get(obj.envelope) if isinstance(body, dict) else None
        if not isinstance(records, list):
            keys = sorted(body)[:8] if isinstance(body, dict) else type(body).__name__
            raise XeroApiError(
                status=200, path=path, tenant_id=tenant_id, what=obj.table,
                message=f"the response has no {obj.envelope!r} array (keys: {keys})",
            )
        pagination = body.get("pagination")
        server_time = body.get("DateTimeUTC")
        pager.advance(records, pagination)
        yield Page(records, pagination, parse_instant(server_time) if server_time else None, number,
                   last_journal=pager.last_journal)
