"""Figure 11: 8 tenants on 2 workers into one DuckLake against 8 tenants on 1 worker into a DuckDB file.

* **1 worker, DuckDB file:** ``xero-pipeline sync`` of every tenant on one machine, as
  many runs at once as ``--parallel``'s default allows, with the local token store, the
  local limits and a SQLite Dagster instance (``bench_tenants.cli_sync``).
* **2 workers, DuckLake:** two working folders standing for two machines, each with its
  own ``DAGSTER_HOME``, each running ``xero-pipeline sync --tenant ...`` for its half of
  the tenants at the same moment (``--parallel``'s default), with XERO_POSTGRES_URL (the
  instance, the rotating tokens, the app's and each tenant's limits) on one throw-away
  PostgreSQL, and one DuckLake: its catalog in a second database of that server, its data
  in a folder outside both workers (the object store in production).

Both ways run against one time-scaled sandbox with its real limits, the 1-worker way
first. Alongside the wall time: the CPU of every process the bench started
(RUSAGE_CHILDREN) and, for the 2 workers, of the PostgreSQL server they need (from /proc:
it is not our child); the peak of the summed RSS of all of them, server included; Xero's
429s by limit; refresh tokens refused or reused; failed runs; and whether each tenant
ended equal to the sandbox's ground truth.

    python -m benchmarks.bench_workers [--scale 0.5] [--time-scale 1] [--tenants 8]
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from benchmarks.bench_tenants import TreeRss, cli_sync, connect_only, outcome
from benchmarks.harness import ROOT, SandboxProcess, bench_main, start_sandbox

WORKERS = 2
TARGET = 1.25  # 2 workers into DuckLake within this many times 1 worker's wall time into a file


def _stat_cpu(pid: int) -> float:
    """utime + stime of ``pid`` and of its children it has reaped (cutime + cstime)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _server_pid(url: str) -> int:
    """The PostgreSQL server's main process: the parent of our own connection's backend."""
    with psycopg.connect(url) as conn:
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        return int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _server_cpu(pid: int) -> float:
    """CPU seconds of the server so far: itself, its live backends, and the backends it has reaped."""
    from xero_pipeline_tests.processes import descendants

    return sum(_stat_cpu(p) for p in (pid, *descendants(pid)))


@contextmanager
def _postgres_env(url: str) -> Iterator[None]:
    """XERO_POSTGRES_URL in this process, which dagster.postgres.yaml reads, while the bench reads the instance."""
    before = os.environ.get("XERO_POSTGRES_URL")
    os.environ["XERO_POSTGRES_URL"] = url
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("XERO_POSTGRES_URL", None)
        else:
            os.environ["XERO_POSTGRES_URL"] = before


