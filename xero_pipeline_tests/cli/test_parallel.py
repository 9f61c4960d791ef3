"""``xero-pipeline sync`` with several tenants: each tenant's run in its own process, at once.

What users rely on: the tenants are read side by side (not one after the other), each as
a ``xero_sync`` run of its partition in the Dagster instance, the warehouse ends equal to
Xero, the command says what each tenant is doing while it runs, and one Ctrl-C stops
every tenant cleanly.
"""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import dagster as dg
import pytest

from xero_pipeline.registry import BY_TABLE
from xero_pipeline.sandbox import Sandbox
from xero_pipeline_tests.cli.test_interrupt import UNFINISHED, committed_objects
from xero_pipeline_tests.processes import descendants
from xero_pipeline_tests.resource_helpers import FAST_PACING, cli_env
from xero_pipeline_tests.truth import diff_warehouse

SELECT = "accounts,contacts,invoices"  # synced in this order
OBJECTS = [BY_TABLE[t] for t in SELECT.split(",")]
COMMAND = [sys.executable, "-m", "xero_pipeline.cli.main", "sync", "--select", SELECT]


def runs_by_tenant(home: str) -> dict[str, dg.RunRecord]:
    with dg.DagsterInstance.from_config(home) as instance:
        records = instance.get_run_records(dg.RunsFilter(job_name="xero_sync"))
    return {r.dagster_run.tags["dagster/partition"]: r for r in records if "dagster/partition" in r.dagster_run.tags}


@pytest.mark.heavy(20)
def test_tenants_are_read_at_once_as_xero_sync_runs_and_end_equal_to_xero(tmp_path):
    with Sandbox(tenants=3, scale=0.01, seed=41, limits=False) as sandbox:
        # Each organisation takes Xero 8 s to answer for its invoices: one after the other that
        # is three waits, side by side one.
        sandbox.inject("slow", path="Invoices", seconds=8, count=3)
        env = cli_env(sandbox, tmp_path, **FAST_PACING)
        result = subprocess.run([*COMMAND, "--parallel", "3"], env=env, cwd=tmp_path, capture_output=True,
                                text=True, timeout=240)
        truths = {t: sandbox.ground_truth(tenant_id=t) for t in sandbox.tenant_ids}
        names = {t: b.name for t, b in sandbox.books.items()}

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "syncing 3 tenants, 3 at a time" in result.stdout
    runs = runs_by_tenant(env["DAGSTER_HOME"])
    assert set(runs) == set(truths)
    for tenant, record in runs.items():
        run = record.dagster_run
        assert run.status == dg.DagsterRunStatus.SUCCESS
        assert run.tags["xero/tenant"] == tenant
        # What the UI's job page lists: the job's runs labelled with the code location's repository.
        assert run.tags[".dagster/repository"] == "__repository__@xero_pipeline.definitions"
    # Side by side: every tenant's run started before any of them ended.
    assert max(r.start_time for r in runs.values()) < min(r.end_time for r in runs.values())

    lines = result.stdout.splitlines()
    for tenant in truths:
        # Each tenant's lines are printed together, under its heading, whatever the others did meanwhile.
        heading = next(i for i, line in enumerate(lines) if line.startswith(f"tenant {names[tenant]} ({tenant})"))
        assert [line.split()[0] for line in lines[heading + 1:heading + 4]] == SELECT.split(",")
        problems = diff_warehouse(tmp_path / "xero.duckdb", truths[tenant], OBJECTS)
        assert not problems, "\n".join(problems[:20])
    assert result.stdout.rstrip().endswith("0 failure(s)")


def _child_pids(proc: subprocess.Popen) -> list[int]:
    return [pid for pid in descendants(proc.pid) if b"--child-of" in Path(f"/proc/{pid}/cmdline").read_bytes()]


