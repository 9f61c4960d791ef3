"""``RESULTS.md`` from ``results.json``: one table of figures and targets, then the detail."""

from __future__ import annotations

from typing import Any

from benchmarks import bench_workers, bench_writes


def _n(x: float | int | None, digits: int = 0) -> str:
    if x is None:
        return "n/a"
    return f"{x:,.{digits}f}"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.0f}%"


def _met(ok: bool | None) -> str:
    return {True: "yes", False: "**no**", None: "n/a"}[ok]


def _calls_row(c: dict[str, Any]) -> list[str]:
    extra = c["token_and_connections_calls"]
    return [
        "1", f"Calls per full sync (scale {c['scale']:g})",
        f"{c['data_calls']} data calls + {sum(extra.values())} token/connections = {c['total_calls']}; "
        f"{c['ratio_to_issue_minimum']:.3f}x the issue's minimum ({c['issue_minimum']}), "
        f"{c['ratio_to_achievable_minimum']:.3f}x the achievable minimum ({c['achievable_minimum']}); "
        f"{c['failed_calls']} failed",
        "<= 1.02x minimum + token/connections", _met(c["meets_target"]),
    ]


def _incremental_rows(inc: dict[str, Any]) -> list[list[str]]:
    same, day = inc["no_change"], inc["after_day"]

    def text(r: dict[str, Any]) -> str:
        return (f"{r['total_calls']} calls in {r['seconds']:.1f} s: {r['incremental_object_calls']} for "
                f"{r['incremental_objects']} incremental objects, {r['snapshot_object_calls']} for "
                f"{r['snapshot_objects']} snapshot objects, {sum(r['token_and_connections_calls'].values())} "
                f"token/connections; {r['rows_landed']:,} rows landed")

    return [
        ["2", "Incremental sync, nothing changed", text(same), "<= 1 call per incremental object",
         _met(same["meets_target"])],
        ["2", "Incremental sync after a simulated day", text(day), "(reported)", "n/a"],
    ]


def _throughput_row(t: dict[str, Any]) -> list[str]:
    ok = t["meets_rows_target"] and t["meets_not_slower_target"]
    return [
        "3", f"Full-sync throughput, 1 tenant, scale {t['scale']:g}",
        f"{_n(t['rows_per_second'])} rows/s ({t['rows_landed']:,} rows in {t['wall_seconds']:.1f} s); time: "
        f"sandbox {_pct(t['share_sandbox'])}, parse/shape {_pct(t['share_parse_shape'])}, "
        f"write {_pct(t['share_write'])}; pipeline/sandbox time {_n(t['pipeline_to_sandbox_time'], 2)}x",
        ">= 20,000 rows/s; pipeline not slower than sandbox",
        _met(ok) if ok else f"rows/s: {_met(t['meets_rows_target'])}; not slower: "
        f"{_met(t['meets_not_slower_target'])}",
    ]


def _client_cpu_row(st: dict[str, Any]) -> list[str]:
    """Issue 14's bar for the client: its CPU per row, page by page as a sync runs, against the sandbox's."""
    ratio, python = st["typed_paged_to_sandbox"], st.get("python_paged_to_sandbox")
    return ["3", f"Client CPU per row against the sandbox's ({', '.join(st['tables'])} at scale {st['scale']:g}, "
            "page by page as a sync runs: decode, shape, spool)",
            f"{_n(ratio, 2)}x ({_n(st['rows'] / st['cpu_seconds']['typed_paged'])} rows per CPU s against the "
            f"sandbox's {_n(st['rows'] / st['cpu_seconds']['server_cpu'])}); the Python path it replaced "
            f"{_n(python, 2)}x; {st['typed_fallbacks']:,} records fell back to it",
            "<= 1.0x", _met(ratio <= 1.0)]


def _memory_row(m: dict[str, Any]) -> list[str]:
    points = "; ".join(f"scale {s}: {_n(p['peak_rss_mib'])} MiB" for s, p in m["by_scale"].items())
    growth = (f"; growth {m['growth']:.2f}x for {m['data_factor']:g}x the data"
              f" ({m['growth_per_10x']:.2f}x per 10x)" if "growth" in m else "")
    return ["4", "Peak RSS of the sync process", points + growth, "< 1.5x for 10x the data",
            _met(m.get("meets_target"))]


def _limits_row(lim: dict[str, Any]) -> list[str]:
    return [
        "5", f"Rate-limit use (time scale {lim['time_scale']:g}, window {lim['window_seconds']:g} s)",
        f"{lim['utilisation']:.3f} of 60 ({_n(lim['mean_calls_per_window'], 1)} calls/window over "
        f"{lim['full_windows']} full windows, {lim['calls']} calls); {lim['failed_calls']} failed",
        ">= 0.95, none failed", _met(lim["meets_target"]),
    ]