def _machines(sandbox: SandboxProcess, tenants: list[str], workdir: Path, shared: dict[str, str],
              window: float) -> list[tuple[Path, list[str], dict[str, str]]]:
    """Each worker's folder, tenants and environment: nothing local shared between them."""
    out = []
    per = -(-len(tenants) // WORKERS)
    for n in range(WORKERS):
        machine = workdir / f"machine{n}"
        home = machine / "dagster"
        home.mkdir(parents=True)
        shutil.copyfile(ROOT / "dagster.postgres.yaml", home / "dagster.yaml")
        env = {**os.environ, **sandbox.env(machine / "tokens.json"), **shared, "DAGSTER_HOME": str(home),
               "XERO_RATE_WINDOW_SECONDS": str(window)}
        out.append((machine, tenants[n * per:(n + 1) * per], env))
    return out


def two_workers(sandbox: SandboxProcess, tenants: list[str], admin_url: str, *, workdir: Path, window: float,
                select: str | None = None) -> dict[str, Any]:
    """Both workers' ``xero-pipeline sync`` at once, into one DuckLake through one PostgreSQL."""
    import dagster as dg

    from xero_pipeline.config import lake_from
    from xero_pipeline_tests.postgres_server import create_database

    connect_only(sandbox, tenants)
    instance_url, catalog_url = create_database(admin_url, "instance"), create_database(admin_url, "lake")
    shared = {"XERO_POSTGRES_URL": instance_url, "XERO_WAREHOUSE": f"ducklake:postgres:{catalog_url}",
              "XERO_WAREHOUSE_DATA": str(workdir / "object-store"),
              # The file store of the 1-worker way spent the seed token: Xero's refresh tokens rotate.
              "XERO_REFRESH_TOKEN": sandbox.control("POST", "refresh-token")["refresh_token"]}
    machines = _machines(sandbox, tenants, workdir, shared, window)
    with _postgres_env(instance_url):
        # The instance's tables exist before the workers start, as a deployment's do.
        with dg.DagsterInstance.from_config(machines[0][2]["DAGSTER_HOME"]):
            pass
        server = _server_pid(admin_url)
        sandbox.reset_stats()
        cpu0, server0 = resource.getrusage(resource.RUSAGE_CHILDREN), sandbox.cpu_seconds()
        postgres0 = _server_cpu(server)
        started = time.monotonic()
        command = [sys.executable, "-m", "xero_pipeline.cli.main", "sync", *(["--select", select] if select else [])]
        procs = [subprocess.Popen([*command, *(a for t in mine for a in ("--tenant", t))], cwd=machine, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for machine, mine, env in machines]
        with TreeRss(*(p.pid for p in procs), server) as rss:
            outputs = [p.communicate()[0] for p in procs]
        wall = time.monotonic() - started
        postgres_cpu = _server_cpu(server) - postgres0
        lake = lake_from(shared["XERO_WAREHOUSE"], shared["XERO_WAREHOUSE_DATA"])
        result = outcome(sandbox, machines[0][2], tenants, wall, cpu0, server0, rss, select, warehouse=lake)
    result["postgres_cpu_seconds"] = postgres_cpu
    result["exit_codes"] = [p.returncode for p in procs]
    for (machine, _, _), p, output in zip(machines, procs, outputs, strict=True):
        if p.returncode:
            result.setdefault("output_tails", {})[machine.name] = output[-1500:]
    return result


def run(*, scale: float, time_scale: float, tenants: int, workdir: Path, select: str | None = None) -> dict[str, Any]:
    """``select``: sync those objects only (``--quick``), not every object and report."""
    from xero_pipeline_tests.postgres_server import postgres_server

    window = 60.0 / time_scale
    with start_sandbox(tenants=tenants, scale=scale, limits=True, time_scale=time_scale) as sandbox, \
            postgres_server() as admin_url:
        ids = sandbox.tenant_ids
        one = cli_sync(sandbox, ids, workdir=workdir / "one-worker", window=window, select=select)
        two = two_workers(sandbox, ids, admin_url, workdir=workdir / "two-workers", window=window, select=select)
    ratio = two["wall_seconds"] / one["wall_seconds"]
    ok = all(not r["failed_runs"] and r["runs"] == r["tenants"] and not r["unequal_tenants"] and not r["token_errors"]
             for r in (one, two))
    return {"scale": scale, "time_scale": time_scale, "window_seconds": 60.0 / time_scale, "tenants": tenants,
            "workers": WORKERS, "select": select, "one_worker_file": one, "two_workers_lake": two,
            "ratio": ratio, "cpu_ratio": (two["runs_cpu_seconds"] + two["postgres_cpu_seconds"])
            / one["runs_cpu_seconds"], "rss_ratio": two["peak_rss_mib"] / max(one["peak_rss_mib"], 1.0),
            "target": f"{WORKERS} workers into DuckLake <= {TARGET} x 1 worker into a file, every tenant equal, "
                      "no token errors", "meets_target": ratio <= TARGET and ok}


def main(argv: list[str] | None = None) -> int:
    return bench_main(run, argv, doc=__doc__, options={"scale": 0.5, "time_scale": 1.0, "tenants": 8},
                      workdir_prefix="xero-bench-workers-", passed=lambda r: r["meets_target"])


if __name__ == "__main__":
    raise SystemExit(main())
