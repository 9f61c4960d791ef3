"""Ctrl-C (or a SIGTERM from a supervisor) during ``xero-pipeline sync`` stops the whole command.

One signal: the current tenant's run ends as CANCELED, no further tenant starts, one line
says so, the exit code is 130, and the warehouse holds only committed work.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from xero_pipeline.registry import OBJECTS
from xero_pipeline.sandbox import Sandbox
from xero_pipeline.warehouse.connection import open_warehouse
from xero_pipeline_tests.processes import descendants
from xero_pipeline_tests.resource_helpers import cli_env
from xero_pipeline_tests.truth import diff_warehouse

SELECT = "accounts,contacts,invoices"  # synced in this order
UNFINISHED = {dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED,
              dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.CANCELING}


def start_sync(env: dict[str, str]) -> subprocess.Popen:
    code = "import sys\nfrom xero_pipeline.cli.main import main\nsys.exit(main(sys.argv[1:]))"
    return subprocess.Popen([sys.executable, "-c", code, "sync", "--select", SELECT, "--parallel", "1"], env=env,
                            cwd=env["DAGSTER_HOME"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_for_read(sandbox: Sandbox, proc: subprocess.Popen, endpoint: str) -> str:
    """The tenant whose ``endpoint`` the command has started reading."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read()
        started = [t for t, per in sandbox.stats()["calls"].items() if endpoint in per]
        if started:
            return started[0]
        time.sleep(0.05)
    raise AssertionError(f"the sync never read {endpoint}")


def committed_objects(db: Path, tenant: str) -> list:
    """The objects with rows for ``tenant`` in the warehouse (opening it must work)."""
    conn = open_warehouse(db, read_only=True)
    try:
        tables = {r[0] for r in conn.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'xero'").fetchall()}
        return [o for o in OBJECTS if o.table in tables and conn.execute(
            f'SELECT count(*) FROM xero."{o.table}" WHERE tenant_id = ?', [tenant]).fetchone()[0]]
    finally:
        conn.close()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_one_signal_stops_the_whole_sync_cleanly(tmp_path, sig):
    # Xero takes five minutes to answer for contacts: the signal comes while the command waits for it.
    with Sandbox(tenants=2, scale=0.01, seed=31, limits=False) as sandbox:
        sandbox.inject("slow", path="Contacts", seconds=300, count=100)
        env = cli_env(sandbox, tmp_path)
        proc = start_sync(env)
        try:
            # Accounts are committed by now; the command waits for Xero's contacts.
            tenant = wait_for_read(sandbox, proc, "Contacts")
            proc.send_signal(sig)
            output, _ = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        truth = sandbox.ground_truth(tenant_id=tenant)
        served = sandbox.stats()["calls"]
        tenants = list(sandbox.tenant_ids)

    assert proc.returncode == 130, output[-3000:]
    assert "Traceback" not in output and "Stack Trace" not in output, output[-3000:]
    assert "FAILED" not in output, output[-3000:]  # an interruption is not a failure of the step
    interrupted = [line for line in output.splitlines() if "Interrupted" in line]
    assert len(interrupted) == 1, output[-3000:]
    assert interrupted[0].startswith(f"Interrupted ({sig.name}): stopped during tenant {tenant}; nothing half-written")

    other = next(t for t in tenants if t != tenant)
    assert other not in served, "the second tenant was started after the signal"
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        runs = instance.get_runs()
        assert runs and not [r for r in runs if r.status in UNFINISHED], [(r.run_id, r.status) for r in runs]
        assert [r.status for r in runs if r.tags.get("xero/tenant") == tenant] == [dg.DagsterRunStatus.CANCELED]
        assert not [r for r in runs if r.tags.get("xero/tenant") == other]

    # Whatever was committed before the signal is whole: parents with their children, as Xero has them.
    db = tmp_path / "xero.duckdb"
    done = committed_objects(db, tenant)
    assert "accounts" in {o.table for o in done} and "invoices" not in {o.table for o in done}
    problems = diff_warehouse(db, truth, done)
    assert not problems, "\n".join(problems[:20])


def test_a_sync_starts_no_helper_process_that_could_outlive_it(tmp_path):
    # Dagster's local compute logs mirror a run's stdout and stderr through a `tail -F` and
    # a watcher process each. A sync killed outright (SIGKILL, the OOM killer) between the
    # two left the tail running for good, holding the caller's pipe open: a wrapper reading
    # the sync's output (cron, CI) hung. The CLI's runs write to its terminal directly.
    with Sandbox(tenants=1, scale=0.02, seed=5, limits=False) as sandbox:
        env = cli_env(sandbox, tmp_path)
        proc = start_sync(env)
        helpers: dict[int, str] = {}
        while proc.poll() is None:
            for pid in descendants(proc.pid):
                try:
                    helpers.setdefault(pid, Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode())
                except OSError:
                    pass  # gone already
            time.sleep(0.02)
        output = proc.stdout.read()
    assert proc.returncode == 0, output[-3000:]
    assert "invoices" in output  # the run's own lines still reach the caller
    assert helpers == {}, helpers
