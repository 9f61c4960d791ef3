"""What every benchmark shares: a sandbox in its own process, the settings that point the
pipeline at it, readings from ``/proc``, and the command line (``bench_main``).

The sandbox always runs as a separate process (``python -m xero_pipeline.sandbox``), so
serving and syncing never share a GIL, and its CPU time can be read from ``/proc``
independently of the client's. Its request counts (``/_sandbox/stats``) are the
benchmarks' ground truth for calls: they are counted where Xero would count them, not
by the code under test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process so far (Linux ``/proc``), None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def machine_cpu_seconds() -> float | None:
    """CPU seconds every process on the machine has used since boot (``/proc/stat``)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        # user nice system idle iowait irq softirq steal: everything but idle and iowait is work
        busy = sum(int(x) for i, x in enumerate(fields[:8]) if i not in (3, 4))
        return busy / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def own_cpu_seconds() -> float:
    """CPU seconds of this process and every child it has waited for (sandboxes, workers, runs)."""
    import resource

    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        r = resource.getrusage(who)
        total += r.ru_utime + r.ru_stime
    return total


def peak_rss_mib() -> float | None:
    """This process's peak resident set (VmHWM), in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


@dataclass
class SandboxProcess:
    """A running ``python -m xero_pipeline.sandbox``; see ``start_sandbox``."""

    proc: subprocess.Popen
    info: dict[str, Any]
    build_seconds: float

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def url(self) -> str:
        return self.info["url"]

    @property
    def tenant_ids(self) -> list[str]:
        return [t["tenant_id"] for t in self.info["tenants"]]

    def control(self, method: str, route: str, **params: Any) -> Any:
        resp = requests.request(method, f"{self.url}/_sandbox/{route}", params=params or None, timeout=600)
        resp.raise_for_status()
        return resp.json()

    def stats(self) -> dict[str, Any]:
        return self.control("GET", "stats")

    def reset_stats(self) -> None:
        self.control("POST", "stats/reset")

    def simulate_day(self, tenant_id: str | None = None) -> dict[str, Any]:
        return self.control("POST", "simulate-day", **({"tenant_id": tenant_id} if tenant_id else {}))

    def cpu_seconds(self) -> float | None:
        return cpu_seconds(self.pid)

    def access_token(self, session: requests.Session) -> str:
        """A fresh access token from the seed refresh token, as a client's first call gets one."""
        resp = session.post(f"{self.url}/connect/token", data={
            "grant_type": "refresh_token", "refresh_token": self.info["refresh_token"],
            "client_id": self.info["client_id"], "client_secret": self.info["client_secret"]}, timeout=60)
        resp.raise_for_status()
        return resp.json()["access_token"]

    def env(self, token_store: Path) -> dict[str, str]:
        """XERO_* settings for a pipeline process that talks to this sandbox."""
        return {
            "XERO_CLIENT_ID": self.info["client_id"],
            "XERO_CLIENT_SECRET": self.info["client_secret"],
            "XERO_REFRESH_TOKEN": self.info["refresh_token"],
            "XERO_API_URL": self.url,
            "XERO_IDENTITY_URL": self.url,
            "XERO_TOKEN_STORE": str(token_store),
        }


@contextmanager
def start_sandbox(
    *, tenants: int, scale: float, limits: bool, time_scale: float = 1.0, seed: int = 7,
    extra: Sequence[str] = (),
) -> Iterator[SandboxProcess]:
    """Build and serve a seeded sandbox in a child process; stop it on exit.

    ``extra``: more of the command's flags (``--plan starter``, ``--history-journals N``)."""
    cmd = [sys.executable, "-m", "xero_pipeline.sandbox", "--port", "0", "--json", "--tenants", str(tenants),
           "--scale", str(scale), "--seed", str(seed), "--time-scale", str(time_scale), *extra]
    if not limits:
        cmd.append("--no-limits")
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line:
            raise RuntimeError(f"the sandbox exited before serving (exit code {proc.wait()})")
        yield SandboxProcess(proc, json.loads(line), time.monotonic() - started)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def data_calls(stats: dict[str, Any], tenant_id: str | None = None) -> int:
    """Accounting API calls the sandbox answered (all tenants, or one)."""
    calls = stats["calls"]
    tenants = [tenant_id] if tenant_id else [t for t in calls if t != "-"]
    return sum(n for t in tenants for n in calls.get(t, {}).values())


