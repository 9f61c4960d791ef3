"""Stored values as the XML Xero sends without ``Accept: application/json``.

The same data as the JSON: a ``<Response>`` envelope, singular element names for list
items (``<Invoices><Invoice>``), ISO dates, numbers and unit prices as in JSON
(``render_json``), ``None`` fields left out.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape as _xml_escape

from xero_pipeline.registry.fields import field_kinds
from xero_pipeline.sandbox.api.render_json import number, unit_quantum, unit_rounded


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
        return number(unit_rounded(v, field, unit))
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
    _xml(name, value, schema, unit_quantum(unit_dp), out)
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
