"""A sync killed at any moment (SIGKILL: no finally, no atexit, a DuckDB WAL possibly
mid-write) and run again ends with the warehouse equal to the ground truth: nothing
lost, nothing duplicated, no cursor ahead of the data it stands for, no spool litter.

The sandbox runs in this process; each killed sync is ``python -m xero_pipeline.cli.main
sync`` in a subprocess sharing the Dagster home, token store and warehouse file with
the reruns, which go through ``runner.sync_tenants`` like the CLI does. Every second
kill is followed by a rerun; the others land in a sync that is itself recovering from
the kill before it, the harder of the two cases.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from xero_pipeline.cli.runner import select_objects, sync_tenants
from xero_pipeline.defs.keys import asset_key
from xero_pipeline.defs.materializations import stored_cursor
from xero_pipeline.defs.resources import WarehouseResource, XeroResource
from xero_pipeline.sandbox import Sandbox
from xero_pipeline.warehouse.check_rules import check_keys
from xero_pipeline.warehouse.connection import open_warehouse
from xero_pipeline.warehouse.shaping import child_shape, parent_shape
from xero_pipeline.warehouse.spool import SPOOL_PREFIX, spool_root, sweep_stale_spools
from xero_pipeline.xero.dates import parse_instant, parse_iso
from xero_pipeline_tests.truth import diff_warehouse

KILLS = 20
# Children with ids and positions, tracking nested in lines, an offset cursor, an IMS
# cursor, and a snapshot whose hard-deleted children are marked rather than dropped.
SELECT = "invoices,journals,tracking_categories"


@pytest.fixture
def workdir(tmp_path) -> Iterator[Path]:
    """A RAM-backed directory when there is one. A SIGKILL ends the process, not the
    kernel, so written pages survive on any filesystem and the test means the same; what
    tmpfs saves is the fsync of every Dagster event (~20 ms each on disk, ~100 a sync)."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    path = Path(tempfile.mkdtemp(prefix="xero-crash-", dir=shm))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def cli_env(sandbox: Sandbox, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DAGSTER_HOME": str(tmp_path / "home"),
        **sandbox.pipeline_env(token_store=str(tmp_path / "tokens.json")),
        "XERO_WAREHOUSE": str(tmp_path / "xero.duckdb"),
        "XERO_RATE_WINDOW_SECONDS": "1",
        "PYTHONUNBUFFERED": "1",  # the "syncing" line must arrive when it is printed
    }


