"""Taking turns at the warehouse file: threads, the pipeline's own processes, and everyone else.

DuckDB lets one process at a time open a file for writing, and tells the others only by
failing to open. Three layers keep the wait short and said:

* threads of one process share one database instance, where two merges could conflict,
  so they take turns on a lock per file (``process_lock``);
* the pipeline's processes (several tenants' runs at once) queue on a lock file beside
  the warehouse (``writer_turn``). A waiter is woken within ``TURN_POLL_SECONDS`` of the
  holder closing; before this, each polled DuckDB with a back-off of up to 2 s, and eight
  runs at once spent most of their time asleep behind a file that was free;
* anyone else (a DuckDB CLI, a notebook, read-only sessions too) is found by DuckDB's own
  lock error, polled with a back-off and named in the log (``connect_with_wait``).

Every wait is bounded: past ``timeout`` it raises ``WarehouseLockTimeout``, having written
nothing.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import duckdb
import filelock

from xero_pipeline.errors import ConfigError
from xero_pipeline.warehouse.connection import open_writer

LOCK_QUIET_SECONDS = 5.0  # waits behind other tenants' merges (parallel runs queue for the file) are normal
LOCK_REPORT_SECONDS = 15.0  # after that, say so this often while waiting
TURN_POLL_SECONDS = 0.01

Log = Callable[[str], None]

_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


class WarehouseLockTimeout(ConfigError):
    """Another process held the warehouse file for longer than the caller waits."""


def process_lock(path: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(os.path.realpath(path), threading.Lock())


def turn_path(path: str) -> str:
    return f"{path}.writer.lock"


@contextmanager
def writer_turn(path: str, *, timeout: float, log: Log) -> Iterator[None]:
    """Hold the pipeline's write turn at ``path`` (first come, first served, within ``timeout``)."""
    turn = filelock.FileLock(turn_path(path), is_singleton=False, thread_local=False)
    started = time.monotonic()
    next_report = LOCK_QUIET_SECONDS
    while True:
        waited = time.monotonic() - started
        try:
            turn.acquire(timeout=max(0.0, min(timeout, next_report) - waited), poll_interval=TURN_POLL_SECONDS)
            break
        except filelock.Timeout:
            waited = time.monotonic() - started
            if waited >= timeout:
                raise WarehouseLockTimeout(
                    f"the warehouse {path} stayed busy with other runs of the pipeline for {timeout:g} s "
                    "(lock_timeout_seconds, or retry_lock_seconds after an earlier step gave up); nothing was "
                    "written and no cursor moved, so the next run redoes this step. Fewer runs at once "
                    "(max_concurrent_runs, --parallel) or a longer lock_timeout_seconds avoid it."
                ) from None
            log(f"warehouse {path}: waiting for other runs' writes ({waited:.0f} s so far, giving up after "
                f"{timeout:g} s)")
            next_report = waited + LOCK_REPORT_SECONDS
    try:
        yield
    finally:
        turn.release()


def lock_holder(message: str) -> str:
    """Who holds the warehouse, from DuckDB's lock error ("... held in /usr/bin/duckdb (PID 4242)")."""
    found = re.search(r"held in (.+?) \(PID (\d+)\)", message)
    if not found:
        return "another process (DuckDB did not say which)"
    program, pid = found.groups()
    try:  # the command line says more than the program ("duckdb -readonly data/warehouse.duckdb"); Linux only
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            program = " ".join(fh.read().replace(b"\0", b" ").decode(errors="replace").split())[:200] or program
    except OSError:
        pass
    return f"PID {pid} ({program})"


def connect_with_wait(path: str, *, timeout: float, config: dict[str, Any], warn: Log, info: Log,
                      deadline: float | None = None) -> Any:
    """Open the file for writing, waiting (logged) while another process holds it: until
    ``deadline`` (``time.monotonic``; default ``timeout`` from now), then ``WarehouseLockTimeout``
    naming the bound ``timeout``."""
    started = time.monotonic()
    deadline = started + timeout if deadline is None else deadline
    delay = 0.05
    next_report = started + LOCK_QUIET_SECONDS
    waited = False
    while True:
        try:
            conn = open_writer(path, config=config)
            if waited:
                info(f"warehouse {path}: lock acquired after {time.monotonic() - started:.1f} s")
            return conn
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise ConfigError(f"cannot open the warehouse {path}: {exc}") from None
            now = time.monotonic()
            if now >= deadline:
                raise WarehouseLockTimeout(
                    f"the warehouse {path} stayed locked by {lock_holder(str(exc))} for {timeout:g} s "
                    "(lock_timeout_seconds, or retry_lock_seconds after an earlier step gave up); nothing was "
                    "written and no cursor moved, so the next run redoes this step. Close other writers and long "
                    "read sessions (read-only ones block writes too while open), read through "
                    "`xero-pipeline sql`, or query a snapshot (README)."
                ) from None
            if now >= next_report:
                # A person's session can hold it for hours.
                warn(
                    f"warehouse {path} is locked by {lock_holder(str(exc))}; waiting "
                    f"({now - started:.0f} s so far, giving up after {timeout:g} s)"
                )
                next_report = now + LOCK_REPORT_SECONDS
                waited = True
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
