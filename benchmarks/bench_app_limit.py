"""Figure 9: 200 tenants read at once by several processes under the app's 10,000 calls a minute.

Xero limits an app to 10,000 calls a minute over all its organisations (``appminute``),
on top of each organisation's 60. The sandbox enforces both in real time (time scale 1:
Xero's own numbers, nothing scaled). ``processes`` workers (``app_limit_worker``), each
reading its share of the tenants ``threads`` at a time, share one token store and so one
app-wide window (``xero.app_limit``). Pages are small (``page_size`` rows) so that the
calls outrun the limit without a merge per call: the workload asks for far more than
10,000 calls a minute, so the shared window, not the machine, sets the pace.

Targets: 0 ``appminute`` 429s from Xero, and every tenant equal to the sandbox's ground
truth for the objects read.

    python -m benchmarks.bench_app_limit [--tenants 200] [--processes 4] [--scale 0.05]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests

from benchmarks.harness import ROOT, bench_main, failed_calls, start_sandbox

APP_MINUTE = 10_000
OBJECTS = ("contacts", "invoices", "journals")


def run(*, tenants: int, processes: int, scale: float, workdir: Path, threads: int = 12,
        page_size: int = 10) -> dict[str, Any]:
    from xero_pipeline.registry import BY_TABLE
    from xero_pipeline_tests.truth import diff_warehouse

    workdir.mkdir(parents=True, exist_ok=True)
    with start_sandbox(tenants=tenants, scale=scale, limits=True, time_scale=1.0) as sandbox:
        ids = sandbox.tenant_ids
        env = {**os.environ, **sandbox.env(workdir / "tokens.json")}
        sandbox.reset_stats()
        started = time.monotonic()
        workers = []
        for i in range(processes):
            share = ids[i::processes]
            cmd = [sys.executable, "-m", "benchmarks.app_limit_worker", "--tenants", ",".join(share),
                   "--warehouse", str(workdir / f"worker{i}.duckdb"), "--objects", ",".join(OBJECTS),
                   "--out", str(workdir / f"worker{i}.json"), "--threads", str(threads),
                   "--page-size", str(page_size)]
            workers.append((share, i, subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                                       stderr=subprocess.PIPE, text=True)))
        exits = [(share, i, proc.wait(), proc.stderr.read()[-1500:]) for share, i, proc in workers]
        wall = time.monotonic() - started
        stats = sandbox.stats()
        unequal: dict[str, list[str]] = {}
        for share, i, _, _ in exits:
            for tenant in share:
                truth = json.loads(requests.get(f"{sandbox.url}/_sandbox/ground-truth", params={"tenant_id": tenant},
                                                timeout=600).content, parse_float=Decimal)
                problems = diff_warehouse(workdir / f"worker{i}.duckdb", truth, [BY_TABLE[t] for t in OBJECTS])
                if problems:
                    unequal[tenant] = problems[:3]
    reports = [json.loads((workdir / f"worker{i}.json").read_text()) for i in range(processes)
               if (workdir / f"worker{i}.json").exists()]
    calls = sum(r["calls"] for r in reports)
    refused = stats.get("rate_limited", {})
    return {
        "tenants": tenants, "processes": processes, "threads_per_process": threads, "scale": scale,
        "page_size": page_size, "objects": list(OBJECTS), "wall_seconds": wall, "calls": calls,
        "calls_per_minute": calls / wall * 60, "app_minute_limit": APP_MINUTE,
        "appminute_429": refused.get("appminute", 0), "rate_limited": refused,
        "failed_calls": failed_calls(stats), "failed_workers": [i for _, i, code, _ in exits if code],
        "worker_errors": {i: err for _, i, code, err in exits if code},
        "unequal_tenants": len(unequal), "unequal_examples": dict(list(unequal.items())[:3]),
        "app_waited_seconds": [r.get("app_waited_seconds") for r in reports],
        "meets_target": refused.get("appminute", 0) == 0 and not unequal and all(code == 0 for _, _, code, _ in exits),
    }


def main(argv: list[str] | None = None) -> int:
    return bench_main(run, argv, doc=__doc__, options={"tenants": 200, "processes": 4, "scale": 0.05},
                      workdir_prefix="xero-bench-app-limit-")


if __name__ == "__main__":
    raise SystemExit(main())
