"""Figures 1-4: one tenant against an unthrottled sandbox in its own process.

At one scale: a full sync (calls versus the minimum, throughput, peak RSS), then
optionally a sync with nothing changed and one after a simulated day (incremental cost),
and optionally a profiled full sync into a fresh warehouse (hot spots). Each sync is a
fresh ``sync_worker`` process, so each peak RSS belongs to one sync alone.

    python -m benchmarks.bench_sync [--scale 1] [--incremental] [--profile]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks import sync_figures
from benchmarks.harness import bench_main, run_sync_worker, start_sandbox
from benchmarks.profiling import hot_spots


def run(*, scale: float, workdir: Path, incremental: bool = False, profile: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"scale": scale}
    with start_sandbox(tenants=1, scale=scale, limits=False) as sandbox:
        out["sandbox_build_seconds"] = sandbox.build_seconds
        tenant = sandbox.tenant_ids[0]
        full = run_sync_worker(sandbox, tenant=tenant, workdir=workdir / "sync", label="full",
                               unthrottled=True)
        out["full_run"] = _trim(full)
        out["calls"] = {"scale": scale, **sync_figures.call_efficiency(full)}
        out["throughput"] = sync_figures.throughput(full, scale)
        if incremental:
            same = run_sync_worker(sandbox, tenant=tenant, workdir=workdir / "sync", label="no_change",
                                   unthrottled=True)
            day = sandbox.simulate_day(tenant)
            after = run_sync_worker(sandbox, tenant=tenant, workdir=workdir / "sync", label="after_day",
                                    unthrottled=True)
            out["incremental"] = {
                "no_change": sync_figures.incremental_cost(same),
                "after_day": {**sync_figures.incremental_cost(after), "day_activity": day.get(tenant, day)},
            }
            no_change = out["incremental"]["no_change"]
            no_change["target"] = "no-change sync <= one call per incremental object"
            no_change["meets_target"] = (
                no_change["incremental_object_calls"] <= no_change["incremental_objects"])
        if profile:
            prof = workdir / "sync.prof"
            profiled = run_sync_worker(sandbox, tenant=tenant, workdir=workdir / "profiled", label="profiled",
                                       unthrottled=True, profile=prof)
            out["profile"] = {"scale": scale, "unprofiled_wall_seconds": full["wall_seconds"],
                              "profiled_wall_seconds": profiled["wall_seconds"],
                              "profiled_server_cpu_seconds": profiled["server_cpu_seconds"],
                              **hot_spots(prof)}
    return out


def _trim(run: dict[str, Any]) -> dict[str, Any]:
    """The worker's result without the bulky parts the figures already summarise."""
    return {k: v for k, v in run.items() if k not in ("page_times", "sandbox_stats")}


def main(argv: list[str] | None = None) -> int:
    return bench_main(run, argv, doc=__doc__, options={"scale": 1.0, "incremental": False, "profile": False},
                      workdir_prefix="xero-bench-")


if __name__ == "__main__":
    raise SystemExit(main())