def test_one_ctrl_c_stops_every_tenant_cleanly(tmp_path):
    with Sandbox(tenants=3, scale=0.01, seed=43, limits=False) as sandbox:
        sandbox.inject("slow", path="Invoices", seconds=300, count=100)
        env = cli_env(sandbox, tmp_path, **FAST_PACING)
        proc = subprocess.Popen([*COMMAND, "--parallel", "3"], env=env, cwd=tmp_path, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:  # every tenant is waiting for Xero's invoices
                assert proc.poll() is None, proc.stdout.read()
                calls = sandbox.stats()["calls"]
                if all("Invoices" in calls.get(t, {}) for t in sandbox.tenant_ids):
                    break
                time.sleep(0.1)
            children = _child_pids(proc)
            assert len(children) == 3
            # As a terminal's Ctrl-C reaches the command: the tenants' processes are not in its group.
            proc.send_signal(signal.SIGINT)
            output, _ = proc.communicate(timeout=90)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        truths = {t: sandbox.ground_truth(tenant_id=t) for t in sandbox.tenant_ids}

    assert proc.returncode == 130, output[-3000:]
    assert "Traceback" not in output and "FAILED" not in output, output[-3000:]
    interrupted = [line for line in output.splitlines() if "Interrupted" in line]
    assert len(interrupted) == 1, output[-3000:]
    assert interrupted[0].startswith("Interrupted (SIGINT): stopped during tenant "), interrupted
    assert all(tenant in interrupted[0] for tenant in truths)
    assert not [pid for pid in children if Path(f"/proc/{pid}").exists()], "a tenant's process outlived the command"

    runs = runs_by_tenant(env["DAGSTER_HOME"])
    assert {t: r.dagster_run.status for t, r in runs.items()} == {t: dg.DagsterRunStatus.CANCELED for t in truths}
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        assert not [r.run_id for r in instance.get_runs() if r.status in UNFINISHED]
    for tenant, truth in truths.items():  # what was committed before the signal is whole
        done = committed_objects(tmp_path / "xero.duckdb", tenant)
        assert [o.table for o in done] == ["accounts", "contacts"]
        problems = diff_warehouse(tmp_path / "xero.duckdb", truth, done)
        assert not problems, "\n".join(problems[:20])


class Terminal:
    """The command on a pseudo-terminal, as a person runs it; everything it draws is kept."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        main, child = pty.openpty()
        self.proc = subprocess.Popen(argv, env={**env, "COLUMNS": "200"}, cwd=cwd, stdin=child, stdout=child,
                                     stderr=child, close_fds=True)
        os.close(child)
        self._main = main
        self.screen = b""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self._main, 65536)
            except OSError:  # the terminal closed: the command and its children are gone
                return
            if not data:
                return
            self.screen += data

    def wait(self, timeout: float) -> str:
        self.proc.wait(timeout=timeout)
        self._reader.join(timeout=10)
        os.close(self._main)
        return self.screen.decode(errors="replace")


@pytest.mark.heavy(17)
def test_the_terminal_shows_each_tenant_s_object_calls_and_waits_as_they_happen(tmp_path):
    with Sandbox(tenants=2, scale=0.01, seed=47, limits=False) as sandbox:
        slow, quick = sandbox.tenant_ids
        # Xero says one organisation's minute is used up: that tenant waits, and says so.
        sandbox.inject("429_minute", tenant_id=slow, path="Contacts", count=1, seconds=4)
        # While it waits, invoices take long enough for the terminal to be redrawn many times.
        sandbox.inject("slow", path="Invoices", seconds=3, count=2)
        terminal = Terminal([*COMMAND, "--parallel", "2"], cli_env(sandbox, tmp_path, **FAST_PACING), tmp_path)
        screen = terminal.wait(timeout=240)

    assert terminal.proc.returncode == 0, screen[-3000:]
    assert "\x1b[" in screen  # live lines, redrawn in place
    for tenant in (slow, quick):
        assert f"({tenant}): invoices, page 0;" in screen, screen[-3000:]  # the object being read
    live = [line for line in screen.replace("\r", "").split("\n") if f"({slow}): contacts" in line]
    assert any("waiting" in line and "Xero's 60 calls a minute" in line for line in live), live[-5:]
    assert "0 failure(s)" in screen


def test_in_a_log_a_long_wait_is_said_when_it_starts(tmp_path):
    with Sandbox(tenants=1, scale=0.01, seed=53, limits=False) as sandbox:
        [tenant] = sandbox.tenant_ids
        sandbox.inject("429_minute", tenant_id=tenant, path="Contacts", count=1, seconds=6)  # Retry-After: 6
        env = cli_env(sandbox, tmp_path, **FAST_PACING)
        result = subprocess.run(COMMAND, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=240)

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    waits = [line for line in result.stdout.splitlines() if "waiting" in line]
    assert waits and f"({tenant}): contacts, page 0; " in waits[0] and "Xero's 60 calls a minute" in waits[0], \
        result.stdout[-3000:]
    assert "\x1b[" not in result.stdout  # a log gets plain lines, no terminal redraws


@pytest.mark.parametrize("value", ["0", "-2"])
def test_parallel_must_be_positive(tmp_path, value):
    result = subprocess.run([*COMMAND, "--parallel", value], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "XERO_CLIENT_ID": "x", "XERO_REFRESH_TOKEN": "y"}, cwd=tmp_path)
    assert result.returncode == 2
    assert f"--parallel must be 1 or more, not {value}" in result.stderr