def _tenants_rows(t: dict[str, Any]) -> list[list[str]]:
    rows = []
    for way, title in (("cli", "`xero-pipeline sync`"), ("daemon", "the daily schedule, run by the daemon")):
        if way not in t:
            continue
        one, many = t[way]["one_tenant"], t[way]["all_tenants"]
        text = (f"{many['tenants']} tenants {many['wall_seconds']:.0f} s vs 1 tenant {one['wall_seconds']:.0f} s = "
                f"{t[way]['ratio']:.2f}x; peak RSS of all processes {many['peak_rss_mib']:,.0f} MiB "
                f"(1 tenant: {one['peak_rss_mib']:,.0f}); {many['failed_calls']} failed calls, "
                f"{many['failed_runs']} failed runs, {len(many['unequal_tenants'])} tenants unlike Xero")
        rows.append(["6", f"Tenant scaling under limits through {title} (time scale {t['time_scale']:g})", text,
                     "<= 1.5x, all equal to Xero", _met(t[way]["meets_target"])])
    return rows


def _partial_runs(runs: list[dict[str, Any]]) -> list[str]:
    """Figures measured again later (``python -m benchmarks --only``): which, when, how loaded."""
    out = []
    for r in runs:
        out += ["", f"Measured again on {r['started_at']} with `--only {','.join(r['groups'])}` (the other figures "
                    f"are from the run above): load average at the end {r.get('load_average_at_end')}, other work "
                    f"used {_pct(r.get('other_work_cpu_share'))} of the CPU."]
    return out


def _app_limit_row(a: dict[str, Any]) -> list[str]:
    text = (f"{a['tenants']} tenants by {a['processes']} processes ({a['threads_per_process']} at once each): "
            f"{a['calls']:,} calls in {a['wall_seconds']:.0f} s = {a['calls_per_minute']:,.0f} a minute; "
            f"{a['appminute_429']} appminute 429s ({a['rate_limited'] or 'no 429s'}); "
            f"{a['unequal_tenants']} tenants unlike Xero; {len(a['failed_workers'])} failed workers")
    return ["9", f"App-wide limit shared by processes (real time, {a['app_minute_limit']:,} a minute)", text,
            "0 appminute 429s, every tenant equal to Xero", _met(a["meets_target"])]


def _catch_up_row(c: dict[str, Any]) -> list[str]:
    text = (f"{c['journals']:,} journals, {c['plan']} plan ({c['daily_limit']:,} calls a day): equal to Xero after "
            f"{c['days']} day(s) (ceil(calls / limit) = {c['days_expected']}); journal calls {c['journal_calls']:,} = "
            f"{c['journal_calls_ratio']}x the fewest ({c['journal_calls_minimum']:,}); {c['failed_runs']} failed runs, "
            f"health failing on {c['health_failing_days']} day(s); journals equal: {c['journals_equal_to_xero']}")
    met = (c["journals_equal_to_xero"] and not c["failed_runs"] and not c["health_failing_days"]
           and c["days"] <= c["days_expected"] and (c["journal_calls_ratio"] or 0) <= 1.02)
    return ["7", f"Large organisation catching up (day = {c['day_seconds']:g} s)", text,
            "days <= ceil(calls / limit), calls <= 1.02x, no failed run", _met(met)]


def _writes_rows(w: dict[str, Any]) -> list[list[str]]:
    rows = []
    for key in ("one_tenant", "all_tenants"):
        m = w[key]
        limited = sum(m["rate_limited"].values())
        text = (f"{m['records_per_minute']:,.0f} records a Xero minute ({m['share_of_ceiling']:.2f} of the ceiling "
                f"{m['ceiling_per_minute']:,}); {m['written']:,} of {m['tenants'] * m['rows_per_tenant']:,} invoices "
                f"written in {m['wall_seconds']:.0f} s = {m['xero_minutes']:.1f} Xero minutes; "
                f"{m['failed_calls']} non-2xx answers ({limited} of them 429, waited out and sent again)")
        rows.append(["8", f"Records written per minute, {m['tenants']} tenant(s) (time scale {w['time_scale']:g})",
                     text, ">= 0.9 of 3,000 a tenant-minute, every row written", _met(bench_writes.met(m))])
    return rows


def _webhooks_row(w: dict[str, Any]) -> list[str]:
    text = (f"change to warehouse row: median {w['median_delay_seconds']:.1f} s, p95 {w['p95_delay_seconds']:.1f} s "
            f"over {w['bursts']} bursts at the sensor's {w['interval_seconds']:g} s interval; each burst of "
            f"{w['events_per_burst']} events on {w['objects_per_burst']} objects cost {max(w['calls_per_burst'])} data "
            f"calls at most ({max(w['all_calls_per_burst'])} with token and /connections)")
    return ["10", "Webhooks: a change reaches the warehouse", text,
            "one call per object changed; p95 < interval + 30 s", _met(w["meets_target"])]


