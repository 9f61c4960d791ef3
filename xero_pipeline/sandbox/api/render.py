"""Turning stored records into the bytes Xero would send: JSON (and XML), plus envelopes.

Records hold Python values (see ``store``); this module owns the wire format:

* ``date`` and aware ``datetime`` both become ``"\\/Date(ms+0000)\\/"``; Xero escapes the
  slashes and clients must cope, so we do too (JSON parsers unescape them).
* ``Decimal`` is written with ``str``: an exact JSON number, never a float round trip.
* ``None`` fields are omitted: Xero's serializer never writes ``null``.
* ``UnitAmount``/``UnitPrice`` are rounded half-up to 2 dp unless the endpoint honours
  ``unitdp=4`` and the caller asked for it.

Rendering a record is the expensive part of serving a page, so ``RenderCache`` keeps the
bytes per (tenant, path, key) for the record's current revision and each variant; a page
is then one ``b",".join`` of cached pieces.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from json.encoder import encode_basestring
from typing import Any
from xml.sax.saxutils import escape as _xml_escape

from xero_pipeline.registry.fields import field_kinds

Record = dict[str, Any]

_EPOCH_ORD = date(1970, 1, 1).toordinal()
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CENT = Decimal("0.01")
_BASIS_POINT = Decimal("0.0001")
_UNIT_FIELDS = frozenset({"UnitAmount", "UnitPrice"})

# Nested detail that Xero leaves out of unpaged multi-record reads of documents; the
# summary totals (AmountPaid, AmountCredited ...) stay on the record. LineItems is sent
# as an empty array rather than dropped: that is what Xero's SDK maintainers report
# (XeroAPI/xero-ruby#9: "without pagination, it will return empty array as line items")
# and the spec marks BankTransaction.LineItems as required.
# A contact group's members are likewise only in a read by id: the spec's list example
# sends ``"Contacts": []`` (registry: ``filled_singly``).
DETAIL_FIELDS = ("LineItems", "Allocations", "Payments", "CreditNotes", "Prepayments", "Overpayments", "Contacts")
EMPTIED_FIELDS = frozenset({"LineItems", "Contacts"})


class Variant(enum.IntFlag):
    """How one record is rendered; part of the cache key."""

    LINES = 1  # keep line items and other nested detail
    UNIT4 = 2  # unitdp=4 honoured: unit prices at 4 dp
    HIDE_ARCHIVED = 4  # drop ARCHIVED child elements (tracking options)
    SINGLE_JOURNAL = 8  # a journal fetched by id: Xero omits SourceID/SourceType
    XML = 16


def ms(value: date) -> int:
    """Milliseconds since the Unix epoch; a ``date`` means midnight UTC."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        d = value - _EPOCH
        return d.days * 86_400_000 + d.seconds * 1000 + d.microseconds // 1000
    return (value.toordinal() - _EPOCH_ORD) * 86_400_000


def msdate(value: date) -> str:
    return f"/Date({ms(value)}+0000)/"


# --- JSON -----------------------------------------------------------------------------

_first_key: dict[str, str] = {}
_next_key: dict[str, str] = {}


def _key(k: str, first: bool) -> str:
    cache = _first_key if first else _next_key
    s = cache.get(k)
    if s is None:
        s = ("" if first else ",") + encode_basestring(k) + ":"
        cache[k] = s
    return s


def _num(d: Decimal) -> str:
    if not d.is_finite():
        raise ValueError(f"cannot render {d} as a JSON number")
    return str(d)


def _dump(v: Any, out: list[str], unit: Decimal | None) -> None:
    t = type(v)
    if t is str:
        out.append(encode_basestring(v))
    elif t is dict:
        first = True
        out.append("{")
        for k, x in v.items():
            if x is None:
                continue
            out.append(_key(k, first))
            first = False
            if type(x) is Decimal and k in _UNIT_FIELDS and unit is not None:
                x = x.quantize(unit, ROUND_HALF_UP)
            _dump(x, out, unit)
        out.append("}")
    elif t is Decimal:
        out.append(_num(v))
    elif t is list or t is tuple:
        out.append("[")
        for i, x in enumerate(v):
            if i:
                out.append(",")
            _dump(x, out, unit)
        out.append("]")
    elif t is bool:
        out.append("true" if v else "false")
    elif t is int:
        out.append(str(v))
    elif t is datetime or t is date:
        out.append(f'"\\/Date({ms(v)}+0000)\\/"')
    elif v is None:
        out.append("null")
    elif isinstance(v, float):
        out.append(repr(v))
    elif isinstance(v, enum.Enum):
        _dump(v.value, out, unit)
    else:
        raise TypeError(f"cannot render {t.__name__} in a Xero response")


