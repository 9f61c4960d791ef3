"""Figures 1-4 computed from ``sync_worker`` results: pure arithmetic, no I/O.

Calls are the sandbox's own counts (``/_sandbox/stats``), attributed to objects by
endpoint; the client's count is kept beside them as a cross-check.
"""

from __future__ import annotations

import math
from typing import Any

from benchmarks.harness import data_calls, failed_calls, overhead_calls
from xero_pipeline.registry import (
    FIXED_PAGE_SIZE,
    MAX_PAGE_SIZE,
    OBJECTS,
    Cursor,
    Paging,
    XeroObject,
)
from xero_pipeline.xero.paging import minimum_calls

CALLS_TARGET = 1.02  # x the minimum, plus the token and connections calls
ROWS_PER_SECOND_TARGET = 20_000
MEMORY_GROWTH_TARGET = 1.5  # peak RSS growth allowed for 10x the data


def issue_minimum(obj: XeroObject, rows: int) -> int:
    """The issue's formula: ceil(rows/1000) paged, ceil(rows/100) journals/page-only, 1 unpaged."""
    if obj.paging is Paging.NONE:
        return 1
    size = MAX_PAGE_SIZE if obj.paging is Paging.PAGE_SIZE else FIXED_PAGE_SIZE
    return math.ceil(rows / size)


def achievable_minimum(obj: XeroObject, rows: int) -> int:
    """``paging.minimum_calls`` plus the reads by id Xero forces for arrays its lists leave empty."""
    singly = rows if getattr(obj, "filled_singly", ()) else 0
    return minimum_calls(obj, rows) + singly


def calls_by_object(stats: dict[str, Any], tenant_id: str) -> dict[str, int]:
    """Sandbox call counts per registry object (``ContactGroups/{id}`` counts for contact_groups)."""
    by_path = {o.path.lower(): o.table for o in OBJECTS}
    out: dict[str, int] = {}
    for endpoint, n in stats["calls"].get(tenant_id, {}).items():
        table = by_path.get(endpoint.split("/")[0].lower(), endpoint)
        out[table] = out.get(table, 0) + n
    return out


def call_efficiency(run: dict[str, Any]) -> dict[str, Any]:
    """Figure 1: calls per full sync against the fewest Xero's paging allows."""
    stats = run["sandbox_stats"]
    served = calls_by_object(stats, run["tenant_id"])
    rows = []
    for obj in OBJECTS:
        r = run["objects"].get(obj.table)
        if r is None:
            continue
        n = r["records_read"]
        rows.append({
            "object": obj.table, "paging": obj.paging.value, "rows": n,
            "calls": served.get(obj.table, 0), "client_calls": r["api_calls"],
            "issue_minimum": issue_minimum(obj, n), "achievable_minimum": achievable_minimum(obj, n),
        })
    overhead = overhead_calls(stats)
    by_table = {o.table: o for o in OBJECTS}
    # A reconciliation read is a full read of an If-Modified-Since object, once a week each.
    reconcile = sum(r["calls"] for r in rows if by_table[r["object"]].cursor is Cursor.IMS)
    total = sum(r["calls"] for r in rows)
    issue = sum(r["issue_minimum"] for r in rows)
    achievable = sum(r["achievable_minimum"] for r in rows)
    extra = sum(overhead.values())
    return {
        "objects": rows,
        "data_calls": total,
        "token_and_connections_calls": overhead,
        "total_calls": total + extra,
        "issue_minimum": issue,
        "achievable_minimum": achievable,
        "ratio_to_issue_minimum": total / issue if issue else None,
        "ratio_to_achievable_minimum": total / achievable if achievable else None,
        "target": f"total calls <= {CALLS_TARGET} x minimum + token and connections calls",
        "meets_target": total + extra <= CALLS_TARGET * issue + extra,
        "failed_calls": failed_calls(stats),
        # What the integrity reads cost: the closing If-Modified-Since read that ends a read
        # of several pages, and the weekly reconciliation read of each IMS object.
        "closing_calls": sum(r.get("closing_calls", 0) for r in run["objects"].values()),
        "reconciliation_calls_per_week": reconcile,
        "reconciliation_calls_per_day": reconcile / 7,
    }


def incremental_cost(run: dict[str, Any]) -> dict[str, Any]:
    """Figure 2 for one sync after a full one: calls and seconds, split by cursor kind."""
    stats = run["sandbox_stats"]
    served = calls_by_object(stats, run["tenant_id"])
    by_table = {o.table: o for o in OBJECTS}
    incremental = [t for t in run["objects"] if by_table[t].cursor is not Cursor.NONE]
    snapshot = [t for t in run["objects"] if by_table[t].cursor is Cursor.NONE]
    inc_calls = sum(served.get(t, 0) for t in incremental)
    return {
        "seconds": run["wall_seconds"],
        "total_calls": data_calls(stats, run["tenant_id"]) + sum(overhead_calls(stats).values()),
        "incremental_objects": len(incremental),
        "incremental_object_calls": inc_calls,
        "snapshot_objects": len(snapshot),
        "snapshot_object_calls": sum(served.get(t, 0) for t in snapshot),
        "token_and_connections_calls": overhead_calls(stats),
        "records_read": sum(r["records_read"] for r in run["objects"].values()),
        "rows_landed": sum(r["rows_landed"] for r in run["objects"].values()),
        "calls_per_incremental_object": inc_calls / len(incremental) if incremental else None,
        "failed_calls": failed_calls(stats),
        "errors": run["errors"],
    }


