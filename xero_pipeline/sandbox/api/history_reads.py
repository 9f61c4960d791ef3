"""Journals of a tenant with a generated history (``books.long_history``), page by page.

History journals 1..H are built for the page being served and rendered without the
cache (each is read once per sync; caching 500,000 renderings would defeat the point);
the stored journals (H+1 ...) are selected and rendered as any collection is. ``offset``
stays an exclusive lower bound on JournalNumber, 100 a page, and If-Modified-Since keeps
journals created at or after it (CreatedDateUTC rises with the number, so that is a
binary search in the history).
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from xero_pipeline.registry import FIXED_PAGE_SIZE, XeroObject
from xero_pipeline.sandbox.api.query import Query, Selector
from xero_pipeline.sandbox.api.render import Variant, render_record
from xero_pipeline.sandbox.books.store import TenantBooks

RenderKeys = Callable[[TenantBooks, XeroObject, list[str], Variant], list[bytes]]


def journal_page(books: TenantBooks, obj: XeroObject, query: Query, offset: int, variant: Variant, *,
                 selector: Selector, render_keys: RenderKeys) -> list[bytes]:
    """The rendered journals with JournalNumber > ``offset`` (and the query's IMS), at most 100."""
    history = books.history
    assert history is not None
    first = max(offset, 0) + 1
    if query.ims is not None:
        first = max(first, history.first_created_since(query.ims))
    last = min(history.count, first + FIXED_PAGE_SIZE - 1)
    items = [render_record(j, variant, schema=obj.schema) for j in history.journals(first, last)]
    if len(items) < FIXED_PAGE_SIZE:
        keys = selector.select(books, obj, query)
        coll = books.collections[obj.path]
        start = bisect_right(keys, max(offset, history.count),
                             key=lambda k: (coll.get(k) or {}).get("JournalNumber") or 0)
        items += render_keys(books, obj, keys[start:start + FIXED_PAGE_SIZE - len(items)], variant)
    return items


def history_journal(books: TenantBooks, obj: XeroObject, raw_key: str, variant: Variant) -> bytes | None:
    """A history journal read singly by number or id (an id costs a scan of the history)."""
    history = books.history
    assert history is not None
    key = raw_key.strip()
    n = int(key) if key.isdigit() else history.find_id(key) if len(key) == 36 else None
    if n is None or not 1 <= n <= history.count:
        return None
    return render_record(history.journal(n), variant, schema=obj.schema)


def iter_journals(books: TenantBooks, obj: XeroObject, render_keys: RenderKeys) -> Iterator[dict]:
    """Every journal (history, then stored) by number, as a perfect offset walk parses it
    (full records, Decimal numbers), one at a time."""
    variant = Variant.LINES
    if books.history is not None:
        for journal in books.history.journals():
            yield json.loads(render_record(journal, variant, schema=obj.schema), parse_float=Decimal)
    with books.lock:
        stored = sorted(books.collections[obj.path].items(), key=lambda kv: kv[1]["JournalNumber"])
    for i in range(0, len(stored), 500):
        chunk = [k for k, _ in stored[i:i + 500]]
        for raw in render_keys(books, obj, chunk, variant):
            yield json.loads(raw, parse_float=Decimal)


def journal_summary(books: TenantBooks) -> dict[str, Any]:
    """A compact ground truth of every journal, history included, without building the history:
    count, first/last number, sum of JournalNumber, number of lines, NetAmount per AccountCode."""
    history = books.history
    count = history.count if history else 0
    number_sum = count * (count + 1) // 2
    lines = 0
    net: dict[str, Decimal] = defaultdict(Decimal)
    if history is not None:
        totals = history.totals()
        lines = totals.lines
        codes = {a["AccountID"]: a["Code"] for accounts in history.roles.values() for a in accounts}
        for aid, amount in totals.net_by_account.items():
            net[codes[aid]] += amount
    stored = books.records("Journals")
    for journal in stored:
        number_sum += journal["JournalNumber"]
        lines += len(journal["JournalLines"])
        for line in journal["JournalLines"]:
            net[line["AccountCode"]] += line["NetAmount"]
    numbers = [j["JournalNumber"] for j in stored]
    total = count + len(stored)
    return {"count": total, "first_number": 1 if count else min(numbers, default=None),
            "last_number": max(numbers, default=count) if total else None, "number_sum": number_sum,
            "lines": lines, "net_by_account_code": {c: v.quantize(Decimal("0.01")) for c, v in sorted(net.items())}}
