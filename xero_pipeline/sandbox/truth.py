"""The sandbox's ground truth: every collection as a perfect full read returns it."""

from __future__ import annotations

from collections.abc import Mapping

from xero_pipeline.registry import OBJECTS
from xero_pipeline.sandbox.api.query import Query
from xero_pipeline.sandbox.api.reads import Reads
from xero_pipeline.sandbox.api.render import Variant
from xero_pipeline.sandbox.books.store import TenantBooks

_REVEAL_ALL = Query(reveal=frozenset({"ARCHIVED", "DELETED"}))


def truth_bytes(reads: Reads, books: Mapping[str, TenantBooks]) -> bytes:
    """JSON ``{tenant_id: {path: [record, ...]}}`` for ``books`` (tenant id -> books).

    Full records with line items (budgets with every month of every line, which a
    reader gathers from several reads by id), unit prices at 4 dp where the endpoint allows it,
    archived and deleted records included, hard-deleted ones absent, in the default
    order, rendered exactly as the API renders them.
    """
    parts = []
    for tid, tenant in books.items():
        colls = []
        for obj in OBJECTS:
            variant = Variant.LINES | (Variant.UNIT4 if obj.unitdp else 0)
            keys = reads.selector.select(tenant, obj, _REVEAL_ALL)
            items = reads.render_keys(tenant, obj, keys, Variant(variant))
            colls.append(f'"{obj.path}":['.encode() + b",".join(items) + b"]")
        parts.append(f'"{tid}":{{'.encode() + b",".join(colls) + b"}")
    return b"{" + b",".join(parts) + b"}"
