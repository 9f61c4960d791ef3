"""Ctrl-C and SIGTERM during ``xero-pipeline sync``: one signal stops the whole command.

Inside a Dagster run the signal is Dagster's: it raises ``DagsterExecutionInterruptedError``
in the step that is running (or at the next step when it arrives between steps), and the
step's warehouse transaction rolls back as the error unwinds. Outside a run it is ours: a
``KeyboardInterrupt``. Either way the command must then stop, not go on with the next
tenant, so every signal is also written to a wakeup socket that ``SignalWatch.received``
reads between tenants: Dagster swallows a signal that arrives after a run's last step.

Runs are tagged with the command's session, so that the ones an interruption left
unfinished (created but not started) are marked canceled, never left NOT_STARTED.
"""

from __future__ import annotations

import signal
import socket
from types import TracebackType

import dagster as dg

SESSION_TAG = "xero/cli_session"
SIGNALS = (signal.SIGINT, signal.SIGTERM)
# What a step failed with when the run was interrupted: not a failure of the step's work.
INTERRUPT_ERRORS = frozenset({"DagsterExecutionInterruptedError", "KeyboardInterrupt"})
UNFINISHED = [
    dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING,
]


class SyncInterrupted(KeyboardInterrupt):
    """The sync stopped on a signal; its text is the one line the command prints."""

    def __init__(self, *, where: str | None, signum: int | None) -> None:
        self.where = where  # "during tenant X", "after tenant X, before tenant Y"
        self.signum = signum
        name = f" ({signal.Signals(signum).name})" if signum else ""
        super().__init__(
            f"Interrupted{name}: stopped {where or 'before any tenant was synced'}; nothing half-written; "
            "the next sync continues from the last committed cursors."
        )


class SignalWatch:
    """While entered (main thread only): SIGINT and SIGTERM raise ``KeyboardInterrupt``, and are remembered."""

    def __init__(self) -> None:
        self._first: int | None = None

    def __enter__(self) -> SignalWatch:
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        # SIGTERM too: a supervisor's stop is a Ctrl-C, not a kill that skips the rollback.
        self._previous = {s: signal.signal(s, signal.default_int_handler) for s in SIGNALS}
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        signal.set_wakeup_fd(self._previous_fd)
        self._reader.close()
        self._writer.close()

    def received(self) -> int | None:
        """The first SIGINT or SIGTERM since entering, whoever's handler caught it."""
        while self._first is None:
            try:
                data = self._reader.recv(512)
            except BlockingIOError:
                break
            self._first = next((b for b in data if b in SIGNALS), None)
        return self._first


def was_interrupted(error: object) -> bool:
    """Is this ``SerializableErrorInfo`` (or its causes) an interruption?"""
    seen = 0
    while error is not None and seen < 10:
        if getattr(error, "cls_name", None) in INTERRUPT_ERRORS:
            return True
        error = getattr(error, "cause", None) or getattr(error, "context", None)
        seen += 1
    return False


def cancel_unfinished(instance: dg.DagsterInstance, session: str, *, reason: str) -> list[str]:
    """Mark the session's runs that an interruption left unfinished as canceled; returns their ids."""
    runs = instance.get_runs(dg.RunsFilter(tags={SESSION_TAG: session}, statuses=UNFINISHED))
    for run in runs:
        instance.report_run_canceled(run, message=reason)
    return [run.run_id for run in runs]
