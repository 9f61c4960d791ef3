"""A ``where`` comparison: its operand types checked when compiled, its value per record.

Types are checked as Dynamic LINQ does, before any record is read: text compares
with text (or a Guid), a number with a number, anything with ``null`` by equality
only. At run time values are normalised first: GUIDs case-insensitively, dates as
instants, numbers as ``Decimal``; an ordering against a null is false.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from xero_pipeline.sandbox.api.operands import (
    Getter,
    QueryError,
    Record,
    as_instant,
    kind_name,
)

OPERATORS = ("==", "!=", ">", ">=", "<", "<=", "=")


def compare(op: str, left: Getter, lk: str, right: Getter, rk: str) -> Getter:
    op = "==" if op == "=" else op
    kinds = {lk, rk}
    if "null" in kinds:
        if op not in ("==", "!="):
            raise QueryError(f"Operator '{op}' cannot compare with null")
    elif kinds <= {"string", "guid"}:
        if "guid" in kinds and op not in ("==", "!="):
            raise QueryError(f"Operator '{op}' incompatible with operand type 'Guid'")
    elif lk != rk or lk.startswith(("object:", "array:")):
        raise QueryError(
            f"Operator '{op}' incompatible with operand types "
            f"'{kind_name(lk)}' and '{kind_name(rk)}'"
        )
    fold = "guid" in kinds  # GUIDs compare case-insensitively, like .NET's Guid type

    def norm(v: Any) -> Any:
        if v is None:
            return None
        if fold and isinstance(v, str):
            return v.lower()
        if isinstance(v, date):
            return as_instant(v)
        if isinstance(v, int) and not isinstance(v, bool):
            return Decimal(v)
        if isinstance(v, float):
            try:
                return Decimal(str(v))
            except InvalidOperation:
                return v
        return v

    def cmp(r: Record) -> bool:
        a, b = norm(left(r)), norm(right(r))
        if op == "==":
            return a == b
        if op == "!=":
            return a != b
        if a is None or b is None:
            return False
        try:
            if op == ">":
                return a > b
            if op == ">=":
                return a >= b
            if op == "<":
                return a < b
            return a <= b
        except TypeError:
            return False

    return cmp
