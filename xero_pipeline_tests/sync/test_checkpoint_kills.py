"""Twenty SIGKILLs during a long journals read each lose at most one checkpoint.

A tenant with a long journal history (generated on demand by the sandbox) is read by
``journal_reader`` subprocesses, each killed at a random moment of its read; the next
one continues from the last checkpoint. Per kill, the pages asked for but not committed
are at most one checkpoint's worth (plus the request in flight), and after a last
uninterrupted read the warehouse holds exactly the sandbox's journals.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from decimal import Decimal

import pytest

from xero_pipeline.sandbox import Sandbox
from xero_pipeline.warehouse.connection import open_warehouse

HISTORY = 20_000
KILLS = 20
CHECKPOINT_PAGES = 5


def committed(db) -> int:
    """The highest JournalNumber the warehouse holds (0 before the first commit)."""
    if not db.exists():
        return 0
    with open_warehouse(db, read_only=True) as conn:
        exists = conn.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'xero' "
                              "AND table_name = 'journals'").fetchone()[0]
        return conn.execute("SELECT coalesce(max(journal_number), 0) FROM xero.journals").fetchone()[0] if exists else 0


def journal_calls(sandbox: Sandbox, tenant: str) -> int:
    return sandbox.stats()["calls"].get(tenant, {}).get("Journals", 0)


def start(env: dict[str, str]) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "xero_pipeline_tests.sync.journal_reader"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("reading"), line + proc.stdout.read()
    return proc


@pytest.mark.heavy(30)
def test_twenty_kills_during_a_long_journals_read_each_lose_at_most_one_checkpoint(tmp_path):
    rng = random.Random(12)
    db = tmp_path / "xero.duckdb"
    with Sandbox(tenants=1, scale=0.01, seed=5, limits=False, history_journals=HISTORY) as sandbox:
        tenant = sandbox.tenant_ids[0]
        env = {**os.environ, **sandbox.pipeline_env(token_store=str(tmp_path / "tokens.json")),
               "XERO_WAREHOUSE": str(db), "CHECKPOINT_PAGES": str(CHECKPOINT_PAGES)}
        losses = []
        for _ in range(KILLS):
            before, calls_before = committed(db), journal_calls(sandbox, tenant)
            proc = start(env)
            time.sleep(rng.uniform(0.2, 1.2))
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
            after = committed(db)
            # The next read continues from what was committed, never from before it.
            assert after >= before
            asked = journal_calls(sandbox, tenant) - calls_before
            kept = (after - before) // 100  # pages of 100 journals that reached the warehouse
            losses.append(asked - kept)
        assert committed(db) < sandbox.journal_summary(tenant)["last_number"], "the kills all came after the read"
        for lost in losses:
            assert lost <= CHECKPOINT_PAGES + 1, losses  # + the request in flight when the kill came

        proc = start(env)
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0 and "done" in out, out
        summary = sandbox.journal_summary(tenant)
    with open_warehouse(db, read_only=True) as conn:
        count, numbers = conn.execute("SELECT count(*), sum(journal_number) FROM xero.journals").fetchone()
        lines = conn.execute("SELECT count(*) FROM xero.journal_lines").fetchone()[0]
        by_code = dict(conn.execute("SELECT account_code, sum(net_amount) FROM xero.journal_lines "
                                    "GROUP BY account_code").fetchall())
    assert (count, numbers, lines) == (summary["count"], summary["number_sum"], summary["lines"])
    assert {k: Decimal(v) for k, v in by_code.items() if v} == {
        k: v for k, v in summary["net_by_account_code"].items() if v}
