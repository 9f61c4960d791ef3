"""Plain sentences for ``RESULTS.md`` about what limits a figure, written from the numbers."""

from __future__ import annotations

from typing import Any


def notes(results: dict[str, Any]) -> list[str]:
    out: list[str] = []
    small, big = results.get("sync_small", {}), results.get("sync_big", {})
    out += _calls(small.get("calls"))
    for part in (small, big):
        if "throughput" in part:
            out += _throughput(part["throughput"], part.get("profile"))
    if results.get("big_scale_note"):
        out.append(results["big_scale_note"])
    if "memory" in results:
        out += _memory(results["memory"])
    if "limits" in results:
        out.append(
            "Rate-limit use is measured on a full read of journals (100 per call): the client needs far less "
            "than the 1/30 s each call is allowed, so the run is bound by Xero's limit alone, as every sync "
            "is against real Xero, where a minute lasts 60 s.")
    if "tenants" in results:
        out += _tenants(results["tenants"])
    if "writes" in results:
        out += _writes(results["writes"])
    if "workers" in results:
        out += _workers(results["workers"], results.get("machine", {}).get("cores"))
    if "webhooks" in results:
        out.append(
            "Webhook delays run from the edit in the sandbox to the end of the run that wrote it, with the sensor "
            "ticking on a fixed cadence and each run executed in the benchmark's process: the daemon's lag in "
            "starting a tick and a run's process (a few seconds) and Xero's own delivery delay (unpublished; the "
            "sandbox batches for a second) come on top.")
    return out


def _writes(w: dict[str, Any]) -> list[str]:
    one, many = w["one_tenant"], w["all_tenants"]
    out = [f"Records written (figure 8): authorised sales invoices of one line, 50 a request, pushed by one thread "
           f"per tenant through one client and one warehouse file; Xero's minute lasts {w['window_seconds']:g} s. "
           f"The rate counts full minutes from a tenant's first request, so the first minute's burst is not "
           f"taken for speed."]
    if max(one["share_of_ceiling"], many["share_of_ceiling"]) > 1:
        out.append("A share above 1 is one request on a window's edge: windows are laid from the first request's "
                   "send time, and the sandbox, counting arrivals, put it in the next one.")
    if many["share_of_ceiling"] < 0.9 <= one["share_of_ceiling"]:
        per_request = many["wall_seconds"] / max(many["written"] / 50, 1)
        out.append(f"{many['tenants']} tenants reach {many['share_of_ceiling']:.2f} of the ceiling where one reaches "
                   f"{one['share_of_ceiling']:.2f}: every tenant's push records each request in the same DuckDB file, "
                   f"whose write sessions take turns ({per_request * 1000:.0f} ms of wall time a request with "
                   f"{many['tenants']} pushing), so at this time scale the warehouse, not Xero, bounds the rate. Xero's "
                   f"real minute asks {many['tenants']} requests a second of {many['tenants']} tenants, "
                   f"{w['time_scale']:g}x fewer than measured here.")
    return out


def _calls(calls: dict[str, Any] | None) -> list[str]:
    if not calls:
        return []
    over = [r for r in calls["objects"] if r["calls"] > r["issue_minimum"]]
    if not over:
        return []
    parts = ", ".join(f"{r['object']} {r['calls']} for {r['issue_minimum']}" for r in over)
    return [f"Calls above the issue's minimum: {parts}. Page-only/offset endpoints need one more call "
            f"when the last page is full, and contact groups are read once per group because Xero's list "
            f"leaves their members empty; against the achievable minimum the sync makes "
            f"{calls['ratio_to_achievable_minimum']:.3f}x."]