def dumps(value: Any, *, unit_dp: int | None = None) -> str:
    """JSON text for any stored value; ``unit_dp`` rounds unit prices (None: as stored)."""
    out: list[str] = []
    _dump(value, out, None if unit_dp is None else (_BASIS_POINT if unit_dp == 4 else _CENT))
    return "".join(out)


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


def json_envelope(*, response_id: str, provider: str, now: datetime, key: str, items: list[bytes],
                  pagination: dict[str, int] | None = None) -> bytes:
    head = (
        f'{{"Id":"{response_id}","Status":"OK","ProviderName":{encode_basestring(provider)},'
        f'"DateTimeUTC":"\\/Date({ms(now)})\\/",'
    )
    if pagination is not None:
        head += '"pagination":{' + ",".join(f'"{k}":{v}' for k, v in pagination.items()) + "},"
    head += f'"{key}":['
    return b"".join((head.encode(), b",".join(items), b"]}"))


# --- XML --------------------------------------------------------------------------------

def _singular(name: str) -> str:
    if name.endswith("ies"):
        return name[:-3] + "y"
    if name.endswith(("sses", "xes")):
        return name[:-2]
    if name.endswith("s") and not name.endswith("ss"):
        return name[:-1]
    return name


def _xml_text(v: Any, unit: Decimal | None, field: str) -> str:
    t = type(v)
    if t is bool:
        return "true" if v else "false"
    if t is Decimal:
        if field in _UNIT_FIELDS and unit is not None:
            v = v.quantize(unit, ROUND_HALF_UP)
        return _num(v)
    if t is datetime:
        # Xero's XML writes instants as local-free ISO strings with milliseconds.
        return v.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds")
    if t is date:
        return v.isoformat() + "T00:00:00"
    return _xml_escape(str(v.value if isinstance(v, enum.Enum) else v))


def _kinds(schema: str | None) -> dict[str, str]:
    if not schema:
        return {}
    try:
        return field_kinds(schema)
    except KeyError:
        return {}


def _xml(name: str, v: Any, schema: str | None, unit: Decimal | None, out: list[str]) -> None:
    if v is None:
        return
    if isinstance(v, dict):
        kinds = _kinds(schema)
        out.append(f"<{name}>")
        for k, x in v.items():
            kind = kinds.get(k, "")
            sub = kind.split(":", 1)[1] if ":" in kind else None
            _xml(k, x, sub, unit, out)
        out.append(f"</{name}>")
    elif isinstance(v, list | tuple):
        out.append(f"<{name}>")
        item = _singular(name) if name.endswith("s") else (schema or "Item")
        for x in v:
            _xml(item, x, schema, unit, out)
        out.append(f"</{name}>")
    else:
        out.append(f"<{name}>{_xml_text(v, unit, name)}</{name}>")


def xml_element(name: str, value: Any, *, schema: str | None = None, unit_dp: int | None = None) -> str:
    out: list[str] = []
    _xml(name, value, schema, None if unit_dp is None else (_BASIS_POINT if unit_dp == 4 else _CENT), out)
    return "".join(out)


def xml_envelope(*, response_id: str, provider: str, now: datetime, key: str, items: list[bytes],
                 pagination: dict[str, int] | None = None) -> bytes:
    head = [
        '<Response xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema">',
        f"<Id>{response_id}</Id><Status>OK</Status><ProviderName>{_xml_escape(provider)}</ProviderName>",
        f"<DateTimeUTC>{_xml_text(now, None, '')}</DateTimeUTC>",
    ]
    if pagination is not None:
        head.append(xml_element("pagination", pagination))
    head.append(f"<{key}>")
    return b"".join(("".join(head).encode(), *items, f"</{key}></Response>".encode()))


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
