"""Turning stored records into the bytes Xero would send, per variant, with a cache.

Records hold Python values (see ``store``); ``render_json`` and ``render_xml`` own the
two wire formats and their envelopes, this module what a record shows in a given read
(``Variant``) and Xero's error bodies.

Rendering a record is the expensive part of serving a page, so ``RenderCache`` keeps the
bytes per (tenant, path, key) for the record's current revision and each variant; a page
is then one ``b",".join`` of cached pieces.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from json.encoder import encode_basestring
from typing import Any

from xero_pipeline.sandbox.api.render_json import dumps
from xero_pipeline.sandbox.api.render_xml import xml_element

Record = dict[str, Any]

# Nested detail that Xero leaves out of unpaged multi-record reads of documents; the
# summary totals (AmountPaid, AmountCredited ...) stay on the record. LineItems is sent
# as an empty array rather than dropped: that is what Xero's SDK maintainers report
# (XeroAPI/xero-ruby#9: "without pagination, it will return empty array as line items")
# and the spec marks BankTransaction.LineItems as required.
# A contact group's members are likewise only in a read by id: the spec's list example
# sends ``"Contacts": []`` (registry: ``filled_singly``), and so are a budget's lines
# (Xero: "Budget lines will not be returned unless requesting a single budget").
DETAIL_FIELDS = ("LineItems", "Allocations", "Payments", "CreditNotes", "Prepayments", "Overpayments", "Contacts",
                 "BudgetLines")
EMPTIED_FIELDS = frozenset({"LineItems", "Contacts", "BudgetLines"})


class Variant(enum.IntFlag):
    """How one record is rendered; part of the cache key."""

    LINES = 1  # keep line items and other nested detail
    UNIT4 = 2  # unitdp=4 honoured: unit prices at 4 dp
    HIDE_ARCHIVED = 4  # drop ARCHIVED child elements (tracking options)
    SINGLE_JOURNAL = 8  # a journal fetched by id: Xero omits SourceID/SourceType
    XML = 16


def shape(record: Record, variant: Variant, *, children: tuple[str, ...] = ()) -> Record:
    """The record as this variant shows it (a shallow copy only when something changes)."""
    drop: list[str] = []
    if not variant & Variant.LINES:
        drop.extend(f for f in DETAIL_FIELDS if f in record)
    if variant & Variant.SINGLE_JOURNAL:
        drop.extend(f for f in ("SourceID", "SourceType") if f in record)
    hide = [
        f for f in children
        if variant & Variant.HIDE_ARCHIVED and isinstance(record.get(f), list)
        and any(isinstance(e, dict) and e.get("Status") == "ARCHIVED" for e in record[f])
    ]
    if not drop and not hide:
        return record
    shaped = {k: ([] if k in EMPTIED_FIELDS else v) for k, v in record.items()
              if k not in drop or k in EMPTIED_FIELDS}
    for f in hide:
        shaped[f] = [e for e in record[f] if not (isinstance(e, dict) and e.get("Status") == "ARCHIVED")]
    return shaped


def render_record(record: Record, variant: Variant, *, schema: str, children: tuple[str, ...] = ()) -> bytes:
    shaped = shape(record, variant, children=children)
    unit_dp = 4 if variant & Variant.UNIT4 else 2
    if variant & Variant.XML:
        return xml_element(schema, shaped, schema=schema, unit_dp=unit_dp).encode()
    return dumps(shaped, unit_dp=unit_dp).encode()


class RenderCache:
    """Rendered bytes per record, valid while the record's revision is unchanged.

    Only the latest revision of a record is kept, so memory stays proportional to the
    books. Races between threads at worst render a record twice.
    """

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str, str], tuple[int, dict[int, bytes]]] = {}
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[str, str, str], revision: int, variant: Variant,
            render: Callable[[], bytes]) -> bytes:
        entry = self._entries.get(key)
        if entry is not None and entry[0] == revision:
            data = entry[1].get(variant)
            if data is not None:
                self.hits += 1
                return data
            variants = entry[1]
        else:
            variants = {}
            self._entries[key] = (revision, variants)
        self.misses += 1
        data = render()
        variants[variant] = data
        return data

    def many(self, tenant_id: str, path: str, records: dict[str, Record], revisions: dict,
             keys: list[str], variant: Variant, render: Callable[[Record], bytes]) -> list[bytes]:
        """Bytes for each key still present, in order; the caller holds the books' lock."""
        entries, out, hits = self._entries, [], 0
        for k in keys:
            rec = records.get(k)
            if rec is None:  # hard-deleted since the key list was made
                continue
            rev = revisions.get((path, k), 0)
            entry = entries.get((tenant_id, path, k))
            if entry is not None and entry[0] == rev:
                data = entry[1].get(variant)
                if data is not None:
                    hits += 1
                    out.append(data)
                    continue
                variants = entry[1]
            else:
                variants = {}
                entries[(tenant_id, path, k)] = (rev, variants)
            data = variants[variant] = render(rec)
            out.append(data)
        self.hits += hits
        self.misses += len(out) - hits
        return out

    def clear(self) -> None:
        self._entries.clear()


# --- Errors -----------------------------------------------------------------------------


def problem(status: int, title: str, detail: str, instance: str) -> bytes:
    """Xero's ProblemDetails body for 401/403 (PascalCase, Type null, empty Extensions)."""
    return (
        f'{{"Type":null,"Title":{encode_basestring(title)},"Status":{status},'
        f'"Detail":{encode_basestring(detail)},"Instance":"{instance}","Extensions":{{}}}}'
    ).encode()


def api_exception(number: int, type_: str, message: str, *, xml: bool = False) -> bytes:
    """Xero's 400 ``ApiException`` body (``Error`` schema)."""
    body = {"ErrorNumber": number, "Type": type_, "Message": message}
    if xml:
        return xml_element("ApiException", body).encode()
    return dumps(body).encode()
