"""Compare the warehouse with the sandbox's ground truth, column by column.

The expected rows are the sandbox's ground-truth records put through the same shaping
rules a user relies on (names, types, child rows); the actual rows are read back from
DuckDB. Values are compared by meaning (Decimal to Decimal, date to date, JSON to
JSON), so a float sneaking in, a lost child row or a stale version all fail.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from xero_pipeline.registry import XeroObject
from xero_pipeline.warehouse.connection import open_warehouse
from xero_pipeline.warehouse.shaping import RecordShaper, TableShape
from xero_pipeline.warehouse.values import to_json_text


def _norm(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "decimal":
        return Decimal(str(value)).normalize()
    if kind == "msdate":
        return value if isinstance(value, date) else date.fromisoformat(value)
    if kind == "msdatetime":
        return value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if kind == "json":
        return json.loads(value) if isinstance(value, str) else json.loads(to_json_text(value))
    return value


def _expected(obj: XeroObject, tenant: str, records: Iterable[dict]) -> tuple[RecordShaper, dict[str, dict[tuple, dict]]]:
    """The rows the records make, and the shaper that made them: its column kinds include
    fields the spec lacks and columns widened for values of another kind."""
    shaper = RecordShaper(obj, tenant_id=tenant, synced_at=datetime.now(UTC))
    out: dict[str, dict[tuple, dict]] = {s.table: {} for s in shaper.shapes()}
    for seq, record in enumerate(records):
        shaped = shaper.shape(record, seq)
        out[obj.table][tuple(shaped.parent[k] for k in shaper.parent.key)] = shaped.parent
        for table, rows in shaped.children.items():
            shape = shaper.children[table][1]
            for row in rows:
                out[table][tuple(row[k] for k in shape.key)] = row
    return shaper, out


def _actual(conn: duckdb.DuckDBPyConnection, shape: TableShape, tenant: str, live_only: bool) -> dict[tuple, dict]:
    exists = conn.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'xero' AND table_name = ?", [shape.table]
    ).fetchone()[0]
    if not exists:
        return {}
    where = "tenant_id = ?" + (" AND _deleted_at IS NULL" if live_only else "")
    cur = conn.execute(f'SELECT * FROM xero."{shape.table}" WHERE {where}', [tenant])
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r)) for r in cur.fetchall()]
    return {tuple(r[k] for k in shape.key): r for r in rows}


def diff_warehouse(db: Path, truth: dict[str, dict[str, list[dict]]], objects: Iterable[XeroObject]) -> list[str]:
    """Every difference between the warehouse and the truth, as readable lines."""
    problems: list[str] = []
    conn = open_warehouse(db, read_only=True)
    try:
        for tenant, collections in truth.items():
            for obj in objects:
                shaper, expected = _expected(obj, tenant, collections.get(obj.path, []))
                for shape in shaper.shapes():
                    is_parent = shape.table == obj.table
                    want = expected[shape.table]
                    # Hard-deleted children (tracking options, group members) stay marked.
                    got = _actual(conn, shape, tenant, live_only=is_parent or "_deleted_at" in shape.columns)
                    missing, extra = want.keys() - got.keys(), got.keys() - want.keys()
                    if missing:
                        problems.append(f"{tenant} {shape.table}: {len(missing)} missing, e.g. {sorted(missing)[:2]}")
                    if extra:
                        problems.append(f"{tenant} {shape.table}: {len(extra)} unexpected, e.g. {sorted(extra)[:2]}")
                    for key in want.keys() & got.keys():
                        for col, value in want[key].items():
                            # _hash digests the JSON text Xero sent (shaping.text_hash), which the
                            # truth, records as the sandbox holds them, does not have.
                            if col in ("_seq", "_synced_at", "_hash"):
                                continue
                            kind = shape.columns[col].kind if col in shape.columns else "string"
                            if _norm(kind, value) != _norm(kind, got[key].get(col)):
                                problems.append(
                                    f"{tenant} {shape.table} {key[1:]} {col}: want {value!r}, got {got[key].get(col)!r}"
                                )
                                break
    finally:
        conn.close()
    return problems