def _throughput(t: dict[str, Any], profile: dict[str, Any] | None) -> list[str]:
    out = []
    if not t["meets_rows_target"]:
        out.append(f"Scale {t['scale']:g}: {t['rows_per_second']:,.0f} rows/s is below 20,000 rows/s.")
    if not t["meets_not_slower_target"] and t["pipeline_to_sandbox_time"]:
        out.append(
            f"Scale {t['scale']:g}: the pipeline is the slower side: its own time (parse/shape "
            f"{_pct(t['share_parse_shape'])} + write {_pct(t['share_write'])} of the wall) is "
            f"{t['pipeline_to_sandbox_time']:.1f}x the sandbox's CPU time ({t['server_cpu_seconds']:.1f} s). "
            f"The client reads one page ahead (the next page is fetched while the current one is shaped), "
            f"so the sandbox's time overlaps the client's instead of adding to it.")
    if profile and out:
        ours = profile["project_by_cumulative_time"][:6]
        spots = "; ".join(f"`{r['function']}` {_pct(r['cumulative_share'])}" for r in ours)
        out.append(f"Hot spots (cumulative share of the profiled sync): {spots}. See the table below.")
    return out


def _memory(m: dict[str, Any]) -> list[str]:
    by = m["by_scale"]
    setters = ", ".join(f"scale {s}: {p['peak_set_by']}" for s, p in by.items() if p.get("peak_set_by"))
    out = [f"The load that raised the sync process's peak RSS the most: {setters}."] if setters else []
    split = "; ".join(
        f"scale {s}: +{p['growth_while_fetching_mib']:.0f} MiB while fetching, "
        f"+{p['growth_while_merging_mib']:.0f} MiB while merging"
        for s, p in by.items() if "growth_while_fetching_mib" in p)
    if split:
        merging = all(p["growth_while_merging_mib"] > p["growth_while_fetching_mib"]
                      for p in by.values() if "growth_while_fetching_mib" in p)
        why = " Pages stream to the spool; the growth comes from the DuckDB merge." if merging else ""
        out.append(f"Peak RSS above the idle process: {split}.{why}")
    if m.get("data_factor") and abs(m["data_factor"] - 10) > 1e-9:
        out.append(f"Memory growth is measured over {m['data_factor']:g}x the data, not 10x; the per-10x "
                   f"figure assumes growth follows a power of the data size.")
    return out


def _tenants(t: dict[str, Any]) -> list[str]:
    out = []
    for way, title in (("cli", "`xero-pipeline sync`"), ("daemon", "The daemon's daily tick")):
        if way not in t:
            continue
        one, many = t[way]["one_tenant"], t[way]["all_tenants"]
        text = (f"{title}: one tenant took {one['wall_seconds']:.0f} s using {one['runs_cpu_seconds']:.0f} CPU s; "
                f"{many['tenants']} took {many['wall_seconds']:.0f} s using {many['runs_cpu_seconds']:.0f} CPU s "
                f"({many['runs_cpu_seconds'] / max(many['tenants'], 1):.1f} a tenant), the machine "
                f"{_pct(many['machine_busy'])} busy (runs and sandbox); 429s by limit: "
                f"{many['rate_limited'] or 'none'}.")
        if "started_after" in many:
            text += f" Runs started {many['started_after']} s after the first was created."
        out.append(text)
    return out


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.0f}%"


def _workers(w: dict[str, Any], cores: int | None) -> list[str]:
    one, two = w["one_worker_file"], w["two_workers_lake"]
    return [f"Figure 11's two workers are two folders on this one machine, sharing its {cores or 'few'} cores with "
            f"the sandbox and PostgreSQL: the ratio is what PostgreSQL (instance, tokens, limits) and DuckLake cost "
            f"against a SQLite instance and a DuckDB file, not a speed-up from a second machine. CPU: the workers "
            f"{two['runs_cpu_seconds']:.0f} s and PostgreSQL {two['postgres_cpu_seconds']:.0f} s against one worker's "
            f"{one['runs_cpu_seconds']:.0f} s; token refreshes {two['token_refreshes']} across both workers, "
            f"{one['token_refreshes']} on one."]