def throughput(run: dict[str, Any], scale: float) -> dict[str, Any]:
    """Figure 3: rows landed per second and where the time went."""
    objs = run["objects"].values()
    wall = run["wall_seconds"]
    landed = sum(r["rows_landed"] for r in objs)
    fetch = sum(r["fetch_seconds"] for r in objs)
    write = sum(r["write_seconds"] for r in objs)
    server = run["server_cpu_seconds"] or 0.0
    # The client waits while the sandbox works (one request at a time), so fetch time less
    # the sandbox's CPU time is the client's own: HTTP, JSON parsing, shaping, spooling.
    shaping = max(fetch - server, 0.0)
    pipeline = shaping + write
    other = max(wall - fetch - write, 0.0)
    return {
        "scale": scale,
        "records_read": sum(r["records_read"] for r in objs),
        "child_rows_read": sum(r["child_rows_read"] for r in objs),
        "rows_landed": landed,
        "wall_seconds": wall,
        "rows_per_second": landed / wall if wall else None,
        "calls": run["client_calls"],
        "server_cpu_seconds": server,
        "client_cpu_seconds": run["cpu_seconds"],
        "share_sandbox": server / wall if wall else None,
        "share_parse_shape": shaping / wall if wall else None,
        "share_write": write / wall if wall else None,
        "share_other": other / wall if wall else None,
        "pipeline_to_sandbox_time": pipeline / server if server else None,
        "sandbox_rows_per_cpu_second": landed / server if server else None,
        "pipeline_rows_per_second": landed / pipeline if pipeline else None,
        "target": f">= {ROWS_PER_SECOND_TARGET} rows/s landed, and the pipeline never slower than "
                  "the sandbox",
        "meets_rows_target": bool(wall) and landed / wall >= ROWS_PER_SECOND_TARGET,
        "meets_not_slower_target": bool(server) and pipeline <= server,
        "slowest_objects": sorted(
            ({"object": t, "seconds": r["seconds"], "fetch_seconds": r["fetch_seconds"],
              "write_seconds": r["write_seconds"], "rows_landed": r["rows_landed"]}
             for t, r in run["objects"].items()),
            key=lambda x: -x["seconds"])[:5],
        "failed_calls": failed_calls(run["sandbox_stats"]),
        "errors": run["errors"],
    }


def memory(runs: dict[float, dict[str, Any]]) -> dict[str, Any]:
    """Figure 4: peak RSS of the sync process per scale, and its growth per 10x data."""
    points = {
        str(scale): {
            "peak_rss_mib": run["peak_rss_mib"],
            "rows_landed": sum(r["rows_landed"] for r in run["objects"].values()),
            # Which object's load raised the high-water mark, and by how much.
            "peak_set_by": max(
                _rss_steps(run), key=lambda step: step[1], default=(None, 0.0))[0],
            **_fetch_or_merge(run),
        }
        for scale, run in sorted(runs.items())
    }
    scales = sorted(runs)
    out: dict[str, Any] = {"by_scale": points, "target": f"growth < {MEMORY_GROWTH_TARGET}x for 10x the data"}
    if len(scales) >= 2 and runs[scales[0]]["peak_rss_mib"]:
        small, big = scales[0], scales[-1]
        growth = runs[big]["peak_rss_mib"] / runs[small]["peak_rss_mib"]
        data = big / small
        out.update({
            "growth": growth, "data_factor": data,
            # Over a data factor other than 10, compare growth per decade of data.
            "growth_per_10x": growth ** (1 / math.log10(data)) if data > 1 else None,
        })
        per_10x = out["growth_per_10x"]
        out["meets_target"] = per_10x is not None and per_10x < MEMORY_GROWTH_TARGET
    return out


def _fetch_or_merge(run: dict[str, Any]) -> dict[str, float]:
    """How much the high-water mark rose while pages were read and spooled, and how much
    while the warehouse merged them (the worker notes it when the warehouse is opened)."""
    fetch = merge = 0.0
    last = run.get("baseline_rss_mib") or 0.0
    for r in run["objects"].values():
        before, after = r.get("peak_rss_mib_before_write"), r.get("peak_rss_mib_after")
        if before is None or after is None:
            continue
        fetch += max(before - last, 0.0)
        merge += max(after - before, 0.0)
        last = max(last, after)
    return {"growth_while_fetching_mib": fetch, "growth_while_merging_mib": merge}


def _rss_steps(run: dict[str, Any]) -> list[tuple[str, float]]:
    steps, last = [], run.get("baseline_rss_mib") or 0.0
    for table, r in run["objects"].items():
        hwm = r.get("peak_rss_mib_after") or last
        steps.append((table, hwm - last))
        last = max(last, hwm)
    return steps