def _workers_row(w: dict[str, Any]) -> list[str]:
    one, two = w["one_worker_file"], w["two_workers_lake"]

    def way(r: dict[str, Any]) -> str:
        return (f"{r['wall_seconds']:.0f} s, {r['runs_cpu_seconds']:.0f} CPU s, peak RSS {r['peak_rss_mib']:,.0f} MiB, "
                f"{sum(r['rate_limited'].values())} 429s, {sum(r['token_errors'].values())} token errors, "
                f"{r['failed_runs']} failed runs, {len(r['unequal_tenants'])} tenants unlike Xero")

    text = (f"{w['workers']} workers into DuckLake: {way(two)} (+{two['postgres_cpu_seconds']:.0f} CPU s of "
            f"PostgreSQL); 1 worker into a file: {way(one)}; wall {w['ratio']:.2f}x, CPU {w['cpu_ratio']:.2f}x, "
            f"RSS {w['rss_ratio']:.2f}x")
    return ["11", f"{w['tenants']} tenants on {w['workers']} workers into DuckLake vs 1 worker into a DuckDB file "
                  f"(time scale {w['time_scale']:g})", text,
            f"wall <= {bench_workers.TARGET:g}x, every tenant equal to Xero, 0 invalid_grant", _met(w["meets_target"])]


def _catch_up_days(c: dict[str, Any] | None) -> list[str]:
    if not c:
        return []
    out = ["## A large organisation catching up, day by day (figure 7)", "",
           "| day | calls so far | journal calls | journals held | exit | health |", "|---|---|---|---|---|---|"]
    for d in c["per_day"]:
        out.append(f"| {d['day']} | {d['calls_so_far']:,} | {d['journal_calls_so_far']:,} | {d['journals_held']:,} | "
                   f"{d['exit_code']} | {d['health'].replace('|', '/')} |")
    return [*out, ""]


def render(results: dict[str, Any]) -> str:
    m = results["machine"]
    small, big = results.get("sync_small", {}), results.get("sync_big", {})
    rows: list[list[str]] = []
    if "calls" in small:
        rows.append(_calls_row(small["calls"]))
    if "incremental" in small:
        rows += _incremental_rows(small["incremental"])
    for part in (small, big):
        if "throughput" in part:
            rows.append(_throughput_row(part["throughput"]))
    if "typed_paged_to_sandbox" in (results.get("stages") or {}):
        rows.append(_client_cpu_row(results["stages"]))
    if "memory" in results:
        rows.append(_memory_row(results["memory"]))
    if "limits" in results:
        rows.append(_limits_row(results["limits"]))
    if "tenants" in results:
        rows += _tenants_rows(results["tenants"])
    if "app_limit" in results:
        rows.append(_app_limit_row(results["app_limit"]))
    if "catch_up" in results:
        rows.append(_catch_up_row(results["catch_up"]))
    if "writes" in results:
        rows += _writes_rows(results["writes"])
    if "webhooks" in results:
        rows.append(_webhooks_row(results["webhooks"]))
    if "workers" in results:
        rows.append(_workers_row(results["workers"]))
    out = [
        "# Benchmark results",
        "",
        f"`make bench` on {m['cores']} cores ({m['cpu_model']}), {m['memory_gib']} GiB RAM, {m['os']}; "
        f"Python {m['python']}, duckdb {m['duckdb']}, dagster {m['dagster']}. Load average at start "
        f"{m['load_average_at_start']}, at the end {results.get('load_average_at_end')}; other work on the "
        f"machine used {_pct(results.get('other_work_cpu_share'))} of its CPU during the run (the figures "
        f"competed with it). Measured {results['started_at']}; "
        f"the run took {results['runtime_seconds'] / 60:.1f} min. Raw figures: `benchmarks/results.json`.",
        *_partial_runs(results.get("partial_runs") or []),
        "",
        "| # | figure | measured | target | met |",
        "|---|---|---|---|---|",
        *("| " + " | ".join(r) + " |" for r in rows),
        "",
    ]
    out += _gaps(results)
    out += _calls_detail(small.get("calls"))
    out += _stages(results.get("stages"))
    out += _catch_up_days(results.get("catch_up"))
    out += _hot_spots(small.get("profile"))
    return "\n".join(out) + "\n"


def _gaps(results: dict[str, Any]) -> list[str]:
    notes = list(results.get("notes", []))
    return ["## Notes and gaps", "", *(f"- {n}" for n in notes), ""] if notes else []


