"""Figure 5: how much of Xero's per-tenant minute limit a sync actually uses.

The sandbox enforces the real limits (60 calls a minute, 5 in flight, per tenant) on a
time-scaled clock: at ``time_scale=30`` Xero's minute lasts 2 real seconds, and the
pipeline is told so through ``XeroResource.rate_window_seconds``. The workload is a full
read of journals, 100 per call: each page costs the client far less than the 1/30 s a
call is allowed, so the run is bound by the limit and nothing else, and the figure
measures the throttle rather than the machine.

Utilisation = mean calls per full window (windows laid end to end from the first
call) / 60. Failed calls are every non-2xx the sandbox answered (429s included).

    python -m benchmarks.bench_limits [--scale 5] [--time-scale 30]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.harness import bench_main, failed_calls, run_sync_worker, start_sandbox

PER_WINDOW = 60
UTILISATION_TARGET = 0.95


def windows(stamps: list[float], window: float) -> list[int]:
    """Calls in each full window of ``window`` seconds, laid end to end from the first stamp."""
    if not stamps:
        return []
    stamps = sorted(stamps)
    t0, end = stamps[0], stamps[-1]
    counts = [0] * int((end - t0) // window)
    for t in stamps:
        k = int((t - t0) // window)
        if k < len(counts):
            counts[k] += 1
    return counts


def busiest_rolling(stamps: list[float], window: float) -> int:
    """Most calls in any rolling window: what Xero's limit is checked against."""
    stamps, best, lo = sorted(stamps), 0, 0
    for hi, t in enumerate(stamps):
        while t - stamps[lo] >= window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def run(*, scale: float, time_scale: float, workdir: Path) -> dict[str, Any]:
    window = 60.0 / time_scale
    with start_sandbox(tenants=1, scale=scale, limits=True, time_scale=time_scale) as sandbox:
        tenant = sandbox.tenant_ids[0]
        result = run_sync_worker(sandbox, tenant=tenant, workdir=workdir, label="limits", rate_window=window,
                                 objects=["journals"], page_times=True)
    stamps = result["page_times"]
    counts = windows(stamps, window)
    stats = result["sandbox_stats"]
    mean = sum(counts) / len(counts) if counts else 0.0
    failed = failed_calls(stats)
    return {
        "scale": scale,
        "time_scale": time_scale,
        "window_seconds": window,
        "calls": len(stamps),
        "full_windows": len(counts),
        "calls_per_window": counts,
        "mean_calls_per_window": mean,
        "utilisation": mean / PER_WINDOW,
        "busiest_rolling_window": busiest_rolling(stamps, window),
        "failed_calls": failed,
        "rate_limited": stats.get("rate_limited", {}),
        "client_retries": result["retries"],
        "throttled_seconds": result["throttled_seconds"],
        "wall_seconds": result["wall_seconds"],
        "errors": result["errors"],
        "target": f">= {UTILISATION_TARGET} of {PER_WINDOW} calls per window, none failed",
        "meets_target": bool(counts) and mean / PER_WINDOW >= UTILISATION_TARGET and failed == 0
        and not result["errors"],
    }


def main(argv: list[str] | None = None) -> int:
    return bench_main(run, argv, doc=__doc__, options={"scale": 5.0, "time_scale": 30.0},
                      workdir_prefix="xero-bench-limits-")


if __name__ == "__main__":
    raise SystemExit(main())
