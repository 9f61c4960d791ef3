"""Where things live in the warehouse, and how a name or a value is written into SQL text."""

from __future__ import annotations

from collections.abc import Iterable

SCHEMA = "xero"  # the raw tables: one per Xero object and per child array
LEDGER_SCHEMA = "ledger"  # accounting views over them (views.py)


def q(name: str) -> str:
    """Quote an identifier."""
    return '"' + name.replace('"', '""') + '"'


def qualified(table: str, schema: str = SCHEMA) -> str:
    return f"{q(schema)}.{q(table)}"


def lit(text: str) -> str:
    """A string literal."""
    return "'" + text.replace("'", "''") + "'"


def in_list(values: Iterable[str]) -> str:
    """``('A', 'B')``: the right-hand side of an ``IN``."""
    return "(" + ", ".join(map(lit, values)) + ")"