def _calls_detail(calls: dict[str, Any] | None) -> list[str]:
    if not calls:
        return []
    out = ["## Calls per object (figure 1)", "",
           "The issue's minimum is ceil(rows/1000) for page+pageSize endpoints, ceil(rows/100) for journals "
           "and page-only endpoints, 1 for unpaged ones. The achievable minimum (`paging.minimum_calls`) "
           "adds "
           "the extra call a full last page forces on page-only and offset endpoints, and the reads by id "
           "Xero forces where its lists leave an array empty (contact group members).", "",
           "| object | paging | rows | calls | issue minimum | achievable minimum |",
           "|---|---|---|---|---|---|"]
    for r in calls["objects"]:
        flag = " *" if r["calls"] > r["achievable_minimum"] else ""
        out.append(f"| {r['object']} | {r['paging']} | {r['rows']:,} | {r['calls']}{flag} | "
                   f"{r['issue_minimum']} | "
                   f"{r['achievable_minimum']} |")
    if "reconciliation_calls_per_week" in calls:
        out += ["", f"Integrity reads: the closing If-Modified-Since reads of this full sync cost "
                    f"{calls['closing_calls']} call(s) (one per object read in several pages; included above); "
                    f"the weekly reconciliation reads (every If-Modified-Since object read whole) cost "
                    f"{calls['reconciliation_calls_per_week']} calls a week per tenant at this size, "
                    f"{calls['reconciliation_calls_per_day']:.1f} a day once spread over the week."]
    return out + [""]


def _stages(st: dict[str, Any] | None) -> list[str]:
    if not st:
        return []
    cpu, rate = st["cpu_seconds"], st["rows_per_cpu_second"]
    names = {"server_cpu": "sandbox: serve the pages", "parse": "client: `json.loads` (Decimal)",
             "shape": "shaping: `RecordShaper.shape` (hash included)", "hash": "  of which `record_hash`",
             "encode": "spool: `to_json_bytes` per row",
             "python_paged": "Python path, page by page as a sync runs it (parse + shape + spool)",
             "typed_decode": "typed: `decode_page` (envelope; records left as JSON text)",
             "typed_shape": "typed: `TypedShaper.shape` (typed decode, digest of the text, rows)",
             "typed_encode": "typed: spool `to_json_bytes` per row",
             "typed_paged": "typed path, page by page as a sync runs it (decode + shape + spool)",
             "orjson_parse": "alternative: `orjson.loads` (floats: inexact past 15 digits)",
             "duckdb_unnest": "alternative: DuckDB unnests the raw pages"}
    out = [f"## Client stages without a profiler ({', '.join(st['tables'])} at scale {st['scale']:g})", "",
           f"{st['records']:,} records, {st['rows']:,} rows (children included), {st['bytes'] / 1e6:.0f} MB; "
           f"CPU seconds per stage. The Python path (parse + shape + spool) runs at "
           f"{_n(st['python_path_rows_per_cpu_second'])} rows per CPU second, "
           f"{_n(st['python_path_to_sandbox'], 1)}x the sandbox's CPU per row"
           + (". Stage by stage, every stage's output stays alive for the next, which a sync never "
              "pays for; page by page, as a sync runs them, the Python path takes "
              f"{_n(st['python_paged_to_sandbox'], 2)}x the sandbox's CPU per row and the typed path "
              f"{_n(st['typed_paged_to_sandbox'], 2)}x ({st['typed_fallbacks']:,} records fell back to the "
              "Python path)." if "typed_paged_to_sandbox" in st else "."), "",
           "| stage | CPU s | rows per CPU s |", "|---|---|---|"]
    for key, label in names.items():
        if key in cpu:  # results measured before a stage was added lack it
            out.append(f"| {label} | {cpu[key]:.2f} | {_n(rate[key])} |")
    return out + [""]


def _hot_spots(profile: dict[str, Any] | None) -> list[str]:
    if not profile:
        return []
    out = [f"## Hot spots of the sync process (cProfile, full sync at scale {profile['scale']:g})", "",
           f"Profiled run {profile['profiled_wall_seconds']:.1f} s "
           f"(unprofiled {profile['unprofiled_wall_seconds']:.1f} s; "
           f"the sandbox used {_n(profile['profiled_server_cpu_seconds'], 1)} CPU s of it). Own time:", "",
           "| function | calls | own s | share | cumulative s |", "|---|---|---|---|---|"]
    for r in profile["by_own_time"]:
        out.append(f"| `{r['function']}` | {r['calls']:,} | {r['own_seconds']:.2f} | "
                   f"{_pct(r['own_share'])} | "
                   f"{r['cumulative_seconds']:.2f} |")
    out += ["", "Project functions by cumulative time:", "", "| function | calls | cumulative s | share |",
            "|---|---|---|---|"]
    for r in profile["project_by_cumulative_time"]:
        out.append(f"| `{r['function']}` | {r['calls']:,} | {r['cumulative_seconds']:.2f} | "
                   f"{_pct(r['cumulative_share'])} |")
    return out + [""]
