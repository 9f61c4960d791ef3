"""``xero-pipeline sync --parallel N``: each tenant's run in its own process, N at a time.

Xero limits each organisation separately (60 calls a minute, 5 at once), so N tenants
read in the time of one, up to the app's 10,000 calls a minute (shared through
``xero.app_limit``). A run per process, not per thread: a tenant's run spends seconds of
Python CPU on Dagster and on shaping pages, which threads would queue behind one lock.

Each child is ``xero-pipeline sync --tenant T`` with two hidden options: ``--child-of``
(the parent's session tag, so an interruption cancels every unfinished run of the
command) and ``--progress-fd`` (a pipe for ``xero_pipeline.progress`` events as JSON
lines, ending with the child's report). A child runs in its own session: a Ctrl-C
reaches the parent only, which passes it on once to every running child, waits for
each to roll back and cancel its run, and stops.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from xero_pipeline.cli.interrupts import SyncInterrupted
from xero_pipeline.cli.progress_view import ProgressView
from xero_pipeline.cli.sync_report import SyncReport

# A tenant's run peaks near 0.6 GiB (Dagster, the page being shaped, DuckDB's
# memory_limit for the merge): the default leaves room for that many on the machine.
RUN_MEMORY_GIB = 1.0
RUNS_PER_CORE = 4  # runs mostly wait on Xero's per-minute limit, not on the CPU
PR_SET_PDEATHSIG = 1  # prctl(2)
STOP_GRACE_SECONDS = 60.0  # a child rolls back and cancels its run well within this


def follow_parent() -> None:
    """In a tenant's process: stop cleanly (a SIGTERM, see ``interrupts``) when the parent dies.

    A parent killed outright (SIGKILL, the OOM killer) cannot pass a stop on, and a child
    in its own session would sync on unwatched. Linux only; elsewhere a child finishes its
    tenant's run and exits."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        return


def default_parallel(tenants: int) -> int:
    """As many runs as tenants, up to what the machine's cores and memory hold."""
    cores = os.cpu_count() or 1
    try:
        memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        memory_gib = 4.0
    return max(1, min(tenants, RUNS_PER_CORE * cores, int(memory_gib // RUN_MEMORY_GIB)))


@dataclass(frozen=True)
class Fanout:
    """How ``runner.sync_tenants`` spreads tenants over processes."""

    parallel: int | None  # runs at once; None: sized to the machine and the tenants (default_parallel)
    child_argv: tuple[str, ...] = ()  # the command of one tenant's process, without --tenant
    child_of: str | None = None  # set in such a process: the parent command's session


@dataclass
class ChildSync:
    """One tenant's ``xero-pipeline sync`` process."""

    tenant: str
    label: str
    argv: list[str]
    proc: subprocess.Popen | None = None
    output: list[str] = field(default_factory=list)
    result: dict[str, Any] | None = None
    _readers: list[threading.Thread] = field(default_factory=list)

    def start(self, view: ProgressView) -> None:
        read_fd, write_fd = os.pipe()
        try:
            self.proc = subprocess.Popen(
                [*self.argv, "--progress-fd", str(write_fd)], pass_fds=(write_fd,), text=True,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
            )
        finally:
            os.close(write_fd)
        view.started(self.tenant, self.label)
        events = os.fdopen(read_fd, encoding="utf-8")
        self._readers = [
            threading.Thread(target=self._read_events, args=(events, view), daemon=True),
            threading.Thread(target=self._read_output, daemon=True),
            threading.Thread(target=self._read_warnings, args=(view,), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_events(self, stream: Any, view: ProgressView) -> None:
        with stream:
            for line in stream:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if event.get("event") == "report":
                    self.result = event
                else:
                    view.handle(event)

    def _read_output(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line.rstrip("\n"))

    def _read_warnings(self, view: ProgressView) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for line in self.proc.stderr:
            if line.strip() and not line.startswith("Interrupted"):  # the parent says that once, for all
                view.echo(f"  [{self.label}] {line.strip()}", out=sys.stderr)

    def finish(self, view: ProgressView, report: SyncReport) -> None:
        """After the process ended: its lines printed together, its report merged."""
        assert self.proc is not None
        for reader in self._readers:
            reader.join()
        view.finished(self.tenant)
        if self.output:
            view.echo("\n".join(self.output))
        if self.result is not None:
            report.absorb(self.result)
        elif self.proc.returncode != 130:  # an interrupted child is the interruption's, not a failure
            report.add_failure(self.tenant, "run", f"the sync process ended with exit code {self.proc.returncode} "
                                                   "before reporting (its error is printed above)", echo=view.echo)


def run_children(children: Sequence[ChildSync], *, parallel: int, view: ProgressView, report: SyncReport) -> None:
    """Run ``children``, ``parallel`` at a time; an interruption stops all of them, then raises."""
    waiting = deque(children)
    running: list[ChildSync] = []
    try:
        while waiting or running:
            while waiting and len(running) < parallel:
                child = waiting.popleft()
                child.start(view)
                running.append(child)
            for child in [c for c in running if c.proc is not None and c.proc.poll() is not None]:
                running.remove(child)
                child.finish(view, report)
            time.sleep(0.05)
    except KeyboardInterrupt:
        during = [c.label for c in running]
        _stop(running, view, report)
        where = f"during {_tenants(during)}" if during else None
        if waiting:
            where = f"{where or 'before'}; not started: {_tenants([c.label for c in waiting])}"
        raise SyncInterrupted(where=where, signum=None) from None  # the runner adds which signal


def _tenants(labels: Sequence[str]) -> str:
    return ", ".join(labels)  # each is "tenant <name> (<id>)"


def _stop(running: Sequence[ChildSync], view: ProgressView, report: SyncReport) -> None:
    """Pass the interruption on once to every child and wait for each to end cleanly."""
    for child in running:
        assert child.proc is not None
        try:
            # The child alone: Dagster's helpers in its group (a log tailer) stop when it does.
            os.kill(child.proc.pid, signal.SIGINT)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for child in running:
        assert child.proc is not None
        while True:
            try:
                child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                break
            except KeyboardInterrupt:
                continue  # a second Ctrl-C: the children are already stopping
            except subprocess.TimeoutExpired:
                child.proc.kill()  # its run is marked canceled by the parent's session (interrupts.py)
        child.finish(view, report)
