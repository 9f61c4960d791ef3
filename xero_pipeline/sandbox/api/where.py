"""Xero's ``where`` query language, parsed and compiled to a Python predicate.

Xero evaluates ``where`` with .NET Dynamic LINQ against its own object model, so field
names are checked against the spec schema (unknown fields are an error, not "no rows";
see ``operands``), operand types must agree (see ``compare``), and dotted paths walk
into nested objects (``Contact.ContactID``). Supported: ``== != > >= < <=``,
``AND``/``OR``/``NOT`` (and ``&& || !``), parentheses, string/number/``true``/``false``/
``null`` literals, ``Guid("...")``, ``DateTime(y, m, d[, h, mi, s])``, and the string
methods ``Contains``, ``StartsWith``, ``EndsWith``, ``ToLower()``, ``ToUpper()``.
Anything else is a ``QueryError`` (HTTP 400).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from xero_pipeline.sandbox.api.compare import OPERATORS, compare
from xero_pipeline.sandbox.api.operands import (
    Getter,
    QueryError,
    Record,
    field_getter,
    kind_name,
    operand_kind,
    resolve,
)

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>"(?:[^"\\]|\\.)*")
     |(?P<num>-?\d+(?:\.\d+)?)
     |(?P<op>==|!=|>=|<=|&&|\|\||[<>=!(),.])
     |(?P<name>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.X,
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos, text = [], 0, text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise QueryError(f"Syntax error at position {pos} in where/order clause: {text[pos:pos + 20]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str, schema: str) -> None:
        self.toks = _tokens(text)
        self.i = 0
        self.schema = schema

    def peek(self, k: int = 0) -> tuple[str, str]:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else ("end", "")

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if value is not None and tok[1].lower() != value.lower():
            raise QueryError(f"Expected '{value}' but found '{tok[1] or 'end of clause'}'")
        if tok[0] == "end":
            raise QueryError("Unexpected end of where clause")
        self.i += 1
        return tok

    def is_word(self, *words: str) -> bool:
        kind, val = self.peek()
        return (kind == "name" and val.upper() in words) or (kind == "op" and val in words)

    # expr := and (OR and)* ; and := unary (AND unary)* ; unary := NOT unary | primary
    def expr(self) -> Getter:
        return self.chain(("OR", "||"), self.conj, lambda a, b: lambda r: bool(a(r)) or bool(b(r)))

    def conj(self) -> Getter:
        return self.chain(("AND", "&&"), self.unary, lambda a, b: lambda r: bool(a(r)) and bool(b(r)))

    def chain(self, words: tuple[str, str], operand: Callable[[], Getter],
              join: Callable[[Getter, Getter], Getter]) -> Getter:
        """``operand (word operand)*``, joined left to right."""
        left = operand()
        while self.is_word(*words):
            self.take()
            left = join(left, operand())
        return left

    def unary(self) -> Getter:
        if self.is_word("NOT", "!"):
            self.take()
            inner = self.unary()
            return lambda r: not inner(r)
        return self.comparison()

    def comparison(self) -> Getter:
        if self.peek()[1] == "(":
            self.take("(")
            inner = self.expr()
            self.take(")")
            return inner
        left, lkind = self.operand()
        kind, op = self.peek()
        if kind != "op" or op not in OPERATORS:
            if lkind != "bool":
                raise QueryError(f"Expression of type '{kind_name(lkind)}' expected to be Boolean")
            return left
        self.take()
        right, rkind = self.operand()
        return compare(op, left, lkind, right, rkind)

    def operand(self) -> tuple[Getter, str]:
        kind, val = self.take()
        if kind == "str":
            s = re.sub(r"\\(.)", r"\1", val[1:-1])
            return (lambda r: s), "string"
        if kind == "num":
            n = Decimal(val)
            return (lambda r: n), "number"
        if kind != "name":
            raise QueryError(f"Unexpected '{val}' in where clause")
        low = val.lower()
        if low in ("true", "false"):
            b = low == "true"
            return (lambda r: b), "bool"
        if low == "null":
            return (lambda r: None), "null"
        if low == "guid" and self.peek()[1] == "(":
            self.take("(")
            kind, s = self.take()
            self.take(")")
            if kind != "str":
                raise QueryError("Guid(...) takes a quoted string")
            g = s[1:-1].lower()
            return (lambda r: g), "guid"
        if low == "datetime" and self.peek()[1] == "(":
            return self.datetime_literal()
        return self.field(val)

    def datetime_literal(self) -> tuple[Getter, str]:
        self.take("(")
        parts: list[int] = []
        while True:
            kind, v = self.take()
            if kind != "num" or "." in v:
                raise QueryError("DateTime(...) takes integers: DateTime(2020, 01, 31)")
            parts.append(int(v))
            if self.peek()[1] == ")":
                self.take(")")
                break
            self.take(",")
        if len(parts) not in (3, 6):
            raise QueryError("DateTime(...) takes year, month, day [, hour, minute, second]")
        try:
            dt = datetime(*parts, tzinfo=UTC)
        except ValueError as e:
            raise QueryError(f"Invalid DateTime literal: {e}") from None
        return (lambda r: dt), "datetime"

    def field(self, first: str) -> tuple[Getter, str]:
        path = [first]
        method = None
        while self.peek()[1] == ".":
            self.take(".")
            kind, name = self.take()
            if kind != "name":
                raise QueryError(f"Unexpected '{name}' after '.'")
            if self.peek()[1] == "(" or name in ("HasValue", "Value"):
                method = name
                break
            path.append(name)
        canon, fkind = resolve(path, self.schema)
        getter = field_getter(canon)
        okind = operand_kind(fkind)
        if method is None:
            if okind == "string" and canon[-1].endswith("ID"):
                okind = "guid"  # Xero types *ID fields as Guid: compared case-insensitively
            return getter, okind
        return self.method(getter, okind, method)

    def method(self, getter: Getter, kind: str, name: str) -> tuple[Getter, str]:
        low = name.lower()
        if low == "hasvalue":
            return (lambda r: getter(r) is not None), "bool"
        if low == "value":
            return getter, kind
        self.take("(")
        if low in ("tolower", "toupper"):
            self.take(")")
            fn = str.lower if low == "tolower" else str.upper
            return (lambda r: fn(v) if isinstance(v := getter(r), str) else v), kind
        if low in ("contains", "startswith", "endswith"):
            arg_kind, arg = self.take()
            self.take(")")
            if arg_kind != "str" or kind != "string":
                raise QueryError(f"{name}() applies to text fields and takes a quoted string")
            s = re.sub(r"\\(.)", r"\1", arg[1:-1])
            test = {"contains": str.__contains__, "startswith": str.startswith, "endswith": str.endswith}[low]
            return (lambda r: isinstance(v := getter(r), str) and test(v, s)), "bool"
        raise QueryError(f"Method '{name}' is not supported in where clauses")


def compile_where(text: str, *, schema: str) -> Callable[[Record], bool]:
    parser = _Parser(text, schema)
    if not parser.toks:
        return lambda r: True
    pred = parser.expr()
    if parser.peek()[0] != "end":
        raise QueryError(f"Syntax error: unexpected '{parser.peek()[1]}' in where clause")
    return lambda r: bool(pred(r))
