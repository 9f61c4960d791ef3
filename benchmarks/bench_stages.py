"""Where the client's time per row goes, stage by stage, measured without a profiler.

The biggest collections (invoices, payments, journals) are read once from an unthrottled
sandbox as raw response bytes; then each stage the sync performs on them is timed on its
own, in CPU seconds of this process (so other load on the machine blurs it less):
``json.loads`` with ``Decimal`` (``client``), ``RecordShaper.shape`` (``shaping``, its
``record_hash`` included and also timed alone), and the spool's encoding of each row
(``spool``, ``to_json_bytes``). The sandbox's CPU per row is the bar the client has to clear.

The typed path the sync takes since msgspec came in is timed beside the Python path, on
the same pages: ``decode_page`` (the envelope, each record kept as its JSON text; for
journals also the numbers paging reads), ``TypedShaper.shape`` per record (typed decode,
digest of the text, rows) and the same spool encoding (``typed_fallbacks`` counts records
that took the dict path instead).

Stage by stage, each stage's output of every page stays alive as the next stage's
input, which costs memory faults and garbage collection that a sync, holding one page
at a time, does not pay. So both paths are also timed page by page, as the sync runs
them (``python_paged``, ``typed_paged``): those two are the figures to compare with each
other and with the sandbox's CPU per row.

Two alternatives are timed beside them for scale: ``orjson.loads`` of the same pages
(numbers as floats, so not exact past 15 digits: what a faster parser would save), and
DuckDB reading the raw pages and unnesting them into parent and child tables (types
auto-detected, so date and money conversions are not included: a lower bound for
moving parsing into the warehouse).

    python -m benchmarks.bench_stages [--scale 2]
"""

from __future__ import annotations

import gc
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
from xero_pipeline.registry import BY_TABLE, Paging, XeroObject
from xero_pipeline.warehouse.shaping import RecordShaper, record_hash
from xero_pipeline.warehouse.typed import TypedShaper
from xero_pipeline.warehouse.values import to_json_bytes
from xero_pipeline.xero.decoding import RawBody, decode_page, journal_heads
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
    gc.collect()  # not the garbage of the stage before
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


def _typed_decode(obj: XeroObject, pages: list[bytes]) -> list[RawBody]:
    bodies = [decode_page(p, envelope=obj.envelope) for p in pages]
    if obj.paging is Paging.OFFSET:  # what read_pages adds for journals
        for body in bodies:
            journal_heads(body.records)
    return bodies


def _typed_shape(shaper: TypedShaper, bodies: list[RawBody]) -> list[Any]:
    return [shaper.shape(text, i) for i, text in enumerate(t for b in bodies for t in b.records)]


def _rows(shaped: list[Any]) -> list[dict[str, Any]]:
    rows = [s.parent for s in shaped]
    return rows + [row for s in shaped for rs in s.children.values() for row in rs]


def _encode(shaped: Any) -> int:
    to_json_bytes(shaped.parent)
    n = 1
    for rows in shaped.children.values():
        for row in rows:
            to_json_bytes(row)
        n += len(rows)
    return n


def _typed_paged(obj: XeroObject, pages: list[bytes], shaper: TypedShaper) -> int:
    """Decode, shape and encode as the sync does (``Spool.add_texts``), one page at a time,
    each record's rows encoded before the next is shaped; returns the rows."""
    n = i = 0
    for page in pages:
        for text in _typed_decode(obj, [page])[0].records:
            i += 1
            n += _encode(shaper.shape(text, i))
    return n


def _python_paged(obj: XeroObject, pages: list[bytes], shaper: RecordShaper) -> int:
    """The same, the way the sync did before: every page parsed into dicts, then shaped."""
    n = i = 0
    for page in pages:
        for record in json.loads(page, parse_float=Decimal)[obj.envelope]:
            i += 1
            n += _encode(shaper.shape(record, i))
    return n


STAGES = ("server_cpu", "parse", "shape", "hash", "encode", "python_paged", "typed_decode", "typed_shape",
          "typed_encode", "typed_paged", "orjson_parse", "duckdb_unnest")


def run(*, scale: float, workdir: Path) -> dict[str, Any]:
    totals = {"records": 0, "rows": 0, "bytes": 0, "typed_fallbacks": 0, **dict.fromkeys(STAGES, 0.0)}
    with start_sandbox(tenants=1, scale=scale, limits=False) as sandbox:
        session = requests.Session()
        token = sandbox.access_token(session)
        tenant = sandbox.tenant_ids[0]
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
            rows = _rows(shaped)
            totals["encode"] += _cpu(lambda: [to_json_bytes(r) for r in rows])[0]
            n_records, n_rows = len(records), len(rows)
            del bodies, records, shaped, rows  # not alive while the typed stages are timed
            # Shapers of their own: one that had learned from an earlier stage would start ahead.
            seconds, raw_bodies = _cpu(lambda: _typed_decode(obj, pages))
            totals["typed_decode"] += seconds
            typed = TypedShaper(RecordShaper(obj, tenant_id=tenant, synced_at=datetime.now(UTC)))
            seconds, typed_shaped = _cpu(lambda: _typed_shape(typed, raw_bodies))
            totals["typed_shape"] += seconds
            typed_rows = _rows(typed_shaped)
            assert len(typed_rows) == n_rows, (obj.table, len(typed_rows), n_rows)
            totals["typed_encode"] += _cpu(lambda: [to_json_bytes(r) for r in typed_rows])[0]
            del raw_bodies, typed_shaped, typed_rows
            whole = TypedShaper(RecordShaper(obj, tenant_id=tenant, synced_at=datetime.now(UTC)))
            totals["typed_paged"] += _cpu(lambda: _typed_paged(obj, pages, whole))[0]
            reference = RecordShaper(obj, tenant_id=tenant, synced_at=datetime.now(UTC))
            totals["python_paged"] += _cpu(lambda: _python_paged(obj, pages, reference))[0]
            totals["typed_fallbacks"] += typed.fallbacks
            totals["duckdb_unnest"] += _duckdb_unnest(obj, pages, workdir)
            totals["records"] += n_records
            totals["rows"] += n_rows
    rows = totals["rows"]
    per_second = {k: (rows / totals[k] if totals[k] else None) for k in STAGES}
    python_path = totals["parse"] + totals["shape"] + totals["encode"]
    server = totals["server_cpu"]

    def to_sandbox(cpu: float) -> float | None:
        # The client's CPU per row over the sandbox's: below 1, the client keeps up with serving.
        return cpu / server if server else None

    return {
        "scale": scale, "tables": list(TABLES),
        **{k: totals[k] for k in ("records", "rows", "bytes", "typed_fallbacks")},
        "cpu_seconds": {k: round(totals[k], 3) for k in STAGES},
        "rows_per_cpu_second": {k: round(v) if v else None for k, v in per_second.items()},
        "python_path_rows_per_cpu_second": round(rows / python_path) if python_path else None,
        "python_path_to_sandbox": to_sandbox(python_path),
        "python_paged_to_sandbox": to_sandbox(totals["python_paged"]),
        "typed_paged_to_sandbox": to_sandbox(totals["typed_paged"]),
    }


def main(argv: list[str] | None = None) -> int:
    return bench_main(run, argv, doc=__doc__, options={"scale": 2.0}, workdir_prefix="xero-bench-stages-")


if __name__ == "__main__":
    raise SystemExit(main())
