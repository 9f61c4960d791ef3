"""What a Xero value becomes in a warehouse column: the column kinds, their SQL types,
the conversion of each value, and the JSON text of rows and nested objects.

Pure functions, no I/O; ``shaping`` decides which columns a table has and uses these
to fill them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

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


def sql_kind(kind: str) -> str:
    """Collapse a spec field kind to one of the keys of ``SQL_TYPES``."""
    return "json" if kind.startswith(("object:", "array:")) else kind


def infer_kind(value: Any) -> str:
    """The kind of a field the spec does not know, from one of its values."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, (Decimal, float)):
        return "decimal"
    if isinstance(value, (dict, list)):
        return "json"
    if is_ms_date(value):
        return "msdatetime"
    return "string"


def json_default(value: Any) -> Any:
    """``json.dumps``' ``default``: the values Xero's parsed JSON holds that JSON lacks."""
    if isinstance(value, Decimal):
        # Only nested JSON columns pass through here; their amounts are 2-4 dp, which a
        # float's shortest repr reproduces exactly.
        return float(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in a JSON column")


def to_json_text(value: Any) -> str:
    """Compact JSON, as the spool writes rows and as nested objects are stored."""
    return json.dumps(value, default=json_default, separators=(",", ":"))


def _convert_instant(value: Any) -> str | None:
    parsed = parse_instant(value) if isinstance(value, str) else value
    return None if parsed is None else parsed.replace(tzinfo=None).isoformat(sep=" ")


def _convert_date(value: Any) -> str | None:
    parsed = parse_date(value) if isinstance(value, str) else value
    return None if parsed is None else parsed.isoformat()


def _convert_decimal(value: Any) -> str | None:
    # Strings, because the NDJSON spool must not turn 0.1 into 0.1000000000000000055.
    return None if value is None or value == "" else str(value)


def _convert_integer(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


def _convert_boolean(value: Any) -> bool | None:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return None if value is None else bool(value)


def _convert_string(value: Any) -> str | None:
    return None if value is None else str(value)


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
    "string": _convert_string,
    "json": _convert_json,
}


@dataclass
class Column:
    name: str
    kind: str  # a key of SQL_TYPES

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.kind]
