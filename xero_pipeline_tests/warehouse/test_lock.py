"""Somebody reads the warehouse while a sync runs: the run waits (bounded, and says who it
waits for) and completes, or gives up with a clear message, and the data stays whole.

The reader is a separate process, as a DuckDB CLI session or a notebook would be; it
holds its connection until the test tells it to let go, so nothing depends on timing.
"""

import re
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest

from xero_pipeline.cli.runner import SyncReport, select_objects
from xero_pipeline.defs.keys import asset_key
from xero_pipeline.defs.materializations import stored_cursor
from xero_pipeline.warehouse.read import connect_read_only
from xero_pipeline_tests import ROOT
from xero_pipeline_tests.resource_helpers import run_sync
from xero_pipeline_tests.truth import diff_warehouse

OBJECTS = select_objects("organisations,contacts,invoices")
HOLDER = """
import sys, duckdb
conn = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "read_only")
conn.execute("SELECT count(*) FROM duckdb_tables()").fetchall()
print("holding", flush=True)
sys.stdin.readline()  # until the test lets go
conn.close()
"""


class Reader:
    """A process holding a DuckDB connection on the warehouse until ``release()``."""

    def __init__(self, db: Path, mode: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(db), mode],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True,
        )
        assert self.proc.stdout.readline().strip() == "holding"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def release(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.write("\n")
            self.proc.stdin.flush()
            self.proc.wait(timeout=30)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def sync(instance, sandbox, tmp_path, *, lock_timeout: float, retry_lock: float = 10) -> SyncReport:
    return run_sync(instance, sandbox, tmp_path, objects=OBJECTS,
                    warehouse={"lock_timeout_seconds": lock_timeout, "retry_lock_seconds": retry_lock})


def run_messages(instance) -> list[str]:
    return [e.user_message for run in instance.get_runs() for e in instance.all_logs(run.run_id) if e.user_message]


def wait_for_message(instance, text: str, done: threading.Event, timeout: float = 120) -> str:
    """Poll the runs' logs until a line contains ``text`` (the bound only guards a hang)."""
    waited = threading.Event()
    for _ in range(int(timeout / 0.2)):
        found = [m for m in run_messages(instance) if text in m]
        if found:
            return found[0]
        if done.is_set():
            break
        waited.wait(0.2)
    pytest.fail(f"no run logged {text!r}; logs: {run_messages(instance)[-10:]}")


def test_a_run_waits_for_a_reader_says_who_and_completes(sandbox, instance, tmp_path):
    db = tmp_path / "xero.duckdb"
    assert sync(instance, sandbox, tmp_path, lock_timeout=60).ok
    sandbox.simulate_day()  # so the next sync has something to write

    reader = Reader(db, "read_only")  # e.g. `duckdb -readonly` or a notebook, left open
    outcome: list[SyncReport] = []
    done = threading.Event()

    def background() -> None:
        try:
            outcome.append(sync(instance, sandbox, tmp_path, lock_timeout=60))
        finally:
            done.set()

    worker = threading.Thread(target=background, daemon=True)
    worker.start()
    try:
        line = wait_for_message(instance, "is locked by", done)
        assert f"PID {reader.pid}" in line and "giving up after 60 s" in line
        assert not done.is_set()  # still waiting while the reader holds the file
    finally:
        reader.release()
        reader.kill()
    worker.join(timeout=120)
    [report] = outcome
    assert report.ok, report.failures
    assert any("lock acquired after" in m for m in run_messages(instance))
    problems = diff_warehouse(db, sandbox.ground_truth(), OBJECTS)
    assert not problems, "\n".join(problems[:10])


def test_past_the_bound_the_run_fails_clearly_and_nothing_is_half_written(sandbox, instance, tmp_path):
    db = tmp_path / "xero.duckdb"
    assert sync(instance, sandbox, tmp_path, lock_timeout=60).ok
    tenant = sandbox.tenant_ids[0]
    cursor_before = stored_cursor(instance, asset_key("invoices"), tenant)
    before = snapshot(db)
    sandbox.simulate_day()

    reader = Reader(db, "read_write")  # e.g. the DuckDB CLI opened without -readonly
    try:
        report = sync(instance, sandbox, tmp_path, lock_timeout=2, retry_lock=0.5)
    finally:
        reader.release()
        reader.kill()
    assert not report.ok
    messages = [message for _, _, message in report.failures]
    assert all(f"stayed locked by PID {reader.pid}" in m for m in messages), messages
    assert all("lock_timeout_seconds" in m and "nothing was written" in m for m in messages)
    # A run's first step waits the full bound; once one gave up, the run's other steps wait briefly.
    assert "for 2 s" in messages[0] and "for 0.5 s" in messages[-1]
    # Nothing moved: the rows are what they were, the cursor too, so the next run redoes it.
    assert snapshot(db) == before
    assert stored_cursor(instance, asset_key("invoices"), tenant) == cursor_before

    assert sync(instance, sandbox, tmp_path, lock_timeout=60).ok
    assert snapshot(db) != before  # the day's changes were there to be written
    problems = diff_warehouse(db, sandbox.ground_truth(), OBJECTS)
    assert not problems, "\n".join(problems[:10])


def snapshot(db: Path) -> dict[str, list]:
    conn = connect_read_only(str(db))
    try:
        return {
            table: conn.execute(f"SELECT * FROM xero.{table} ORDER BY ALL").fetchall()
            for table in ("organisations", "contacts", "invoices", "invoice_line_items")
        }
    finally:
        conn.close()


def test_the_readme_snapshot_recipe_gives_a_copy_that_never_blocks_a_run(sandbox, instance, tmp_path):
    db, copy = tmp_path / "xero.duckdb", tmp_path / "snapshot.duckdb"
    assert sync(instance, sandbox, tmp_path, lock_timeout=60).ok
    readme = (ROOT / "README.md").read_text()
    [recipe] = re.findall(r'duckdb -c "(ATTACH .*?COPY FROM DATABASE warehouse TO snapshot;)"', readme, re.S)
    recipe = recipe.replace("data/warehouse.duckdb", str(db)).replace("data/snapshot.duckdb", str(copy))
    reader = Reader(db, "read_only")  # taking a snapshot is itself just another reader
    try:
        conn = duckdb.connect(":memory:")
        conn.execute(recipe)
        conn.close()
    finally:
        reader.release()
        reader.kill()

    notebook = Reader(copy, "read_write")  # a long session on the copy, not the warehouse
    try:
        sandbox.simulate_day()
        report = sync(instance, sandbox, tmp_path, lock_timeout=1)
        assert report.ok, report.failures
    finally:
        notebook.release()
        notebook.kill()
    snap = duckdb.connect(str(copy), read_only=True)
    try:
        assert snap.execute("SELECT count(*) FROM snapshot.xero.invoices").fetchone()[0] > 0
    finally:
        snap.close()
