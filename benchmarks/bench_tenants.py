"""Figure 6: wall time of 8 tenants against 1 under Xero's limits, both ways users run it.

* **CLI:** ``xero-pipeline sync`` as a person types it: every connected tenant, each in
  its own process, as many at once as the machine allows (``--parallel``'s default).
* **Daemon:** the daily schedule as deployed: a real ``dagster-daemon run`` loads the
  workspace, its scheduler ticks (``XERO_SCHEDULE_CRON`` set to every minute, so the
  bench need not wait for 02:00), the QueuedRunCoordinator admits the runs under the
  project's ``dagster.yaml`` and the default run launcher starts each in its own process.
  The wall time runs from the first run's creation to the last run's end.

Each way runs twice against one time-scaled sandbox with its real limits: with only the
first tenant connected (the others disconnected, as Xero's ``/connections`` would list
them), then with all of them; each time in a fresh instance, token store and warehouse.
Alongside: the CPU of every process involved, the peak of their summed RSS (sampled from
/proc), Xero's 429s by limit, and whether each tenant ended equal to the sandbox.

    python -m benchmarks.bench_tenants [--scale 0.5] [--time-scale 2] [--tenants 8]
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import requests

from benchmarks.harness import (
    ROOT,
    SandboxProcess,
    bench_main,
    data_calls,
    failed_calls,
    start_sandbox,
)

SCALING_TARGET = 1.5
TICK_TIMEOUT_SECONDS = 900.0


class TreeRss:
    """The peak of the summed RSS of processes and everything below them, sampled twice a second."""

    def __init__(self, *pids: int) -> None:
        self.pids = pids
        self.peak_mib = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> TreeRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        from xero_pipeline_tests.processes import descendants

        while not self._stop.wait(0.5):
            total = 0
            for pid in {p for root in self.pids for p in (root, *descendants(root))}:
                try:
                    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                        if line.startswith("VmRSS:"):
                            total += int(line.split()[1])
                except OSError:
                    continue
            self.peak_mib = max(self.peak_mib, total / 1024)


def connect_only(sandbox: SandboxProcess, tenants: list[str]) -> None:
    for tenant in sandbox.tenant_ids:
        action = "connect" if tenant in tenants else "disconnect"
        requests.post(f"{sandbox.url}/_sandbox/connections", json={"action": action, "tenant_id": tenant},
                      timeout=60).raise_for_status()


def _environment(sandbox: SandboxProcess, workdir: Path, window: float) -> dict[str, str]:
    home = workdir / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / "dagster.yaml", home / "dagster.yaml")
    # One token store for every run of the bench: Xero's refresh tokens rotate, and a fresh
    # store would start again from the seed token that the previous run already spent.
    return {**os.environ, **sandbox.env(workdir.parent / "tokens.json"), "DAGSTER_HOME": str(home),
            "XERO_WAREHOUSE": str(workdir / "warehouse.duckdb"), "XERO_RATE_WINDOW_SECONDS": str(window)}


def _runs(home: str) -> list[Any]:
    import dagster as dg

    with dg.DagsterInstance.from_config(home) as instance:
        return list(instance.get_run_records(dg.RunsFilter(job_name="xero_sync")))


def outcome(sandbox: SandboxProcess, env: dict[str, str], tenants: list[str], wall: float,
             cpu0: resource.struct_rusage, server0: float | None, rss: TreeRss,
             select: str | None = None, warehouse: Any = None) -> dict[str, Any]:
    """``warehouse``: a DuckLake (``config.Lake``) to compare; by default the file XERO_WAREHOUSE."""
    from xero_pipeline.registry import BY_TABLE, OBJECTS
    from xero_pipeline_tests.truth import diff_warehouse

    objects = [BY_TABLE[t] for t in select.split(",")] if select else OBJECTS
    warehouse = warehouse or Path(env["XERO_WAREHOUSE"])
    written = not isinstance(warehouse, Path) or warehouse.exists()

    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    server1 = sandbox.cpu_seconds()
    stats = sandbox.stats()
    runs = [r for r in _runs(env["DAGSTER_HOME"]) if r.dagster_run.tags.get("dagster/partition")]
    unequal = {}
    for tenant in tenants if written else ():
        truth = json.loads(requests.get(f"{sandbox.url}/_sandbox/ground-truth", params={"tenant_id": tenant},
                                        timeout=600).content, parse_float=Decimal)
        problems = diff_warehouse(warehouse, truth, objects)
        if problems:
            unequal[tenant] = problems[:3]
    runs_cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return {
        "tenants": len(tenants), "wall_seconds": wall, "runs_cpu_seconds": runs_cpu,
        "sandbox_cpu_seconds": (server1 - server0) if server0 is not None and server1 is not None else None,
        "machine_busy": (runs_cpu + ((server1 or 0) - (server0 or 0))) / (wall * (os.cpu_count() or 1)),
        "peak_rss_mib": rss.peak_mib, "data_calls": data_calls(stats), "failed_calls": failed_calls(stats),
        "rate_limited": stats.get("rate_limited", {}),
        # A refresh token refused (invalid_grant) or used twice: processes that did not share the rotation.
        "token_errors": {e: n for e, n in stats.get("events", {}).items()
                         if e.startswith("token_error") or e == "token_reuse"},
        "token_refreshes": stats.get("events", {}).get("token:refresh_token", 0),
        "runs": len(runs), "failed_runs": sum(1 for r in runs if r.dagster_run.status.value != "SUCCESS"),
        "unequal_tenants": unequal if written else {"all": "no warehouse written"},
    }


def cli_sync(sandbox: SandboxProcess, tenants: list[str], *, workdir: Path, window: float,
             select: str | None = None) -> dict[str, Any]:
    """``xero-pipeline sync`` of the connected ``tenants`` (``select``: those objects only), in a
    fresh instance and warehouse."""
    connect_only(sandbox, tenants)
    env = _environment(sandbox, workdir, window)
    sandbox.reset_stats()
    cpu0, server0 = resource.getrusage(resource.RUSAGE_CHILDREN), sandbox.cpu_seconds()
    started = time.monotonic()
    command = [sys.executable, "-m", "xero_pipeline.cli.main", "sync", *(["--select", select] if select else [])]
    proc = subprocess.Popen(command, cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    with TreeRss(proc.pid) as rss:
        output, _ = proc.communicate()
    wall = time.monotonic() - started
    result = outcome(sandbox, env, tenants, wall, cpu0, server0, rss, select)
    result["exit_code"] = proc.returncode
    if proc.returncode:
        result["output_tail"] = output[-1500:]
    return result


def daemon_tick(sandbox: SandboxProcess, tenants: list[str], *, workdir: Path, window: float) -> dict[str, Any]:
    """One tick of the daily schedule run by a real daemon, for the connected ``tenants``."""
    import dagster as dg

    from xero_pipeline.defs.partitions import TENANT_PARTITIONS_NAME

    connect_only(sandbox, tenants)
    env = {**_environment(sandbox, workdir, window), "XERO_SCHEDULE_CRON": "* * * * *"}
    # Known partitions, as the tenant sensor leaves them: the tick is the daily run, not a first sync.
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        instance.add_dynamic_partitions(TENANT_PARTITIONS_NAME, tenants)
    sandbox.reset_stats()
    cpu0, server0 = resource.getrusage(resource.RUSAGE_CHILDREN), sandbox.cpu_seconds()
    daemon = Path(sys.executable).with_name("dagster-daemon")
    log = (workdir / "daemon.log").open("w")  # a pipe nobody reads would stall the daemon once full
    proc = subprocess.Popen([str(daemon), "run", "-w", str(ROOT / "workspace.yaml")],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    deadline = time.monotonic() + TICK_TIMEOUT_SECONDS
    try:
        with TreeRss(proc.pid) as rss:
            while time.monotonic() < deadline:
                runs = [r for r in _runs(env["DAGSTER_HOME"]) if r.dagster_run.tags.get("dagster/schedule_name")]
                if len(runs) >= len(tenants) and all(r.dagster_run.is_finished for r in runs):
                    break
                time.sleep(1.0)
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
    first = min(r.create_timestamp.timestamp() for r in runs) if runs else 0.0
    last = max((r.end_time or 0.0) for r in runs) if runs else 0.0
    result = outcome(sandbox, env, tenants, last - first, cpu0, server0, rss)
    result["run_seconds"] = sorted(round((r.end_time or 0) - (r.start_time or 0), 1) for r in runs)
    result["started_after"] = sorted(round((r.start_time or 0) - first, 1) for r in runs)
    return result


def run(*, scale: float, time_scale: float, tenants: int, workdir: Path, daemon: bool = True,
        select: str | None = None) -> dict[str, Any]:
    """``select`` (the CLI way only; ``--quick``): sync those objects, not every object and report."""
    window = 60.0 / time_scale
    with start_sandbox(tenants=tenants, scale=scale, limits=True, time_scale=time_scale) as sandbox:
        ids = sandbox.tenant_ids
        out: dict[str, Any] = {"scale": scale, "time_scale": time_scale, "window_seconds": window,
                               "target": f"{tenants} tenants <= {SCALING_TARGET} x the wall time of 1"}
        ways = {"cli": partial(cli_sync, select=select), **({"daemon": daemon_tick} if daemon else {})}
        for name, way in ways.items():
            one = way(sandbox, ids[:1], workdir=workdir / f"{name}-one", window=window)
            many = way(sandbox, ids, workdir=workdir / f"{name}-all", window=window)
            ratio = many["wall_seconds"] / one["wall_seconds"]
            ok = all(not r["failed_runs"] and not r["unequal_tenants"] for r in (one, many))
            out[name] = {"one_tenant": one, "all_tenants": many, "ratio": ratio,
                         "meets_target": ratio <= SCALING_TARGET and ok}
    return out


def main(argv: list[str] | None = None) -> int:
    return bench_main(run, argv, doc=__doc__, options={"scale": 0.5, "time_scale": 2.0, "tenants": 8, "daemon": True},
                      workdir_prefix="xero-bench-tenants-")


if __name__ == "__main__":
    raise SystemExit(main())
