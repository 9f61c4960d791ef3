"""msgspec Structs built from a table's shape: which JSON values a column takes as sent.

Pure functions, no I/O; ``typed`` decodes records with them.

A Struct field's type admits exactly the values ``TableShape.row`` would store unchanged
(or, for dates, convert with the same converter): a string or null for a string column,
an integer in BIGINT's range or null for an integer column, ``true``/``false``/null for
a boolean, a string or null for a date. Anything else fails validation, and the record
goes to the reference shaper, which converts, widens or learns as it always has.

Two kinds arrive as their JSON text (``msgspec.Raw``), because a Struct type cannot say
what the reference accepts: decimals (msgspec would take the strings ``"NaN"`` and
``"1e5"`` into a ``Decimal``; the reference widens the column for those), and JSON
columns (the reference stores the value parsed with ``Decimal`` numbers and written
again, ``115.00`` as ``115.0``, so they are parsed the same way here). ``Raw`` cannot be
part of a union, so a JSON ``null`` arrives as the text ``null``.

Every field defaults to ``UNSET``: a field the record lacks is no column of its row,
as in the reference, while a ``null`` one is a null column. A field no shape knows
that has only ever been ``null`` (``nulls``) is taken as ``null`` only: the reference
ignores it, and learns it as a column once it holds a value, which the Struct refuses.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

import msgspec

from xero_pipeline.warehouse.shaping import TableShape
from xero_pipeline.warehouse.values import CONVERTERS, DECIMAL_INTEGER_DIGITS, DECIMAL_SCALE, Misfit


class Untypable(Exception):
    """A shape the typed rows cannot reproduce; its object is shaped from dicts."""


class Refused(Exception):
    """A value the typed path leaves to the reference shaper."""


# What makes the typed path hand a record to the reference shaper. Misfit: a date
# converter refusing its string (the reference then widens the column).
REFUSED = (msgspec.DecodeError, Refused, Misfit)

_BIGINT = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]
_AS_SENT: dict[str, Any] = {"string": str | None, "integer": _BIGINT | None, "boolean": bool | None}

# JSON's number grammar (no leading zeros) within DECIMAL(38, 10), at most 28 whole
# digits and 10 places: the numbers whose text is what the reference stores (``str`` of
# their ``Decimal``), except "-0" (an integer, stored as 0) and 0.0000001 or smaller
# (``Decimal`` writes 1E-7); the reference decides those, and every other text.
decimal_as_sent = re.compile(
    rb"(?!-0\Z|-?0\.0{6}[0-9])-?(?:0|[1-9][0-9]{0,%d})(?:\.[0-9]{1,%d})?"
    % (DECIMAL_INTEGER_DIGITS - 1, DECIMAL_SCALE)).fullmatch


# json.loads(parse_float=Decimal) as msgspec: the same values for every text msgspec
# accepts (NaN, Infinity and lone surrogates it refuses, and the page is parsed as before).
_JSON = msgspec.json.Decoder(float_hook=Decimal)


def _json(text: msgspec.Raw) -> Any:
    return _JSON.decode(text)


def _converter(kind: str) -> Callable[[Any], Any]:
    if kind == "json":
        return _json
    if kind in ("msdate", "msdatetime"):
        return CONVERTERS[kind]  # a string or null; a string it cannot parse raises Misfit
    raise Untypable(f"no typed field for the kind {kind!r}")


def _field_type(kind: str) -> Any:
    if kind in _AS_SENT:
        return _AS_SENT[kind]
    return str | None if kind in ("msdate", "msdatetime") else msgspec.Raw


@dataclass(frozen=True)
class TablePlan:
    """One table's Struct, and where each of its values goes in a row."""

    struct: type[msgspec.Struct]
    plain: tuple[str, ...]  # the columns of the Struct's first fields, stored as decoded
    # (index in the Struct's values, column) of each decimal, decoded as Raw
    decimals: tuple[tuple[int, str], ...]
    # (index, column, converter, flat id column and id field) of each date and JSON value
    post: tuple[tuple[int, str, Callable[[Any], Any], tuple[str, str] | None], ...]
    index: dict[str, int]  # Xero field -> position in the Struct's values


def table_plan(shape: TableShape, child_structs: dict[str, type[msgspec.Struct]],
               nulls: frozenset[str] = frozenset()) -> TablePlan:
    """The Struct of ``shape``'s fields, in the order ``typed`` reads them: values stored
    as decoded, then values to convert, then skipped fields (``child_structs``: the
    Struct of each child array among them), then ``nulls``, fields to take as null only."""
    columns = [column for column, _ in shape.fields.values()]
    if len(set(columns)) != len(columns):
        # Two fields filling one column: which one wins depends on the record's order.
        raise Untypable(f"{shape.table}: two fields fill one column")
    plain = [(f, c, k) for f, (c, k) in shape.fields.items() if k in _AS_SENT]
    post = [(f, c, k) for f, (c, k) in shape.fields.items() if k not in _AS_SENT]
    fields: list[tuple[str, Any, Any]] = []
    rename: dict[str, str] = {}
    index: dict[str, int] = {}

    def add(xero_field: str, kind_type: Any) -> int:
        # Attribute names of our own (f0, f1 ...): a Xero field could be named like a
        # Python keyword or a Struct attribute; rename maps each back to Xero's name.
        name = f"f{len(fields)}"
        fields.append((name, kind_type, msgspec.UNSET))
        rename[name] = xero_field
        index[xero_field] = len(fields) - 1
        return index[xero_field]

    for xero_field, _, kind in plain:
        add(xero_field, _field_type(kind))
    decimals, post_plan = [], []
    for xero_field, column, kind in post:
        i = add(xero_field, _field_type(kind))
        if kind == "decimal":
            decimals.append((i, column))
        else:
            post_plan.append((i, column, _converter(kind), shape.id_columns.get(xero_field)))
    for xero_field in sorted(shape.skip):
        child = child_structs.get(xero_field)
        # Any other skipped field (write-only ones such as ValidationErrors) is ignored by
        # the reference whatever it holds: Raw takes any value.
        add(xero_field, list[child] | None if child is not None else msgspec.Raw)
    for xero_field in sorted(nulls - shape.fields.keys() - shape.skip):
        add(xero_field, None)
    # gc=False: decoded records hold no cycles, and a page's thousands of Structs then
    # cost the garbage collector nothing.
    struct = msgspec.defstruct(f"Typed_{shape.table}", fields, rename=rename, forbid_unknown_fields=True,
                               gc=False)
    return TablePlan(struct, tuple(c for _, c, _ in plain), tuple(decimals), tuple(post_plan), index)
