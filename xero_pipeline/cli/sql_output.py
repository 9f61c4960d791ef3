"""`xero-pipeline sql`: a query's results as a text table, CSV, JSON or Markdown.

Values are written from DuckDB's Python values, never through pandas, so a NULL is
``NULL`` (an empty CSV field, JSON ``null``) and not ``NaT``/``<NA>``, decimals keep
every digit, and JSON columns stay JSON. CSV and JSON stream every row; the table and
Markdown show ``max_rows`` and say how many there were.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal
from itertools import chain
from typing import Any, TextIO

from xero_pipeline.warehouse.read import Result, connect_read_only, results, split_statements, written

FORMATS = ("table", "csv", "json", "markdown")
CELL_WIDTH = 60  # a table cell's most characters; JSON columns run to hundreds
NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
           "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL")


def print_query(query: str, *, path: str | None, fmt: str, max_rows: int, out: TextIO, err: TextIO) -> None:
    """Run ``query`` read-only and write its results to ``out`` (notes to ``err``)."""
    conn = connect_read_only(path)
    try:
        statements = split_statements(conn, query)
        if fmt in ("table", "markdown"):
            write = _table if fmt == "table" else _markdown
            shown = 0
            for result in results(conn, statements):
                out.write("\n" if shown else "")
                write(result, out, max_rows)
                shown += 1
            if not shown:
                out.write("ok\n")
            return
        if written(statements) > 1:
            err.write(f"note: the query has {written(statements)} statements; {fmt} shows the result of the last "
                      "one only (--format table or markdown shows every one)\n")
        for result in results(conn, statements):
            if result.last:
                (_csv if fmt == "csv" else _json)(result, out)
    finally:
        conn.close()


def query_text(query: str, *, path: str | None, max_rows: int = 200) -> str:
    """Every statement's result as a text table (the demo's summary)."""
    out = io.StringIO()
    print_query(query, path=path, fmt="table", max_rows=max_rows, out=out, err=out)
    return out.getvalue().rstrip("\n")


def rows_note(total: int, shown: int) -> str:
    counted = f"{total} row" + ("" if total == 1 else "s")
    return f"({counted})" if shown == total else f"({counted}, {shown} shown)"


def _head(result: Result, max_rows: int) -> tuple[list[tuple], int]:
    shown: list[tuple] = []
    total = 0
    for batch in result.batches:
        shown += batch[: max(0, max_rows - total)]
        total += len(batch)
    return shown, total


def text(value: Any, kind: str, null: str) -> str:
    """A value as DuckDB's own clients write it."""
    if value is None:
        return null
    if kind == "JSON" and isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")  # "0.0000000000", not "0E-10"
    if isinstance(value, (list, tuple, dict)):
        return json_value(value, "")
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return str(value)


def json_value(value: Any, kind: str) -> str:
    if value is None:
        return "null"
    if kind == "JSON" and isinstance(value, str):
        return value  # already JSON: an object stays an object
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")  # a JSON number with every digit
    if isinstance(value, float):
        return json.dumps(value) if math.isfinite(value) else "null"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))}: {json_value(v, '')}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(json_value(v, "") for v in value) + "]"
    if isinstance(value, (datetime, date, time)):
        return json.dumps(value.isoformat())
    return json.dumps(text(value, kind, ""), ensure_ascii=False)


def _numeric(kind: str) -> bool:
    return kind.startswith(NUMERIC)


def _table(result: Result, out: TextIO, max_rows: int) -> None:
    rows, total = _head(result, max_rows)

    def cell(value: Any, kind: str) -> str:
        shown = text(value, kind, "NULL").replace("\n", "\\n").replace("\t", " ")
        return shown if len(shown) <= CELL_WIDTH else shown[: CELL_WIDTH - 1] + "…"

    cells = [[cell(v, k) for v, k in zip(row, result.types)] for row in rows]
    widths = [max(len(name), *(len(r[i]) for r in cells)) if cells else len(name)
              for i, name in enumerate(result.columns)]
    right = [_numeric(k) for k in result.types]

    def line(values: Iterable[str]) -> str:
        return "  ".join(v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, right)).rstrip()

    out.write(line(result.columns) + "\n")
    out.write(line("-" * w for w in widths) + "\n")
    for r in cells:
        out.write(line(r) + "\n")
    out.write(rows_note(total, len(rows)) + "\n")


def _markdown(result: Result, out: TextIO, max_rows: int) -> None:
    rows, total = _head(result, max_rows)

    def cell(value: Any, kind: str) -> str:
        return text(value, kind, "NULL").replace("|", "\\|").replace("\r\n", "<br>").replace("\n", "<br>")

    out.write("| " + " | ".join(c.replace("|", "\\|") for c in result.columns) + " |\n")
    out.write("|" + "|".join("---:" if _numeric(k) else "---" for k in result.types) + "|\n")
    for row in rows:
        out.write("| " + " | ".join(cell(v, k) for v, k in zip(row, result.types)) + " |\n")
    out.write("\n" + rows_note(total, len(rows)) + "\n")


def _csv(result: Result, out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(result.columns)
    for batch in result.batches:
        writer.writerows([text(v, k, "") for v, k in zip(row, result.types)] for row in batch)


def _json(result: Result, out: TextIO) -> None:
    keys = [json.dumps(c, ensure_ascii=False) for c in result.columns]

    def obj(row: tuple) -> str:
        return "{" + ", ".join(f"{k}: {json_value(v, t)}" for k, v, t in zip(keys, row, result.types)) + "}"

    out.write("[")
    for i, row in enumerate(chain.from_iterable(result.batches)):
        out.write(("\n" if i == 0 else ",\n") + obj(row))
    out.write("\n]\n")
