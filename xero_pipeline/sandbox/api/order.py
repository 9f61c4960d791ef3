"""Xero's ``order`` clause: ``"Field [ASC|DESC], Other.Field DESC"`` as sort keys.

Fields are checked against the spec schema as in ``where`` (see ``operands``). The
sort is stable, with SQL Server's defaults: nulls first, text case-insensitively.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from xero_pipeline.sandbox.api.operands import (
    Getter,
    QueryError,
    Record,
    as_instant,
    field_getter,
    resolve,
)


def sort_key(getter: Getter) -> Callable[[Record], tuple]:
    """None first (SQL Server's NULL ordering), text case-insensitively (its collation)."""

    def key(r: Record) -> tuple:
        v = getter(r)
        if v is None:
            return (0, 0)
        if isinstance(v, str):
            return (1, v.casefold())
        if isinstance(v, date):
            return (1, as_instant(v))
        return (1, v)

    return key


def compile_order(text: str, *, schema: str) -> list[tuple[Callable[[Record], tuple], bool]]:
    """``"Field [ASC|DESC], Other.Field DESC"`` -> [(key function, descending)]."""
    out = []
    for part in text.split(","):
        words = part.split()
        if not words or len(words) > 2:
            raise QueryError(f"Invalid order clause: {part.strip()!r}")
        desc = False
        if len(words) == 2:
            if words[1].upper() not in ("ASC", "DESC"):
                raise QueryError(f"Invalid sort direction {words[1]!r}: use ASC or DESC")
            desc = words[1].upper() == "DESC"
        path = words[0].split(".")
        if not all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", p) for p in path):
            raise QueryError(f"Invalid order field {words[0]!r}")
        canon, kind = resolve(path, schema)
        if kind.startswith(("object:", "array:")):
            raise QueryError(f"Cannot order by '{words[0]}'")
        out.append((sort_key(field_getter(canon)), desc))
    return out
