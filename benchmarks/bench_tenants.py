"""Figure 6: wall time of the daily schedule for 8 tenants versus 1, under Xero's limits.

What the daily schedule does, step by step, without waiting for 02:00 or a daemon:

1. tenants become ``xero_tenant`` partitions (the tenant sensor's job; here directly);
2. the real schedule (``schedules.build_daily_schedule``) is evaluated for one tick,
   which asks Xero's ``/connections`` and returns one RunRequest per tenant;
3. each RunRequest runs as its own process, as Dagster's default run launcher does:
   ``dagster job execute -j xero_sync`` with the request's tags and its partition, so
   the run executes whatever the job holds (objects, checks, reports);
4. at most ``max_concurrent_runs`` (read from the project's ``dagster.yaml``) run at
   once, as the QueuedRunCoordinator allows; its per-tenant tag limit of 1 never binds
   because each request is for a different tenant.

All runs share one Dagster instance, one token store and one warehouse, as deployed.
Without ``schedules.py`` the runs are ``xero-pipeline sync --tenant X`` processes.

    python -m benchmarks.bench_tenants [--scale 0.5] [--time-scale 5] [--tenants 8]
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from benchmarks.harness import ROOT, SandboxProcess, bench_main, data_calls, failed_calls, start_sandbox

SCALING_TARGET = 1.5


def max_concurrent_runs() -> int:
    """The limit in the project's dagster.yaml (``concurrency.runs`` or the coordinator's config)."""
    config = yaml.safe_load((ROOT / "dagster.yaml").read_text()) or {}
    for section in (config.get("concurrency", {}).get("runs", {}),
                    config.get("run_coordinator", {}).get("config", {})):
        if section and "max_concurrent_runs" in section:
            return int(section["max_concurrent_runs"])
    return 10  # Dagster's default for the QueuedRunCoordinator


def _run_requests(env: dict[str, str], home: Path, tenants: list[str]) -> tuple[str, list[dict[str, Any]]]:
    """Register ``tenants`` as partitions and evaluate one tick of the daily schedule."""
    import dagster as dg

    from xero_pipeline.defs.partitions import TENANT_PARTITIONS_NAME
    from xero_pipeline.defs.resources import XeroResource

    shutil.copyfile(ROOT / "dagster.yaml", home / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.add_dynamic_partitions(TENANT_PARTITIONS_NAME, tenants)
        from xero_pipeline.defs.schedules import build_daily_schedule
        xero = XeroResource(client_id=env["XERO_CLIENT_ID"], client_secret=env["XERO_CLIENT_SECRET"],
                            refresh_token=env["XERO_REFRESH_TOKEN"], token_store=env["XERO_TOKEN_STORE"],
                            api_url=env["XERO_API_URL"], identity_url=env["XERO_IDENTITY_URL"])
        context = dg.build_schedule_context(instance=instance, resources={"xero": xero},
                                            scheduled_execution_time=datetime.now(UTC))
        # Invoked directly: evaluate_tick would need the whole repository to resolve partitions.
        tick = build_daily_schedule()(context)
        if isinstance(tick, dg.SkipReason):
            raise RuntimeError(f"the daily schedule skipped its tick: {tick.skip_message}")
        requests = [{"partition_key": r.partition_key, "tags": dict(r.tags)} for r in tick or []]
    return "schedule", requests


def _command(mode: str, request: dict[str, Any]) -> list[str]:
    tenant = request["partition_key"]
    if mode == "cli":
        return [sys.executable, "-m", "xero_pipeline.cli.main", "sync", "--tenant", tenant]
    tags = {**request["tags"], "dagster/partition": tenant}
    return [sys.executable, "-m", "dagster", "job", "execute", "-m", "xero_pipeline.definitions",
            "-j", "xero_sync", "--tags", json.dumps(tags)]


def daily_tick(sandbox: SandboxProcess, tenants: list[str], *, workdir: Path, window: float,
               concurrency: int) -> dict[str, Any]:
    """One tick of the daily schedule for ``tenants``, in a fresh instance and warehouse."""
    home = workdir / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **sandbox.env(workdir / "tokens.json"), "DAGSTER_HOME": str(home),
           "XERO_WAREHOUSE": str(workdir / "warehouse.duckdb"), "XERO_RATE_WINDOW_SECONDS": str(window)}
    sandbox.reset_stats()
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    server0 = sandbox.cpu_seconds()
    started = time.monotonic()
    mode, requests = _run_requests(env, home, tenants)
    runs: list[dict[str, Any]] = []

    def execute(request: dict[str, Any]) -> None:
        t0 = time.monotonic()
        done = subprocess.run(_command(mode, request), cwd=ROOT, env=env, capture_output=True, text=True)
        runs.append({"tenant_id": request["partition_key"], "seconds": time.monotonic() - t0,
                     "started_after": t0 - started, "exit_code": done.returncode,
                     **({"stderr_tail": done.stderr[-1500:]} if done.returncode else {})})

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(execute, requests))
    wall = time.monotonic() - started
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    server1 = sandbox.cpu_seconds()
    # Every run has been waited for, so the children's rusage is exactly the runs' CPU.
    runs_cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    stats = sandbox.stats()
    return {
        "mode": mode, "tenants": len(requests), "concurrency": concurrency, "wall_seconds": wall,
        "runs_cpu_seconds": runs_cpu,
        "sandbox_cpu_seconds": (server1 - server0) if server0 is not None and server1 is not None else None,
        # Share of the whole machine the runs and the sandbox kept busy: near 1 means CPU-bound.
        "machine_busy": (runs_cpu + ((server1 or 0) - (server0 or 0))) / (wall * (os.cpu_count() or 1)),
        "data_calls": data_calls(stats), "failed_calls": failed_calls(stats),
        "rate_limited": stats.get("rate_limited", {}),
        "failed_runs": sum(1 for r in runs if r["exit_code"]),
        "runs": sorted(runs, key=lambda r: r["started_after"]),
    }


def run(
    *, scale: float, time_scale: float, tenants: int, workdir: Path, what_if: bool = True
) -> dict[str, Any]:
    window = 60.0 / time_scale
    limit = max_concurrent_runs()
    with start_sandbox(tenants=tenants, scale=scale, limits=True, time_scale=time_scale) as sandbox:
        ids = sandbox.tenant_ids
        one = daily_tick(sandbox, ids[:1], workdir=workdir / "one", window=window, concurrency=limit)
        many = daily_tick(sandbox, ids, workdir=workdir / "many", window=window, concurrency=limit)
        wide = (daily_tick(sandbox, ids, workdir=workdir / "wide", window=window, concurrency=len(ids))
                if what_if and limit < len(ids) else None)
    ratio = many["wall_seconds"] / one["wall_seconds"]
    out = {
        "scale": scale, "time_scale": time_scale, "window_seconds": window,
        "max_concurrent_runs": limit, "one_tenant": one, "all_tenants": many,
        "ratio": ratio,
        "target": f"{tenants} tenants <= {SCALING_TARGET} x the wall time of 1",
        "meets_target": ratio <= SCALING_TARGET and not many["failed_runs"] and not one["failed_runs"],
    }
    if wide is not None:
        add_all_at_once(out, wide)
    return out


def all_at_once(*, scale: float, time_scale: float, tenants: int, workdir: Path) -> dict[str, Any]:
    """The same tick with every run admitted at once: how much of the gap is the
    coordinator's limit and how much is this machine's CPU."""
    with start_sandbox(tenants=tenants, scale=scale, limits=True, time_scale=time_scale) as sandbox:
        return daily_tick(sandbox, sandbox.tenant_ids, workdir=workdir / "wide", window=60.0 / time_scale,
                          concurrency=tenants)


def add_all_at_once(result: dict[str, Any], wide: dict[str, Any]) -> None:
    result["all_at_once"] = wide
    result["ratio_all_at_once"] = wide["wall_seconds"] / result["one_tenant"]["wall_seconds"]


def main(argv: list[str] | None = None) -> int:
    return bench_main(run, argv, doc=__doc__,
                      options={"scale": 0.5, "time_scale": 5.0, "tenants": 8, "what_if": True},
                      workdir_prefix="xero-bench-tenants-")


if __name__ == "__main__":
    raise SystemExit(main())