def start_sync(env: dict[str, str]) -> subprocess.Popen:
    """``xero-pipeline sync``, returned once it starts work on the tenant.

    Up to that line the process only imports Python and asks /connections; nothing of
    the warehouse or the cursors is touched, so kill delays count from there.
    """
    proc = subprocess.Popen([sys.executable, "-m", "xero_pipeline.cli.main", "sync", "--select", SELECT],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if ": syncing " in line:
            return proc
    proc.wait()
    raise AssertionError(f"the sync exited ({proc.returncode}) before syncing anything")


def finish(proc: subprocess.Popen) -> str:
    out = proc.stdout.read() if proc.stdout else ""
    proc.wait()
    if proc.stdout:
        proc.stdout.close()
    return out


def rerun(sandbox: Sandbox, tmp_path: Path, env: dict[str, str]) -> None:
    xero = XeroResource(client_id=env["XERO_CLIENT_ID"], client_secret=env["XERO_CLIENT_SECRET"],
                        refresh_token=env["XERO_REFRESH_TOKEN"], api_url=sandbox.url, identity_url=sandbox.url,
                        token_store=env["XERO_TOKEN_STORE"], backoff_seconds=0.05, rate_window_seconds=1.0)
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        report = sync_tenants(instance=instance, xero=xero, warehouse=WarehouseResource(database=env["XERO_WAREHOUSE"]),
                              objects=select_objects(SELECT), echo=lambda _: None)
    assert report.ok, report.failures


def assert_no_cursor_ahead(sandbox: Sandbox, env: dict[str, str]) -> None:
    """Whatever a killed run recorded, every cursor stands only for committed rows."""
    tenant = sandbox.tenant_ids[0]
    db = Path(env["XERO_WAREHOUSE"])
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        journal_cursor = stored_cursor(instance, asset_key("journals"), tenant)
        invoice_cursor = stored_cursor(instance, asset_key("invoices"), tenant)
    if journal_cursor is None and invoice_cursor is None:
        return
    conn = open_warehouse(db, read_only=True)
    try:
        if journal_cursor is not None:
            # Every journal up to the cursor's number is in the warehouse.
            held = conn.execute("SELECT count(*) FROM xero.journals WHERE tenant_id = ? AND journal_number <= ?",
                                [tenant, int(journal_cursor)]).fetchone()[0]
            assert held == int(journal_cursor), (journal_cursor, held)
        if invoice_cursor is not None:
            # Every invoice Xero changed before the cursor is in the warehouse as that version.
            cutoff = parse_iso(invoice_cursor)
            stored = dict(conn.execute("SELECT invoice_id, updated_date_utc FROM xero.invoices WHERE tenant_id = ?",
                                       [tenant]).fetchall())
            for record in sandbox.ground_truth(tenant_id=tenant)[tenant]["Invoices"]:
                updated = parse_instant(record["UpdatedDateUTC"])
                if updated < cutoff:
                    assert stored.get(record["InvoiceID"]) == updated.replace(tzinfo=None), record["InvoiceID"]
    finally:
        conn.close()


def assert_no_duplicates(db: Path, tenant: str) -> None:
    conn = open_warehouse(db, read_only=True)
    try:
        for obj in select_objects(SELECT):
            for shape in (parent_shape(obj), *(child_shape(obj, c) for c in obj.children)):
                finding = check_keys(conn, shape.table, shape.key, tenant)
                assert finding.passed, finding.description
    finally:
        conn.close()


@pytest.mark.heavy(150)
@pytest.mark.timeout(600)  # ~100 CPU s: under make test's load on 2 cores it may take 4-5 minutes
def test_twenty_random_kills_and_reruns_leave_the_warehouse_equal_to_the_truth(workdir):
    tmp_path = workdir
    (tmp_path / "home").mkdir()
    with Sandbox(tenants=1, scale=0.02, seed=23, limits=False) as sandbox:
        env = cli_env(sandbox, tmp_path)
        first = start_sync(env)
        started = time.monotonic()
        output = finish(first)
        full_sync = time.monotonic() - started  # the full sync's work, start-up excluded
        assert first.returncode == 0, output[-3000:]
        rng = random.Random(20261121)
        killed = 0
        for i in range(KILLS):
            sandbox.simulate_day()  # every killed run has real work: new, edited, voided, deleted records
            proc = start_sync(env)
            try:
                proc.wait(timeout=rng.uniform(0, full_sync))
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                killed += 1
            finish(proc)
            assert_no_cursor_ahead(sandbox, env)
            if i % 2 or i == KILLS - 1:
                rerun(sandbox, tmp_path, env)
        truth = sandbox.ground_truth()
        tenant = sandbox.tenant_ids[0]
    db = tmp_path / "xero.duckdb"
    assert killed >= KILLS // 2, f"only {killed} of {KILLS} runs were killed before they finished"
    problems = diff_warehouse(db, truth, select_objects(SELECT))
    assert not problems, "\n".join(problems[:20])
    assert_no_duplicates(db, tenant)
    # Killed runs left spools; every later sync swept those of dead processes.
    root = spool_root(db)
    assert not list(root.glob(f"{SPOOL_PREFIX}*")), list(root.iterdir())


def test_stale_spools_are_swept_and_live_ones_kept(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f"{SPOOL_PREFIX}{dead.pid}-abc"  # its process is gone
    mine = tmp_path / f"{SPOOL_PREFIX}{os.getpid()}-def"  # this process: another thread's live spool
    legacy_old = tmp_path / f"{SPOOL_PREFIX}k2j3h4"  # the old /tmp layout, owner unknown
    legacy_new = tmp_path / f"{SPOOL_PREFIX}zz9"
    for d in (stale, mine, legacy_old, legacy_new):
        d.mkdir()
        (d / "invoices.ndjson").write_text("{}\n")
    day_ago = time.time() - 2 * 86_400
    os.utime(legacy_old, (day_ago, day_ago))
    removed = sweep_stale_spools(tmp_path)
    assert set(removed) == {stale, legacy_old}
    assert mine.exists() and legacy_new.exists()
