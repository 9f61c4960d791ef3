"""Stored values as the JSON bytes Xero sends, and the JSON response envelope.

* ``date`` and aware ``datetime`` both become ``"\\/Date(ms+0000)\\/"``; Xero escapes the
  slashes and clients must cope, so we do too (JSON parsers unescape them).
* ``Decimal`` is written with ``str``: an exact JSON number, never a float round trip.
* ``None`` fields are omitted: Xero's serializer never writes ``null``.
* ``UnitAmount``/``UnitPrice`` are rounded half-up to 2 dp unless the endpoint honours
  ``unitdp=4`` and the caller asked for it (XML rounds them the same way).
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from json.encoder import encode_basestring
from typing import Any

_EPOCH_ORD = date(1970, 1, 1).toordinal()
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CENT = Decimal("0.01")
_BASIS_POINT = Decimal("0.0001")
_UNIT_FIELDS = frozenset({"UnitAmount", "UnitPrice"})


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


def unit_quantum(unit_dp: int | None) -> Decimal | None:
    """What unit prices are rounded to: 4 dp, 2 dp, or None (as stored)."""
    return None if unit_dp is None else (_BASIS_POINT if unit_dp == 4 else _CENT)


def unit_rounded(value: Decimal, field: str, unit: Decimal | None) -> Decimal:
    if field in _UNIT_FIELDS and unit is not None:
        return value.quantize(unit, ROUND_HALF_UP)
    return value


_first_key: dict[str, str] = {}
_next_key: dict[str, str] = {}


def _key(k: str, first: bool) -> str:
    cache = _first_key if first else _next_key
    s = cache.get(k)
    if s is None:
        s = ("" if first else ",") + encode_basestring(k) + ":"
        cache[k] = s
    return s


def number(d: Decimal) -> str:
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
            # Inlined rather than unit_rounded(): this runs for every field of every record.
            if type(x) is Decimal and k in _UNIT_FIELDS and unit is not None:
                x = x.quantize(unit, ROUND_HALF_UP)
            _dump(x, out, unit)
        out.append("}")
    elif t is Decimal:
        out.append(number(v))
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
    _dump(value, out, unit_quantum(unit_dp))
    return "".join(out)


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
