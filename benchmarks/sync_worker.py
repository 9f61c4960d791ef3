"""One tenant synced object by object with ``sync_object``, in a process of its own.

    python -m benchmarks.sync_worker --tenant ID --warehouse FILE --cursors FILE --out FILE

The XERO_* settings come from the environment (see ``harness.SandboxProcess.env``).
The benchmarks run this as a subprocess so that its peak RSS (``VmHWM``) is the sync's
alone, and so that the sandbox, the benchmark driver and the sync each get their own
interpreter. It does what one Dagster run of one tenant does, minus Dagster: one
``/connections`` call, then every object in registry order with one client (one token
manager and one throttle), each object's cursor from the previous run.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.harness import peak_rss_mib
from xero_pipeline.defs.resources import WarehouseResource, XeroResource
from xero_pipeline.registry import OBJECTS
from xero_pipeline.sync.objects import SyncResult, sync_object


def _summary(r: SyncResult) -> dict[str, Any]:
    load = r.load
    return {
        "mode": r.mode,
        "records_read": r.records_read,
        "child_rows_read": sum(r.child_rows_read.values()),
        "pages": r.pages,
        "api_calls": r.api_calls,
        # Of those, the closing If-Modified-Since read a read of several pages ends with.
        "closing_calls": r.closing_calls,
        # Landed = written to the warehouse by this load: changed parents plus their children.
        "rows_landed": load.inserted + load.updated + sum(load.child_rows.values()),
        "rows_unchanged": load.unchanged,
        "seconds": r.seconds,
        "fetch_seconds": r.fetch_seconds,
        "write_seconds": r.write_seconds,
    }


def run(*, tenant: str, warehouse: str, cursors_path: Path, rate_window: float | None, unthrottled: bool,
        objects: list[str] | None, page_times: bool, duckdb_config: str | None = None) -> dict[str, Any]:
    cursors: dict[str, str | None] = json.loads(cursors_path.read_text()) if cursors_path.exists() else {}
    # Against an unlimited sandbox the client's own 60-a-minute pacing would be all we
    # measured; lifting it leaves the pipeline's own speed (concurrency is unchanged).
    pacing = {"calls_per_window": 10**9} if unthrottled else {}
    xero = XeroResource(rate_window_seconds=rate_window, backoff_seconds=0.1, **pacing)
    client = xero.get_client()
    store = WarehouseResource(database=warehouse, connection_config=json.loads(duckdb_config or "{}"))
    before_write: list[float | None] = []

    @contextmanager
    def connect() -> Iterator[Any]:
        # sync_object opens the warehouse only once every page is spooled: the high-water
        # mark here is the fetch's, and whatever it grows by afterwards is the merge's.
        before_write.append(peak_rss_mib())
        with store.get_connection() as conn:
            yield conn
    stamps: list[float] = []
    baseline_rss = peak_rss_mib()  # interpreter, imports and client: before any data
    started = time.monotonic()
    cpu0 = os.times()
    client.connections()  # every scheduled run starts by listing the connected tenants
    results: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for obj in OBJECTS:
        if objects and obj.table not in objects:
            continue
        try:
            r = sync_object(
                obj, client=client, tenant_id=tenant, connect=connect,
                cursor=cursors.get(obj.table), page_size=xero.page_size,
                progress=(lambda _line: stamps.append(time.time())) if page_times else None,
            )
        except Exception as exc:  # noqa: BLE001 - a benchmark reports failures, it does not stop at one
            errors[obj.table] = f"{type(exc).__name__}: {exc}"
            continue
        results[obj.table] = _summary(r)
        # The high-water mark after each object shows which load, if any, makes memory grow.
        results[obj.table]["peak_rss_mib_after"] = peak_rss_mib()
        results[obj.table]["peak_rss_mib_before_write"] = before_write[-1] if before_write else None
        cursors[obj.table] = r.cursor
    wall = time.monotonic() - started
    cpu1 = os.times()
    cursors_path.write_text(json.dumps(cursors))
    return {
        "tenant_id": tenant,
        "wall_seconds": wall,
        "cpu_seconds": (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system),
        "client_calls": client.stats.calls,
        "retries": client.stats.retries,
        "throttled_seconds": client.stats.throttled_seconds,
        "status_counts": {str(k): v for k, v in client.stats.by_status.items()},
        "objects": results,
        "errors": errors,
        "page_times": stamps,
        "baseline_rss_mib": baseline_rss,
        "peak_rss_mib": peak_rss_mib(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--cursors", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--rate-window", type=float, default=None)
    parser.add_argument("--unthrottled", action="store_true",
                        help="lift the client's calls-per-window pacing")
    parser.add_argument("--objects", help="comma-separated tables; default every object")
    parser.add_argument("--page-times", action="store_true", help="record when each page arrived")
    parser.add_argument("--duckdb-config", help="JSON of DuckDB settings for the warehouse connection")
    parser.add_argument("--profile", type=Path, help="write cProfile stats here (slows the run)")
    args = parser.parse_args(argv)
    kwargs = dict(tenant=args.tenant, warehouse=args.warehouse, cursors_path=args.cursors,
                  rate_window=args.rate_window, unthrottled=args.unthrottled,
                  objects=args.objects.split(",") if args.objects else None,
                  page_times=args.page_times, duckdb_config=args.duckdb_config)
    if args.profile:
        profiler = cProfile.Profile()
        result = profiler.runcall(run, **kwargs)
        profiler.dump_stats(args.profile)
    else:
        result = run(**kwargs)
    args.out.write_text(json.dumps(result))
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
