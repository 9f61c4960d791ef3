"""Where the client's time per row goes, stage by stage, measured without a profiler.

The biggest collections (invoices, payments, journals) are read once from an unthrottled
sandbox as raw response bytes; then each stage the sync performs on them is timed on its
own, in CPU seconds of this process (so other load on the machine blurs it less):
``json.loads`` with ``Decimal`` (``client``), ``RecordShaper.shape`` (``shaping``, its
``record_hash`` included and also timed alone), and the spool's encoding of each row
(``spool``, ``to_json_bytes``). The sandbox's CPU per row is the bar the client has to clear.

Two alternatives are timed beside them for scale: ``orjson.loads`` of the same pages
(numbers as floats, so not exact past 15 digits: what a faster parser would save), and
DuckDB reading the raw pages and unnesting them into parent and child tables (types
auto-detected, so date and money conversions are not included: a lower bound for
moving parsing into the warehouse).

    python -m benchmarks.bench_stages [--scale 2]
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import orjson
import requests

from benchmarks.harness import SandboxProcess, bench_main, start_sandbox
from xero_pipeline.registry import BY_TABLE, XeroObject
from xero_pipeline.warehouse.shaping import RecordShaper, record_hash
from xero_pipeline.warehouse.values import to_json_bytes
from xero_pipeline.xero.paging import Pager

TABLES = ("invoices", "payments", "journals")


def _raw_pages(
    sandbox: SandboxProcess, session: requests.Session, token: str, obj: XeroObject
) -> list[bytes]:
    headers = {"Authorization": f"Bearer {token}", "xero-tenant-id": sandbox.tenant_ids[0],
               "Accept": "application/json"}
    pager, pages = Pager(obj), []
    while not pager.done:
        resp = session.get(f"{sandbox.url}/api.xro/2.0/{obj.path}", params=pager.params(), headers=headers,
                           timeout=120)
        resp.raise_for_status()
        body = json.loads(resp.content, parse_float=Decimal)
        pager.advance(body[obj.envelope], body.get("pagination"))
        pages.append(resp.content)
    return pages


def _cpu(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.process_time()
    value = fn()
    return time.process_time() - t0, value


def _duckdb_unnest(obj: XeroObject, pages: list[bytes], workdir: Path) -> float:
    folder = workdir / obj.table
    folder.mkdir(parents=True, exist_ok=True)
    for i, page in enumerate(pages):
        (folder / f"{i:06d}.json").write_bytes(page)
    src = f"read_json('{folder}/*.json', maximum_object_size = 268435456)"
    conn = duckdb.connect()
    try:
        # DuckDB's threads count as this process's CPU time, so process_time stays fair.
        t0 = time.process_time()
        conn.execute(f"CREATE TABLE p AS SELECT unnest({obj.envelope}, max_depth := 2) FROM {src}")
        for child in obj.children:
            if child.within:
                continue
            conn.execute(f"CREATE TABLE {child.table} AS SELECT unnest(r.{child.field}, max_depth := 2) "
                         f"FROM (SELECT unnest({obj.envelope}) AS r FROM {src})")
        return time.process_time() - t0
    finally:
        conn.close()


def run(*, scale: float, workdir: Path) -> dict[str, Any]:
    totals = {"records": 0, "rows": 0, "bytes": 0, "server_cpu": 0.0, "parse": 0.0, "shape": 0.0,
              "hash": 0.0, "encode": 0.0, "orjson_parse": 0.0, "duckdb_unnest": 0.0}
    with start_sandbox(tenants=1, scale=scale, limits=False) as sandbox:
        session = requests.Session()
        token = sandbox.access_token(session)
        for table in TABLES:
            obj = BY_TABLE[table]
            cpu0 = sandbox.cpu_seconds() or 0.0
            pages = _raw_pages(sandbox, session, token, obj)
            totals["server_cpu"] += (sandbox.cpu_seconds() or 0.0) - cpu0
            totals["bytes"] += sum(map(len, pages))
            seconds, bodies = _cpu(lambda: [json.loads(p, parse_float=Decimal) for p in pages])
            totals["parse"] += seconds
            totals["orjson_parse"] += _cpu(lambda: [orjson.loads(p) for p in pages])[0]
            records = [r for b in bodies for r in b[obj.envelope]]
            shaper = RecordShaper(obj, tenant_id=sandbox.tenant_ids[0], synced_at=datetime.now(UTC))
            seconds, shaped = _cpu(lambda: [shaper.shape(r, i) for i, r in enumerate(records)])
            totals["shape"] += seconds
            totals["hash"] += _cpu(lambda: [record_hash(r) for r in records])[0]
            rows = [s.parent for s in shaped]
            rows += [row for s in shaped for rs in s.children.values() for row in rs]
            totals["encode"] += _cpu(lambda: [to_json_bytes(r) for r in rows])[0]
            totals["duckdb_unnest"] += _duckdb_unnest(obj, pages, workdir)
            totals["records"] += len(records)
            totals["rows"] += len(rows)
    rows = totals["rows"]
    per_second = {k: (rows / totals[k] if totals[k] else None)
                  for k in ("server_cpu", "parse", "shape", "hash", "encode", "orjson_parse", "duckdb_unnest")}
    python_path = totals["parse"] + totals["shape"] + totals["encode"]
    return {
        "scale": scale, "tables": list(TABLES), **{k: totals[k] for k in ("records", "rows", "bytes")},
        "cpu_seconds": {k: round(totals[k], 3) for k in ("server_cpu", "parse", "shape", "hash", "encode",
                                                          "orjson_parse", "duckdb_unnest")},
        "rows_per_cpu_second": {k: round(v) if v else None for k, v in per_second.items()},
        "python_path_rows_per_cpu_second": round(rows / python_path) if python_path else None,
        "python_path_to_sandbox": python_path / totals["server_cpu"] if totals["server_cpu"] else None,
    }


def main(argv: list[str] | None = None) -> int:
    return bench_main(run, argv, doc=__doc__, options={"scale": 2.0}, workdir_prefix="xero-bench-stages-")


if __name__ == "__main__":
    raise SystemExit(main())
