"""Xero's ``where`` and ``order`` query languages, compiled to Python callables.

Xero evaluates ``where`` with .NET Dynamic LINQ against its own object model, so field
names are checked against the spec schema (unknown fields are an error, not "no rows"),
operand types must agree, and dotted paths walk into nested objects
(``Contact.ContactID``). Supported: ``== != > >= < <=``, ``AND``/``OR``/``NOT`` (and
``&& || !``), parentheses, string/number/``true``/``false``/``null`` literals,
``Guid("...")``, ``DateTime(y, m, d[, h, mi, s])``, and the string methods
``Contains``, ``StartsWith``, ``EndsWith``, ``ToLower()``, ``ToUpper()``. Anything else is
a ``QueryError`` (HTTP 400).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from xero_pipeline.registry.fields import field_kinds

Record = dict[str, Any]
Getter = Callable[[Record], Any]


class QueryError(ValueError):
    """A query Xero would reject with 400; carries Xero's error number and type."""

    def __init__(self, message: str, *, number: int = 16, type_: str = "QueryParseException") -> None:
        super().__init__(message)
        self.number = number
        self.type_ = type_


_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>"(?:[^"\\]|\\.)*")
     |(?P<num>-?\d+(?:\.\d+)?)
     |(?P<op>==|!=|>=|<=|&&|\|\||[<>=!(),.])
     |(?P<name>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.X,
)
_KIND_NAMES = {"datetime": "DateTime", "number": "Decimal", "bool": "Boolean", "string": "String",
               "guid": "Guid", "null": "null"}


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


def _resolve(path: list[str], schema: str) -> tuple[list[str], str]:
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


def _operand_kind(field_kind: str) -> str:
    if field_kind in ("msdate", "msdatetime"):
        return "datetime"
    if field_kind in ("decimal", "integer"):
        return "number"
    if field_kind == "boolean":
        return "bool"
    if field_kind == "string":
        return "string"
    return field_kind  # object:/array: cannot be compared


def as_instant(v: Any) -> Any:
    """Dates compare as midnight UTC; naive datetimes (DateTime literals) as UTC."""
    if isinstance(v, datetime):
        return v if v.tzinfo else v.replace(tzinfo=UTC)
    if isinstance(v, date):
        return datetime(v.year, v.month, v.day, tzinfo=UTC)
    return v


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
        left = self.conj()
        while self.is_word("OR", "||"):
            self.take()
            right = self.conj()
            left = (lambda a, b: lambda r: bool(a(r)) or bool(b(r)))(left, right)
        return left

    def conj(self) -> Getter:
        left = self.unary()
        while self.is_word("AND", "&&"):
            self.take()
            right = self.unary()
            left = (lambda a, b: lambda r: bool(a(r)) and bool(b(r)))(left, right)
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
        if kind != "op" or op not in ("==", "!=", ">", ">=", "<", "<=", "="):
            if lkind != "bool":
                kind_name = _KIND_NAMES.get(lkind, lkind)
                raise QueryError(f"Expression of type '{kind_name}' expected to be Boolean")
            return left
        self.take()
        right, rkind = self.operand()
        return _compare(op, left, lkind, right, rkind)

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
        canon, fkind = _resolve(path, self.schema)
        getter = field_getter(canon)
        okind = _operand_kind(fkind)
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


def _compare(op: str, left: Getter, lk: str, right: Getter, rk: str) -> Getter:
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
            f"'{_KIND_NAMES.get(lk, lk)}' and '{_KIND_NAMES.get(rk, rk)}'"
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


def compile_where(text: str, *, schema: str) -> Callable[[Record], bool]:
    parser = _Parser(text, schema)
    if not parser.toks:
        return lambda r: True
    pred = parser.expr()
    if parser.peek()[0] != "end":
        raise QueryError(f"Syntax error: unexpected '{parser.peek()[1]}' in where clause")
    return lambda r: bool(pred(r))


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
        canon, kind = _resolve(path, schema)
        if kind.startswith(("object:", "array:")):
            raise QueryError(f"Cannot order by '{words[0]}'")
        out.append((sort_key(field_getter(canon)), desc))
    return out
