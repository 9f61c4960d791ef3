"""The Dagster logger of the CLI's runs: warnings on stderr, failures left to the runner.

Dagster's default console logger prints each failed step with its whole stack trace;
the runner already prints one line per failure (``runner._collect``), so records at
ERROR (failed steps, steps skipped after them, the run's failure) are not repeated
here. Warnings from the steps (a warehouse locked by another writer, a report cut
short) are shown as they happen.

It is also where an interrupted step becomes a cancellation: Dagster ends an interrupted
run as CANCELED only if the run is CANCELING when the interruption reaches the top of the
run, and a run's loggers are the only code of ours that runs in between (they receive
the step's failure event before it is re-raised).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import dagster as dg

from xero_pipeline.cli.interrupts import was_interrupted


class _Handler(logging.Handler):
    def __init__(self, instance: dg.DagsterInstance) -> None:
        super().__init__(logging.WARNING)
        self.instance = instance

    def emit(self, record: logging.LogRecord) -> None:
        meta: dict[str, Any] = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        if event is not None and event.is_step_failure and was_interrupted(event.step_failure_data.error):
            self._cancel(meta.get("run_id"))
            return
        if record.levelno >= logging.ERROR:  # failed or skipped steps: the runner has a line for each
            return
        step = f" ({meta['step_key']})" if meta.get("step_key") else ""
        text = meta.get("orig_message") or record.getMessage()
        print(f"  {record.levelname.lower()}{step}: {text}", file=sys.stderr, flush=True)

    def _cancel(self, run_id: str | None) -> None:
        run = self.instance.get_run_by_id(run_id) if run_id else None
        if run is not None and run.status not in (dg.DagsterRunStatus.CANCELING, dg.DagsterRunStatus.CANCELED):
            self.instance.report_run_canceling(run, message="Interrupted (SIGINT or SIGTERM to xero-pipeline sync).")


def cli_console(instance: dg.DagsterInstance) -> dg.LoggerDefinition:
    """The ``console`` logger for runs started by ``sync_tenants`` on ``instance``."""

    @dg.logger(description="Warnings of the CLI's runs on stderr; failures are summarised by the runner.")
    def _console(_init_context: dg.InitLoggerContext) -> logging.Logger:
        log = logging.Logger("xero_pipeline.cli.run", level=logging.WARNING)
        log.addHandler(_Handler(instance))
        return log

    return _console
