"""What the Dagster instance records about each tenant, read for the health check and the schedule.

* its runs (tag ``dagster/partition``, set on every partitioned run, whoever launched it):
  the last success that materialized something, the failures since, and the error
  classes and first line of each failure;
* the last ``day_limit_remaining`` a materialization recorded (Xero's rate-limit headers);
* connection changes, which the tenant sensor records as observations on the tenant's
  ``xero/organisations`` partition (``connection_observation``), so that the schedule
  and the health check see a disconnection without asking Xero.
"""

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from xero_pipeline.defs.assets import DAY_LIMIT_KEY
from xero_pipeline.defs.health_rules import FailedRun, TenantFacts
from xero_pipeline.xero.limits import DEFAULT_DAILY_CALLS

ORGANISATIONS = dg.AssetKey(["xero", "organisations"])
PARTITION_TAG = "dagster/partition"
CONNECTION_KEY = "xero/connection"


def _ts(value: float | datetime | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromtimestamp(value, UTC)


def _materialized(instance: dg.DagsterInstance, run_id: str) -> bool:
    """A sync writes something; a run that only evaluated checks (the UI's "Execute") is not one."""
    materializations = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION, limit=1
    )
    return bool(materializations.records)


# "xero_pipeline.errors.XeroAuthError: ..." or "ValueError: ...": the class is already known.
_CLASS_PREFIX = re.compile(r"^(?:(?:\w+\.)+\w+|\w*(?:Error|Exception)): ")


def _error_chain(error: Any) -> Iterator[Any]:
    seen = 0
    while error is not None and seen < 10:
        yield error
        error = error.cause or error.context
        seen += 1


def _failed_run(instance: dg.DagsterInstance, record: Any) -> FailedRun:
    run = record.dagster_run
    entries = instance.all_logs(
        run.run_id, of_type={dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.RUN_FAILURE}
    )
    classes: set[str] = set()
    message = ""
    for entry in entries:
        error = getattr(entry.dagster_event.event_specific_data, "error", None) if entry.dagster_event else None
        chain = list(_error_chain(error))
        classes.update(e.cls_name for e in chain if e.cls_name)
        if chain and not message:
            # The innermost error is ours (Dagster wraps it); its first line says what to do.
            lines = chain[-1].message.strip().splitlines()
            message = _CLASS_PREFIX.sub("", lines[0]) if lines else ""
    ended = _ts(record.end_time) or _ts(record.update_timestamp) or datetime.now(UTC)
    return FailedRun(run.run_id, ended, frozenset(classes), (message or "see the run's logs")[:400])


def _budget(instance: dg.DagsterInstance, records: list[Any]) -> tuple[int | None, int | None, datetime | None]:
    """The last ``day_limit_remaining`` a materialization recorded (and its plan's limit), from the latest runs."""
    for record in records[:3]:
        events = instance.get_records_for_run(
            record.dagster_run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION, ascending=False, limit=500
        ).records
        for event in events:
            mat = event.event_log_entry.asset_materialization
            raw = mat.metadata.get("day_limit_remaining") if mat else None
            value = getattr(raw, "value", raw)
            if isinstance(value, int) and value >= 0:  # -1: Xero sent no limit headers
                limit = getattr(mat.metadata.get(DAY_LIMIT_KEY), "value", None)
                return value, limit if isinstance(limit, int) else None, _ts(event.event_log_entry.timestamp)
    return None, None, None


def recorded_connection(instance: dg.DagsterInstance, tenant_id: str) -> tuple[str, datetime] | None:
    """The tenant sensor's latest connection record for a tenant: ("connected"|"disconnected", when)."""
    result = instance.fetch_observations(
        dg.AssetRecordsFilter(asset_key=ORGANISATIONS, asset_partitions=[tenant_id]), limit=20
    )
    for record in result.records:
        obs = record.asset_observation
        raw = obs.metadata.get(CONNECTION_KEY) if obs else None
        if raw is not None:
            return str(getattr(raw, "value", raw)), _ts(record.timestamp) or datetime.now(UTC)
    return None


def recorded_disconnection(instance: dg.DagsterInstance, tenant_id: str) -> datetime | None:
    state = recorded_connection(instance, tenant_id)
    return state[1] if state and state[0] == "disconnected" else None


def connection_observation(tenant_id: str, *, connected: bool, at: datetime, name: str = "") -> dg.AssetObservation:
    """What the tenant sensor records when a tenant disconnects or comes back (see ``recorded_connection``)."""
    state = "connected" if connected else "disconnected"
    return dg.AssetObservation(
        asset_key=ORGANISATIONS,
        partition=tenant_id,
        description=(
            f"{name or tenant_id} reconnected: syncing resumes." if connected else
            f"{name or tenant_id} is no longer connected to the Xero app: its data stays in the warehouse, "
            "and it is not scheduled until it reconnects."
        ),
        metadata={
            CONNECTION_KEY: dg.MetadataValue.text(state),
            f"{state}_at": dg.MetadataValue.timestamp(at),
            "tenant_name": dg.MetadataValue.text(name),
        },
    )


def gather_facts(instance: dg.DagsterInstance, tenant_id: str, *, max_runs: int = 20) -> TenantFacts:
    records = list(instance.get_run_records(
        filters=dg.RunsFilter(
            tags={PARTITION_TAG: tenant_id}, statuses=[dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE]
        ),
        limit=max_runs,
    ))
    records.sort(key=lambda r: r.end_time or 0, reverse=True)
    last_success: datetime | None = None
    failures: list[FailedRun] = []
    for record in records:
        if record.dagster_run.status == dg.DagsterRunStatus.SUCCESS:
            if not _materialized(instance, record.dagster_run.run_id):
                continue
            last_success = _ts(record.end_time)
            break
        if len(failures) < 5:  # enough to say what is wrong; older ones only add cost
            failures.append(_failed_run(instance, record))
        else:
            failures.append(FailedRun(record.dagster_run.run_id, _ts(record.end_time) or datetime.now(UTC),
                                      frozenset(), ""))
    remaining, limit, read_at = _budget(instance, records)
    return TenantFacts(
        tenant_id=tenant_id,
        last_success_at=last_success,
        failures=tuple(failures),
        day_limit_remaining=remaining,
        day_limit=limit or DEFAULT_DAILY_CALLS,
        budget_read_at=read_at,
        disconnected_at=recorded_disconnection(instance, tenant_id),
    )
