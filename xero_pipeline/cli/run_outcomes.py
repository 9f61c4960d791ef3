"""What a finished run did, as the command's lines and its report: materializations,
objects not available to the app, reads catching up, failed steps and failed checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dagster as dg

from xero_pipeline.cli.interrupts import was_interrupted
from xero_pipeline.cli.sync_report import AssetOutcome, SyncReport
from xero_pipeline.defs.availability import AVAILABLE_KEY, REASON_KEY
from xero_pipeline.registry import BY_TABLE, REPORTS

_REPORT_TABLES = frozenset(r.table for r in REPORTS)


def _value(meta: Any) -> Any:
    return getattr(meta, "value", meta)


def echo_outcomes(result: Any, tenant: str, report: SyncReport, echo: Callable[[str], None]) -> None:
    for event in result.get_asset_materialization_events():
        mat = event.step_materialization_data.materialization
        table = mat.asset_key.path[-1]
        meta = {k: _value(v) for k, v in mat.metadata.items() if k != "dagster/column_schema"}
        report.materialized += 1
        report.outcomes.append(AssetOutcome(tenant, table, meta))
        rows, calls = meta.get("dagster/row_count", 0), meta.get("api_calls", 0)
        counts = f"{table:<24} {rows:>7} {'row ' if rows == 1 else 'rows'}"
        calls_text = f"{calls} call" + ("" if calls == 1 else "s")
        if meta.get(AVAILABLE_KEY) is False:
            # Said once, for the object or report: its child tables share the reason.
            if table in BY_TABLE or table in _REPORT_TABLES:
                report.unavailable.append((tenant, table, str(meta.get(REASON_KEY, ""))))
                echo(f"  {table:<24} not available: {meta.get(REASON_KEY, '')}")
        elif "report_calls" in meta:
            echo(f"  {counts}  (snapshot)  {calls_text}")
        elif "api_calls" in meta:
            echo(
                f"  {counts}  +{meta.get('rows_inserted', 0)} new "
                f"~{meta.get('rows_updated', 0)} changed -{meta.get('rows_deleted', 0)} deleted  {calls_text}"
            )
        if meta.get("sync_complete") is False:
            report.catching_up.append((tenant, table))
            echo(f"    catching up ({meta.get('stopped_by')}): committed so far, continues on the next run")


def collect_failures(result: Any, tenant: str, report: SyncReport, echo: Callable[[str], None]) -> None:
    """Step failures and failed ERROR checks become failures; WARN checks are only shown."""
    steps_failed = False
    for event in result.all_events:
        error = getattr(event.event_specific_data, "error", None)
        if event.event_type == dg.DagsterEventType.RUN_FAILURE and not steps_failed and not was_interrupted(error):
            # A run that failed before any step (a resource that would not start) has no step failure.
            message = error.message.strip() if error else event.message or "the run failed"
            report.add_failure(tenant, "run", message, echo=echo)
        if event.is_step_failure:
            steps_failed = True
        if event.is_step_failure and not was_interrupted(error):
            # Dagster wraps what the step raised; the user needs the inner message.
            while error and error.cause and error.cls_name == "DagsterExecutionStepExecutionError":
                error = error.cause
            message = error.message.strip() if error else "failed"
            report.add_failure(tenant, event.step_key or "?", message, echo=echo)
    for evaluation in result.get_asset_check_evaluations():
        if evaluation.passed:
            continue
        name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
        text = evaluation.description or "failed"
        if evaluation.severity == dg.AssetCheckSeverity.WARN:
            echo(f"  check {name} (warning): {text}")
        else:
            report.failures.append((tenant, f"check {name}", text))
            echo(f"  CHECK FAILED {name}: {text}")
