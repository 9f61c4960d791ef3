"""What a Xero value becomes in a warehouse column: the column kinds, their SQL types,
the conversion of each value, and the JSON text of rows and nested objects.

Pure functions, no I/O; ``shaping`` decides which columns a table has and uses these
to fill them.

A conversion never changes a value: one its column's kind cannot hold exactly (12.99
for a BIGINT, text for a DECIMAL, an object for a VARCHAR, a 14th decimal place) raises
``Misfit``, and the column widens to ``wider_kind`` instead. Kinds only ever widen, along
integer -> decimal -> string -> json (dates and booleans -> string -> json).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson

from xero_pipeline.xero.dates import is_ms_date, parse_date, parse_instant

DECIMAL_TYPE = "DECIMAL(38, 10)"
SQL_TYPES = {
    "msdate": "DATE",
    "msdatetime": "TIMESTAMP",
    "decimal": DECIMAL_TYPE,
    "integer": "BIGINT",
    "boolean": "BOOLEAN",
    "string": "VARCHAR",
    "json": "JSON",
}


def cast_text_sql(expr: str, sql_type: str) -> str:
    """SQL turning the text ``expr`` into ``sql_type``.

    DuckDB 1.4 turns text into a DECIMAL of more than 18 digits about 100 times slower
    than into one of 18 (10 microseconds a value, which was most of a merge's time).
    Text that fits DECIMAL(18, 10) (eight whole digits) goes that way and widens exactly;
    only larger amounts take the slow cast, and text that is no number fails it as before.
    """
    if sql_type == DECIMAL_TYPE:
        return f"COALESCE(CAST(TRY_CAST({expr} AS DECIMAL(18, 10)) AS {sql_type}), CAST({expr} AS {sql_type}))"
    return f"CAST({expr} AS {sql_type})"


def sql_kind(kind: str) -> str:
    """Collapse a spec field kind to one of the keys of ``SQL_TYPES``."""
    return "json" if kind.startswith(("object:", "array:")) else kind


def kind_of_type(sql_type: str) -> str | None:
    """The kind of a column DuckDB reports as ``sql_type``; None for a type we never make."""
    return _KIND_OF_TYPE.get(sql_type.replace(" ", "").upper())


_KIND_OF_TYPE = {t.replace(" ", ""): k for k, t in SQL_TYPES.items()}


def infer_kind(value: Any) -> str:
    """The kind of a field the spec does not know, from one of its values.

    A number is ``decimal`` even when it is whole: the first value of a new money field
    is often ``0``, and a BIGINT column would round every later ``12.99``. Only the spec
    makes a column ``integer``.
    """
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, Decimal, float)):
        return "decimal"
    if isinstance(value, (dict, list)):
        return "json"
    if is_ms_date(value):
        return "msdatetime"
    return "string"


def wider_kind(kind: str, value: Any) -> str:
    """The narrowest kind that holds both what ``kind`` holds and ``value`` (which it cannot)."""
    if isinstance(value, (dict, list)):
        return "json"
    if kind == "integer":
        try:
            _fitting_decimal(value)
            return "decimal"
        except Misfit:
            pass
    return "string"


def join_kinds(a: str, b: str) -> str:
    """The narrowest kind holding every value of both kinds (a column's type and a load's)."""
    if a == b:
        return a
    if "json" in (a, b):
        return "json"
    if {a, b} == {"integer", "decimal"}:
        return "decimal"
    return "string"


def json_default(value: Any) -> Any:
    """``json.dumps``' ``default``: the values Xero's parsed JSON holds that JSON lacks."""
    if isinstance(value, Decimal):
        # Only nested JSON values pass through here. Their amounts have 2-4 dp, which a
        # float's shortest repr reproduces exactly; one it would change stays as text.
        text = str(value)
        if len(text) <= 15 and "E" not in text:  # at most 15 digits: the float is exact
            return float(value)
        as_float = float(value)
        return as_float if Decimal(repr(as_float)) == value else text
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in a JSON column")


def to_json_text(value: Any) -> str:
    """Compact JSON text of a row or a nested value, ASCII only (``json.dumps``')."""
    return json.dumps(value, default=json_default, separators=(",", ":"))


def to_json_bytes(value: Any) -> bytes:
    """``to_json_text`` as UTF-8, the same JSON value (non-ASCII characters are not
    escaped), three times faster: the spool writes a row per call, a million a sync.

    orjson refuses integers beyond 64 bits (which only a nested JSON value can hold) and
    nesting deeper than 254; those rows take the standard encoder, which also raises the
    readable error for a value no JSON can hold."""
    try:
        return orjson.dumps(value, default=json_default)
    except orjson.JSONEncodeError:
        return to_json_text(value).encode()


class Misfit(ValueError):
    """A value a column's kind cannot hold without changing it; the column must widen."""


_INT_RANGE = (-(2**63), 2**63 - 1)  # BIGINT
_PLAIN_INT = re.compile(r"-?[0-9]+\Z")
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?\Z")
DECIMAL_SCALE, DECIMAL_INTEGER_DIGITS = 10, 28  # DECIMAL(38, 10)


def _fitting_decimal(value: Any) -> Decimal:
    """``value`` as a Decimal that DECIMAL(38, 10) holds exactly, or ``Misfit``."""
    t = type(value)
    if t is Decimal:
        d = value
    elif t is int:
        d = Decimal(value)
    elif t is str and _PLAIN_NUMBER.match(value):  # numbers sent as strings (the SDK accepts them)
        d = Decimal(value)
    elif t is float:
        d = Decimal(repr(value))
    else:
        raise Misfit
    if not d.is_finite():
        raise Misfit
    if d.is_zero():
        return d
    if d.as_tuple().exponent < -DECIMAL_SCALE and d.normalize().as_tuple().exponent < -DECIMAL_SCALE:
        raise Misfit  # more decimal places than the column keeps: DuckDB would round
    if d.adjusted() >= DECIMAL_INTEGER_DIGITS:
        raise Misfit
    return d


def _parsed(value: Any, parse: Callable[[str], Any], kind: type) -> Any:
    """A Xero date string parsed, or a value already of ``kind``; anything else misfits."""
    if isinstance(value, str):
        try:
            return parse(value)
        except (ValueError, OverflowError):
            raise Misfit from None
    if isinstance(value, kind):
        return value
    raise Misfit


def _instant_text(value: Any) -> str | None:
    parsed = None if value is None or value == "" else _parsed(value, parse_instant, datetime)
    return None if parsed is None else parsed.replace(tzinfo=None).isoformat(sep=" ")


def _date_text(value: Any) -> str | None:
    parsed = None if value is None or value == "" else _parsed(value, parse_date, date)
    return None if parsed is None else parsed.isoformat()


def _remembered(convert: Callable[[Any], str | None]) -> Callable[[Any], str | None]:
    """``convert`` with the text of each date string kept: an organisation's records share
    few calendar dates (invoices' Date and DueDate, a journal's day), and parsing
    ``/Date(...)/`` was a tenth of shaping. Instants (``UpdatedDateUTC``) rarely repeat, so
    they are not kept. A misfit raises and is not kept; a full memo is emptied."""
    memo: dict[str, str | None] = {}

    def remembered(value: Any) -> str | None:
        if type(value) is not str:
            return convert(value)
        try:
            return memo[value]
        except KeyError:
            text = convert(value)
            if len(memo) >= 50_000:
                memo.clear()
            memo[value] = text
            return text

    return remembered


_convert_instant = _instant_text
_convert_date = _remembered(_date_text)


def _convert_decimal(value: Any) -> str | None:
    # Strings, because the NDJSON spool must not turn 0.1 into 0.1000000000000000055.
    if type(value) is Decimal:
        # The common case, decided on the text: plain digits with at most 28 before the
        # point and 10 after it.
        text = str(value)
        dot = text.find(".")
        whole, places = (len(text), 0) if dot < 0 else (dot, len(text) - dot - 1)
        if whole - (text[0] == "-") <= DECIMAL_INTEGER_DIGITS and places <= DECIMAL_SCALE \
                and text[-1].isdigit() and "E" not in text:
            return text
    if value is None or value == "":
        return None
    return str(_fitting_decimal(value))


def _convert_integer(value: Any) -> int | None:
    if value is None or value == "":
        return None
    t = type(value)
    if t is int:
        n = value
    elif t is Decimal and value.is_finite() and value == value.to_integral_value():
        n = int(value)
    elif t is str and _PLAIN_INT.match(value):
        n = int(value)
    else:
        raise Misfit  # a fraction, text, true/false: int() would truncate or fail
    if not _INT_RANGE[0] <= n <= _INT_RANGE[1]:
        raise Misfit
    return n


def _convert_boolean(value: Any) -> bool | None:
    if value is None:
        return None
    if type(value) is bool:
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "false"):
            return text == "true"
        if not text:
            return None
    raise Misfit


def convert_string(value: Any) -> str | None:
    t = type(value)
    if t is str or value is None:
        return value
    if t is bool:
        return "true" if value else "false"  # as JSON, and as DuckDB casts a BOOLEAN column
    if t is dict or t is list:
        raise Misfit  # str() would store Python's repr of it
    return repr(value) if t is float else str(value)


def _convert_json(value: Any) -> Any:
    # Left nested: the spool writes the row as JSON and DuckDB reads a JSON-typed column
    # verbatim, so the nested object lands as JSON rather than as a quoted string.
    return value


CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "msdate": _convert_date,
    "msdatetime": _convert_instant,
    "decimal": _convert_decimal,
    "integer": _convert_integer,
    "boolean": _convert_boolean,
    "string": convert_string,
    "json": _convert_json,
}


@dataclass
class Column:
    name: str
    kind: str  # a key of SQL_TYPES

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.kind]
