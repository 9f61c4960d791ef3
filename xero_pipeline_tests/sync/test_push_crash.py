"""A push killed (SIGKILL) after Xero answered and before the answer was recorded, then
run again: nothing is written twice, and every outbox row ends with exactly one outcome.

The killed push is ``xero-pipeline push`` in a subprocess, made to sleep between Xero's
answer and recording it (``SLOW_RECORDING``, patched in before the command starts); the
sandbox runs in this process, so the test sees the moment Xero has applied the first
request and kills the push then.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import dagster as dg
import pytest

from xero_pipeline.cli.push import push_tenants
from xero_pipeline.defs.resources import WarehouseResource
from xero_pipeline.registry import BY_TABLE
from xero_pipeline.sandbox import Sandbox
from xero_pipeline.warehouse import writeback as wb
from xero_pipeline.warehouse.connection import open_warehouse
from xero_pipeline_tests.resource_helpers import FAST_PACING, cli_env, xero_resource

pytestmark = pytest.mark.xdist_group("push_crash")

INVOICES = BY_TABLE["invoices"]
ROWS = 70  # two requests: 50 and 20 elements
# Run in the push's process first: Xero's answer arrives, then the push dawdles before recording it.
SLOW_RECORDING = """
import time
import xero_pipeline.sync.push as push
_send = push.send_batch
def _send_then_dawdle(*args, **kwargs):
    answer = _send(*args, **kwargs)
    time.sleep(120)
    return answer
push.send_batch = _send_then_dawdle
"""


def _query(path: Path, sql: str) -> list[tuple]:
    with closing(open_warehouse(path, read_only=True)) as conn:
        return conn.execute(sql).fetchall()


def _kill_after_first_answer(sandbox: Sandbox, tmp_path: Path) -> None:
    env = cli_env(sandbox, tmp_path, **FAST_PACING)
    code = SLOW_RECORDING + "import sys\nfrom xero_pipeline.cli.main import main\nsys.exit(main(sys.argv[1:]))"
    proc = subprocess.Popen([sys.executable, "-c", code, "push", "--object", "invoices", "--no-refresh"], env=env,
                            cwd=env["DAGSTER_HOME"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while sandbox.api.writes.elements < 50:
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            assert time.monotonic() < deadline, "the push never wrote its first request"
            time.sleep(0.05)
    finally:
        proc.kill()  # SIGKILL: no finally, no atexit
        proc.wait(timeout=30)


@pytest.mark.parametrize("window", [None, 0.001], ids=["replayed_within_the_window", "unconfirmed_after_it"])
def test_a_push_killed_before_recording_the_answer_writes_nothing_twice(tmp_path: Path, window: float | None) -> None:
    with Sandbox(tenants=1, scale=0.02, seed=37, limits=False) as sb, dg.DagsterInstance.ephemeral() as instance:
        tenant = sb.tenant_ids[0]
        path = tmp_path / "xero.duckdb"
        # Draft invoices: Xero would take a second copy of each without complaint (contacts
        # would not: their names are unique), so a request sent twice shows as duplicates.
        contact = next(c["ContactID"] for c in sb.books[tenant].records("Contacts") if c["ContactStatus"] == "ACTIVE")
        names = [f"Crash {i:03d}" for i in range(ROWS)]
        payloads = [{"Type": "ACCREC", "Contact": {"ContactID": contact}, "Reference": n,
                     "LineItems": [{"Description": "x", "UnitAmount": 10, "AccountCode": "200"}]} for n in names]
        with closing(open_warehouse(path)) as conn:
            wb.ensure_tables(conn)
            conn.executemany("INSERT INTO writeback.invoices (tenant_id, request_id, payload) VALUES (?, ?, ?)",
                             [(tenant, f"row-{i:03d}", json.dumps(p)) for i, p in enumerate(payloads)])

        _kill_after_first_answer(sb, tmp_path)
        # Both requests were recorded in flight before the first was sent; only the first reached Xero.
        assert _query(path, "SELECT count(*) FROM writeback.requests WHERE answered_at IS NULL") == [(2,)]
        assert _query(path, "SELECT status, count(*) FROM writeback.results GROUP BY 1") == [("sending", ROWS)]
        assert sb.api.writes.elements == 50

        overrides = {} if window is None else {"idempotency_window_seconds": window}
        xero = xero_resource(sb, tmp_path, rate_window_seconds=1.0, **overrides)
        push_tenants(instance=instance, xero=xero, warehouse=WarehouseResource(database=str(path)),
                     objects=[INVOICES], refresh=False, echo=lambda _: None)

        stored = [i for i in sb.books[tenant].records("Invoices") if i["Reference"].startswith("Crash ")]
        by_name = {i["Reference"]: i["InvoiceID"] for i in stored}
        assert len(stored) == len(by_name)  # nothing written twice
        outcomes = _query(path, "SELECT request_id, count(*), any_value(status), any_value(xero_id) "
                                "FROM writeback.results GROUP BY 1 ORDER BY 1")
        assert [(r, n) for r, n, _, _ in outcomes] == [(f"row-{i:03d}", 1) for i in range(ROWS)]
        if window is None:
            # The rerun sent both requests again with their keys: Xero's cache answered the
            # first, and the second, which never reached Xero, was written now.
            assert sb.api.idempotency.replays == 1
            assert len(stored) == ROWS
            assert all(s == "written" and x == by_name[names[i]] for i, (_, _, s, x) in enumerate(outcomes))
        else:
            # Past the window a replay could write again, so neither request is sent: their
            # rows wait for the user to look in Xero (the second never got there).
            assert sb.api.idempotency.replays == 0
            assert len(stored) == 50
            assert {(s, x) for _, _, s, x in outcomes} == {("unconfirmed", None)}
        assert _query(path, "SELECT count(*) FROM writeback.requests WHERE answered_at IS NULL") == [(0,)]