def overhead_calls(stats: dict[str, Any]) -> dict[str, int]:
    """Calls with no tenant: the token endpoint and ``/connections``."""
    return dict(stats["calls"].get("-", {}))


def failed_calls(stats: dict[str, Any]) -> int:
    """Every answer that was not a 2xx (429s included), over all tenants and endpoints."""
    return sum(n for per in stats["responses"].values() for codes in per.values()
               for code, n in codes.items() if not code.startswith("2"))


def machine() -> dict[str, Any]:
    """Where the figures were measured: they mean little without it."""
    import dagster
    import duckdb

    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": mem_gib,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "dagster": dagster.__version__,
    }


def run_sync_worker(sandbox: SandboxProcess, *, tenant: str, workdir: Path, label: str,
                    rate_window: float | None = None, unthrottled: bool = False,
                    objects: list[str] | None = None,
                    page_times: bool = False, profile: Path | None = None,
                    duckdb_config: dict[str, Any] | None = None) -> dict[str, Any]:
    """Sync one tenant in a fresh ``benchmarks.sync_worker`` process; cursors persist in ``workdir``.

    Adds what only this side can see: the sandbox's CPU seconds and the calls it
    answered while the worker ran.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    out = workdir / f"{label}.json"
    cmd = [sys.executable, "-m", "benchmarks.sync_worker", "--tenant", tenant,
           "--warehouse", str(workdir / "warehouse.duckdb"), "--cursors", str(workdir / "cursors.json"),
           "--out", str(out)]
    if rate_window:
        cmd += ["--rate-window", str(rate_window)]
    if unthrottled:
        cmd.append("--unthrottled")
    if objects:
        cmd += ["--objects", ",".join(objects)]
    if page_times:
        cmd.append("--page-times")
    if profile:
        cmd += ["--profile", str(profile)]
    if duckdb_config:
        cmd += ["--duckdb-config", json.dumps(duckdb_config)]
    sandbox.reset_stats()
    cpu0 = sandbox.cpu_seconds()
    started = time.monotonic()
    done = subprocess.run(cmd, cwd=ROOT, env={**os.environ, **sandbox.env(workdir / "tokens.json")},
                          capture_output=True, text=True)
    elapsed = time.monotonic() - started
    cpu1 = sandbox.cpu_seconds()
    if not out.exists():
        raise RuntimeError(f"sync worker failed (exit {done.returncode}): {done.stderr[-2000:]}")
    result = json.loads(out.read_text())
    result["process_seconds"] = elapsed
    result["server_cpu_seconds"] = (cpu1 - cpu0) if cpu0 is not None and cpu1 is not None else None
    result["sandbox_stats"] = sandbox.stats()
    return result


@contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """A temporary directory for one run's warehouses, token stores and instances; removed afterwards."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield workdir
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def bench_main(
    run: Callable[..., dict[str, Any]],
    argv: list[str] | None,
    *,
    doc: str,
    options: Mapping[str, float | int | bool],
    workdir_prefix: str | None = None,
    passed: Callable[[dict[str, Any]], bool] = lambda result: True,
) -> int:
    """``python -m benchmarks.bench_X``: parse the options, run the benchmark, print its figures as JSON.

    Each option is a keyword argument of ``run`` with its default: ``time_scale=30.0`` is
    ``--time-scale`` (a float), ``profile=False`` the switch ``--profile``, ``what_if=True``
    the switch ``--no-what-if``. With ``workdir_prefix``, ``run`` also gets ``workdir``, a
    scratch directory removed afterwards. The exit code is 1 where ``passed`` says the
    figures missed their target.
    """
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    for name, default in options.items():
        flag = name.replace("_", "-")
        if isinstance(default, bool):
            action = "store_false" if default else "store_true"
            parser.add_argument(f"--no-{flag}" if default else f"--{flag}", dest=name, action=action)
        else:
            parser.add_argument(f"--{flag}", dest=name, type=type(default), default=default)
    kwargs = vars(parser.parse_args(argv))
    if workdir_prefix is None:
        result = run(**kwargs)
    else:
        with scratch_dir(workdir_prefix) as workdir:
            result = run(**kwargs, workdir=workdir)
    print(json.dumps(result, indent=2, default=str))
    return 0 if passed(result) else 1
