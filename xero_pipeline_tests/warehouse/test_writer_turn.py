"""The pipeline's own processes take turns at the warehouse file: a waiter gets the file
as soon as the holder lets go, and past its bound gives up saying what to change.

The holder is another process, as another tenant's run is; it keeps the turn until the
test tells it to let go, so nothing depends on timing.
"""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from xero_pipeline.warehouse.locking import WarehouseLockTimeout, turn_path, writer_turn

HOLDER = """
import sys, filelock
with filelock.FileLock(sys.argv[1]):
    print("holding", flush=True)
    sys.stdin.readline()
"""


@pytest.fixture
def holder(tmp_path):
    db = tmp_path / "xero.duckdb"
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, turn_path(str(db))], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "holding"
    yield db, proc
    proc.kill()
    proc.wait()


def test_a_writer_waits_for_the_turn_and_gets_it_when_the_holder_lets_go(holder):
    db, proc = holder
    said: list[str] = []
    got = threading.Event()

    def take() -> None:
        with writer_turn(str(db), timeout=120, log=said.append):
            got.set()

    waiter = threading.Thread(target=take, daemon=True)
    waiter.start()
    assert not got.wait(0.5)  # held by the other process
    proc.stdin.write("\n")
    proc.stdin.flush()
    waiter.join(timeout=60)
    assert got.is_set()


def test_past_its_bound_a_writer_gives_up_naming_the_bound_and_the_fix(holder):
    db, _ = holder
    said: list[str] = []
    with pytest.raises(WarehouseLockTimeout) as caught:
        with writer_turn(str(db), timeout=0.3, log=said.append):
            pytest.fail("the turn was taken while another process held it")
    message = str(caught.value)
    assert "busy with other runs of the pipeline for 0.3 s" in message and "nothing was written" in message
    assert "max_concurrent_runs" in message and "--parallel" in message
