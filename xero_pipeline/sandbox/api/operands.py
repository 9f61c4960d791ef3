"""What ``where`` and ``order`` clauses operate on: the spec's fields, their values and kinds.

Xero evaluates both clauses with .NET Dynamic LINQ against its own object model, so
field names are checked against the spec schema (an unknown field is an error, not
"no rows") and dotted paths walk into nested objects (``Contact.ContactID``). Any
clause Xero would reject raises ``QueryError`` (HTTP 400).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from xero_pipeline.registry.fields import field_kinds

Record = dict[str, Any]
Getter = Callable[[Record], Any]

_KIND_NAMES = {"datetime": "DateTime", "number": "Decimal", "bool": "Boolean", "string": "String",
               "guid": "Guid", "null": "null"}


class QueryError(ValueError):
    """A query Xero would reject with 400; carries Xero's error number and type."""

    def __init__(self, message: str, *, number: int = 16, type_: str = "QueryParseException") -> None:
        super().__init__(message)
        self.number = number
        self.type_ = type_


def resolve(path: list[str], schema: str) -> tuple[list[str], str]:
    """Canonical field names (Xero matches them case-insensitively) and the leaf kind."""
    canon, kind = [], f"object:{schema}"
    for part in path:
        if not kind.startswith("object:"):
            raise QueryError(f"No property or field '{part}' exists in type '{kind}'")
        owner = kind.split(":", 1)[1]
        try:
            kinds = field_kinds(owner)
        except KeyError:
            raise QueryError(f"No property or field '{part}' exists in type '{owner}'") from None
        match = next((k for k in kinds if k.lower() == part.lower()), None)
        if match is None:
            raise QueryError(f"No property or field '{part}' exists in type '{owner}'")
        canon.append(match)
        kind = kinds[match]
    return canon, kind


def field_getter(path: list[str]) -> Getter:
    if len(path) == 1:
        name = path[0]
        return lambda r: r.get(name)

    def get(r: Record) -> Any:
        v: Any = r
        for p in path:
            if not isinstance(v, dict):
                return None
            v = v.get(p)
        return v

    return get


def operand_kind(field_kind: str) -> str:
    if field_kind in ("msdate", "msdatetime"):
        return "datetime"
    if field_kind in ("decimal", "integer"):
        return "number"
    if field_kind == "boolean":
        return "bool"
    if field_kind == "string":
        return "string"
    return field_kind  # object:/array: cannot be compared


def kind_name(kind: str) -> str:
    """An operand kind as .NET names the type in Xero's error messages."""
    return _KIND_NAMES.get(kind, kind)


def as_instant(v: Any) -> Any:
    """Dates compare as midnight UTC; naive datetimes (DateTime literals) as UTC."""
    if isinstance(v, datetime):
        return v if v.tzinfo else v.replace(tzinfo=UTC)
    if isinstance(v, date):
        return datetime(v.year, v.month, v.day, tzinfo=UTC)
    return v
