"""Figure 7: a large organisation on a Starter plan catches up, one daily schedule run a day.

The sandbox serves one tenant with a long journal history (500,000 journals by
default, generated on demand) to an app on the Starter plan (1,000 calls a day per
organisation), with every window time-scaled so a day lasts ``day_seconds``. Each
simulated day:

1. the real daily schedule is evaluated for that day's tick (one RunRequest);
2. the request runs as its own process, ``dagster job execute -j xero_sync`` (every
   object, the reports and the ledger views), as Dagster's run launcher would;
3. the health rules judge the tenant from the instance, as the health sensor does.

It stops when health no longer reports a catch-up. The figures: days taken against
ceil(calls made / daily limit), journal calls against the fewest Xero's paging allows
(no page read twice), runs that failed (none expected), health's text each day, and
whether the warehouse's journals equal the sandbox's (count, numbers, lines, and net
amount per account code).

    python -m benchmarks.bench_catch_up [--journals 500000] [--day-seconds 120]
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from benchmarks.harness import ROOT, bench_main, data_calls, start_sandbox

DAY_MARGIN_SECONDS = 15.0



def schedule_requests(env: dict[str, str], home: Path, tenants: list[str]) -> list[dict[str, Any]]:
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
    return requests

def _health(home: Path, tenant: str) -> dict[str, Any]:
    import dagster as dg

    from xero_pipeline.defs.health_rules import assess
    from xero_pipeline.defs.tenant_records import gather_facts

    with dg.DagsterInstance.from_config(str(home)) as instance:
        verdict = assess(gather_facts(instance, tenant), now=datetime.now(UTC))
    return {"codes": sorted(c.code for c in verdict.concerns), "failing": verdict.failing,
            "text": verdict.description}


def _journals_held(warehouse: Path) -> dict[str, Any]:
    from xero_pipeline.warehouse.connection import open_warehouse
    from xero_pipeline.warehouse.tables import table_exists

    conn = open_warehouse(warehouse, read_only=True)
    try:
        if not table_exists(conn, "journals"):
            return {"count": 0, "number_sum": 0, "lines": 0, "last_number": 0, "net_by_account_code": {}}
        count, numbers, last = conn.execute(
            "SELECT count(*), coalesce(sum(journal_number), 0), coalesce(max(journal_number), 0) "
            "FROM xero.journals").fetchone()
        lines = conn.execute("SELECT count(*) FROM xero.journal_lines").fetchone()[0]
        by_code = conn.execute("SELECT account_code, sum(net_amount) FROM xero.journal_lines "
                               "GROUP BY account_code").fetchall()
    finally:
        conn.close()
    return {"count": count, "number_sum": int(numbers), "lines": lines, "last_number": last,
            "net_by_account_code": {k: str(v) for k, v in by_code if v}}


def run(*, journals: int, day_seconds: float, plan: str, day_limit: int, scale: float, max_days: int,
        workdir: Path) -> dict[str, Any]:
    from xero_pipeline.registry import BY_TABLE
    from xero_pipeline.xero.paging import minimum_calls

    # A fixed day (from the tenant's first call) gives each simulated day's run a whole
    # day's allowance; with a rolling one, yesterday's calls would free up during the run.
    extra = ["--plan", plan, "--history-journals", str(journals), "--day-window", "fixed"]
    if day_limit:
        extra += ["--day-limit", str(day_limit)]
    with start_sandbox(tenants=1, scale=scale, limits=True, time_scale=86_400 / day_seconds, extra=extra) as sandbox:
        tenant = sandbox.tenant_ids[0]
        limit = sandbox.control("GET", "profile")["day_limit"] if not day_limit else day_limit
        home = workdir / "dagster"
        home.mkdir(parents=True, exist_ok=True)
        warehouse = workdir / "warehouse.duckdb"
        env = {**os.environ, **sandbox.env(workdir / "tokens.json"), "DAGSTER_HOME": str(home),
               "XERO_WAREHOUSE": str(warehouse), "XERO_RATE_WINDOW_SECONDS": str(60.0 / (86_400 / day_seconds))}
        sandbox.reset_stats()
        days: list[dict[str, Any]] = []
        for day in range(max_days):
            began = time.monotonic()
            requests = schedule_requests(env, home, [tenant])
            tags = {**requests[0]["tags"], "dagster/partition": tenant}
            done = subprocess.run([sys.executable, "-m", "dagster", "job", "execute", "-m", "xero_pipeline.definitions",
                                   "-j", "xero_sync", "--tags", json.dumps(tags)],
                                  cwd=ROOT, env=env, capture_output=True, text=True)
            calls = sandbox.stats()["calls"].get(tenant, {})
            health = _health(home, tenant)
            held = _journals_held(warehouse)
            days.append({"day": day + 1, "run_seconds": round(time.monotonic() - began, 1),
                         "exit_code": done.returncode, "calls_so_far": sum(calls.values()),
                         "journal_calls_so_far": calls.get("Journals", 0), "journals_held": held["count"],
                         "health": health["text"], "health_failing": health["failing"],
                         **({"stderr_tail": done.stderr[-1500:]} if done.returncode else {})})
            print(f"[catch-up] day {day + 1}: {held['count']:,} journals, {sum(calls.values()):,} calls, "
                  f"exit {done.returncode}; {health['text'][:160]}", flush=True)
            if not {"catching_up", "deferred"} & set(health["codes"]) and done.returncode == 0:
                break
            # The next run starts once the tenant's day has surely reset: the fixed day opened
            # at this run's first call, a few seconds (a process start) after ``began``.
            margin = min(DAY_MARGIN_SECONDS, day_seconds / 4)
            time.sleep(max(0.0, day_seconds - (time.monotonic() - began)) + margin)
        summary = sandbox.control("GET", "journal-summary", tenant_id=tenant)
        stats = sandbox.stats()
    held = _journals_held(warehouse)
    total = data_calls(stats, tenant)
    journal_calls = stats["calls"].get(tenant, {}).get("Journals", 0)
    fewest = minimum_calls(BY_TABLE["journals"], summary["count"])
    equal = all(held[k] == summary[k] for k in ("count", "number_sum", "lines")) and {
        k: Decimal(v) for k, v in held["net_by_account_code"].items()} == {
        k: Decimal(v) for k, v in summary["net_by_account_code"].items() if Decimal(v)}
    return {
        "journals": summary["count"], "plan": plan, "daily_limit": limit, "day_seconds": day_seconds,
        "days": len(days), "days_expected": math.ceil(total / limit), "calls": total,
        "journal_calls": journal_calls, "journal_calls_minimum": fewest,
        "journal_calls_ratio": round(journal_calls / fewest, 4) if fewest else None,
        "failed_runs": sum(1 for d in days if d["exit_code"]),
        "health_failing_days": sum(1 for d in days if d["health_failing"]),
        "rate_limited": stats.get("rate_limited", {}), "journals_equal_to_xero": equal,
        "per_day": days,
    }


def passed(result: dict[str, Any]) -> bool:
    return (result["journals_equal_to_xero"] and not result["failed_runs"] and not result["health_failing_days"]
            and result["days"] <= result["days_expected"] and (result["journal_calls_ratio"] or 0) <= 1.02)


def main(argv: list[str] | None = None) -> int:
    return bench_main(run, argv, doc=__doc__,
                      options={"journals": 500_000, "day_seconds": 120.0, "plan": "starter", "day_limit": 0,
                               "scale": 0.02, "max_days": 12},
                      workdir_prefix="xero-bench-catch-up-", passed=passed)


if __name__ == "__main__":
    raise SystemExit(main())
