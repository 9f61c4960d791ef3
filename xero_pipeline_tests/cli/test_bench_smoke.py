"""``make bench`` at tiny scales: every figure is produced, as finite numbers.

Not how fast anything is (that is ``make bench``'s job, on a quiet machine); only that
the benchmark harness still runs against the current pipeline and sandbox and writes
both the JSON and the Markdown table. One test per figure group (``--only``), so the
groups run on different test workers instead of one after the other; the slow groups
are marked ``bench_smoke`` and left to ``make bench-smoke``.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from benchmarks.__main__ import FIGURE_GROUPS
from xero_pipeline_tests import ROOT


def _finite(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _sync(results: dict[str, Any]) -> None:
    small = results["sync_small"]
    calls = small["calls"]
    assert calls["objects"] and calls["failed_calls"] == 0
    for key in ("data_calls", "total_calls", "issue_minimum", "achievable_minimum", "ratio_to_issue_minimum",
                "ratio_to_achievable_minimum"):
        assert _finite(calls[key]), key
    for run in ("no_change", "after_day"):
        inc = small["incremental"][run]
        assert _finite(inc["seconds"]) and _finite(inc["total_calls"]) and not inc["errors"]
    for part in (small, results["sync_big"]):
        t = part["throughput"]
        for key in ("rows_per_second", "share_sandbox", "share_parse_shape", "share_write",
                    "pipeline_to_sandbox_time"):
            assert _finite(t[key]), key
        assert t["rows_landed"] > 0 and not t["errors"]
    assert small["profile"]["by_own_time"]
    memory = results["memory"]
    # Figure 4 is over 10x the data: the large scale and a tenth of it (and the small scale).
    assert memory["data_factor"] == 10 and _finite(memory["growth"]) and len(memory["by_scale"]) == 3
    assert all(_finite(p["peak_rss_mib"]) for p in memory["by_scale"].values())
    assert _finite(results["stages"]["python_path_rows_per_cpu_second"])


def _limits(results: dict[str, Any]) -> None:
    limits = results["limits"]
    assert _finite(limits["utilisation"]) and limits["full_windows"] >= 1 and not limits["errors"]


def _tenants(results: dict[str, Any]) -> None:
    tenants = results["tenants"]["cli"]
    assert _finite(tenants["ratio"]) and tenants["all_tenants"]["tenants"] == 2
    for run in (tenants["one_tenant"], tenants["all_tenants"]):
        assert run["failed_runs"] == 0 and run["runs"] == run["tenants"] and not run["unequal_tenants"], run
        assert _finite(run["peak_rss_mib"])


def _app_limit(results: dict[str, Any]) -> None:
    app_limit = results["app_limit"]
    assert app_limit["calls"] > 0 and app_limit["unequal_tenants"] == 0 and not app_limit["failed_workers"], app_limit


def _catch_up(results: dict[str, Any]) -> None:
    catch_up = results["catch_up"]
    assert catch_up["journals_equal_to_xero"] and catch_up["failed_runs"] == 0 and catch_up["per_day"]
    assert _finite(catch_up["journal_calls_ratio"]) and catch_up["days"] >= 1


def _writes(results: dict[str, Any]) -> None:
    writes = results["writes"]
    for run in (writes["one_tenant"], writes["all_tenants"]):
        assert run["written"] == run["tenants"] * run["rows_per_tenant"] and not run["errors"]
        assert _finite(run["records_per_minute"]) and run["records_per_minute"] > 0


def _webhooks(results: dict[str, Any]) -> None:
    webhooks = results["webhooks"]
    assert _finite(webhooks["median_delay_seconds"]) and _finite(webhooks["p95_delay_seconds"])
    assert webhooks["max_calls_per_burst"] == webhooks["objects_per_burst"]


def _workers(results: dict[str, Any]) -> None:
    workers = results["workers"]
    assert _finite(workers["ratio"]) and _finite(workers["cpu_ratio"]) and _finite(workers["rss_ratio"])
    for run in (workers["one_worker_file"], workers["two_workers_lake"]):
        assert run["tenants"] == workers["tenants"] and run["runs"] == run["tenants"] and not run["failed_runs"], run
        assert not run["unequal_tenants"] and not run["token_errors"], run
        assert _finite(run["wall_seconds"]) and _finite(run["runs_cpu_seconds"]) and _finite(run["peak_rss_mib"])
    assert workers["two_workers_lake"]["exit_codes"] == [0] * workers["workers"]
    assert _finite(workers["two_workers_lake"]["postgres_cpu_seconds"])


# group -> (what its results must hold, the rows of RESULTS.md's table it fills)
GROUPS: dict[str, tuple[Callable[[dict[str, Any]], None], tuple[int, ...]]] = {
    "sync": (_sync, (1, 2, 3, 4)), "limits": (_limits, (5,)), "tenants": (_tenants, (6,)),
    "app_limit": (_app_limit, (9,)), "catch_up": (_catch_up, (7,)), "writes": (_writes, (8,)),
    "webhooks": (_webhooks, (10,)), "workers": (_workers, (11,)),
}


def test_every_figure_group_has_a_smoke_test() -> None:
    assert set(GROUPS) == set(FIGURE_GROUPS)


# Each of these runs several full syncs in processes of their own (~20-50 CPU s a group):
# together more than two CPU-minutes, which make test's 10 minutes on 2 cores cannot hold.
# They run in `make bench-smoke`, which CI runs after make test (.ci/run).
SLOW_GROUPS = frozenset({"sync", "catch_up", "tenants", "writes", "workers"})


@pytest.mark.heavy(30)
@pytest.mark.timeout(400)
@pytest.mark.parametrize("group", [pytest.param(g, marks=pytest.mark.bench_smoke) if g in SLOW_GROUPS else g
                                   for g in sorted(GROUPS)])
def test_bench_quick_produces_the_figures_of(group: str, tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--only", group, "--out", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=390)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    table = (tmp_path / "RESULTS.md").read_text()
    for key in ("cores", "cpu_model", "memory_gib", "python", "duckdb", "dagster"):
        assert results["machine"][key] not in (None, "")
    check, figures = GROUPS[group]
    check(results)
    assert "| # | figure | measured | target | met |" in table
    for figure in figures:
        assert f"| {figure} |" in table, (figure, table)
