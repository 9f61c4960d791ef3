"""What the Dagster instance records about each tenant, read for the health check and the schedule.

* each object's last sync: the latest materialization of its asset for the tenant's
  partition, whichever run made it (a run in which another object failed still synced
  this one), however many failed runs came after;
* its runs (tag ``dagster/partition``, set on every partitioned run, whoever launched it):
  the sync runs that failed since the last one that succeeded, and for the latest of
  them the error classes, the first line of the error and the objects it did not sync;
* the last ``day_limit_remaining`` a materialization recorded (Xero's rate-limit headers);
* the objects and reports whose latest materialization says Xero does not make them
  available to this app (``defs.availability``), with the reason;
* connection changes, which the tenant sensor records as observations on the tenant's
  ``xero/organisations`` partition (``connection_observation``), so that the schedule
  and the health check see a disconnection without asking Xero.
"""

import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from xero_pipeline.defs.availability import AVAILABLE_KEY, REASON_KEY
from xero_pipeline.defs.health_rules import CatchUp, FailedRun, TenantFacts
from xero_pipeline.defs.keys import DAY_LIMIT_KEY, LAST_WEBHOOK_KEY, asset_key
from xero_pipeline.registry import BY_WEBHOOK_CATEGORY, OBJECTS, REPORTS
from xero_pipeline.xero.limits import DEFAULT_DAILY_CALLS

ORGANISATIONS = dg.AssetKey(["xero", "organisations"])
PARTITION_TAG = "dagster/partition"
CONNECTION_KEY = "xero/connection"
# What a tenant syncs, one asset each: the objects (their child tables ride along) and the reports.
TENANT_ASSETS = tuple(asset_key(x.table) for x in (*OBJECTS, *REPORTS))


def _ts(value: float | datetime | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromtimestamp(value, UTC)


def _run_assets(instance: dg.DagsterInstance, run_id: str, event_type: dg.DagsterEventType) -> set[dg.AssetKey]:
    records = instance.get_records_for_run(run_id, of_type=event_type, limit=1000).records
    keys = (getattr(r.event_log_entry.dagster_event, "asset_key", None) for r in records)
    return {k for k in keys if k is not None}


def _plans_a_sync(instance: dg.DagsterInstance, run_id: str) -> bool:
    """A sync plans materializations; a run that only evaluates checks (the UI's "Execute") is not one."""
    planned = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED, limit=1)
    return bool(planned.records)


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
    missed = (_run_assets(instance, run.run_id, dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED)
              - _run_assets(instance, run.run_id, dg.DagsterEventType.ASSET_MATERIALIZATION))
    objects = tuple(k.to_user_string() for k in TENANT_ASSETS if k in missed)
    return FailedRun(run.run_id, ended, frozenset(classes), (message or "see the run's logs")[:400], objects)


def _last_syncs(instance: dg.DagsterInstance, tenant_ids: Sequence[str]) -> dict[str, list[Any]]:
    """Each tenant's latest materialization record of each of its assets that has one.

    Two queries per asset for any number of tenants, so the health sensor's tick costs
    the same for 2 tenants as for 200.
    """
    found: dict[str, list[Any]] = {t: [] for t in tenant_ids}
    for key in TENANT_ASSETS:
        latest = instance.get_latest_storage_id_by_partition(
            key, dg.DagsterEventType.ASSET_MATERIALIZATION, partitions=set(tenant_ids)
        )
        if not latest:
            continue
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, storage_ids=list(latest.values())), limit=len(latest)
        ).records
        for record in records:
            found[record.partition_key].append(record)
    return found


def _budget(records: list[Any]) -> tuple[int | None, int | None, datetime | None]:
    """The last ``day_limit_remaining`` a materialization recorded (and its plan's limit)."""
    for record in sorted(records, key=lambda r: r.timestamp, reverse=True):
        mat = record.asset_materialization
        raw = mat.metadata.get("day_limit_remaining") if mat else None
        value = getattr(raw, "value", raw)
        if isinstance(value, int) and value >= 0:  # -1: Xero sent no limit headers
            limit = getattr(mat.metadata.get(DAY_LIMIT_KEY), "value", None)
            return value, limit if isinstance(limit, int) else None, _ts(record.timestamp)
    return None, None, None


def _unavailable(records: list[Any]) -> dict[str, str]:
    """Asset -> reason, for each latest materialization that says the object is not available."""
    found: dict[str, str] = {}
    for record in records:
        meta = record.asset_materialization.metadata if record.asset_materialization else {}
        if getattr(meta.get(AVAILABLE_KEY), "value", None) is False:
            found[record.asset_key.to_user_string()] = str(getattr(meta.get(REASON_KEY), "value", ""))
    return found


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
    return gather_all_facts(instance, [tenant_id], max_runs=max_runs)[tenant_id]


def gather_all_facts(instance: dg.DagsterInstance, tenant_ids: Sequence[str], *,
                     max_runs: int = 20) -> dict[str, TenantFacts]:
    syncs = _last_syncs(instance, tenant_ids)
    return {t: _facts(instance, t, syncs[t], max_runs=max_runs) for t in tenant_ids}


def _facts(instance: dg.DagsterInstance, tenant_id: str, syncs: list[Any], *, max_runs: int) -> TenantFacts:
    records = list(instance.get_run_records(
        filters=dg.RunsFilter(
            tags={PARTITION_TAG: tenant_id}, statuses=[dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE]
        ),
        limit=max_runs,
    ))
    records.sort(key=lambda r: r.end_time or 0, reverse=True)
    failures: list[FailedRun] = []
    for record in records:
        run_id = record.dagster_run.run_id
        if not _plans_a_sync(instance, run_id):
            continue
        if record.dagster_run.status == dg.DagsterRunStatus.SUCCESS:
            break
        if not failures:  # the latest failure says what is wrong; older ones only say since when
            failures.append(_failed_run(instance, record))
        else:
            failures.append(FailedRun(run_id, _ts(record.end_time) or datetime.now(UTC), frozenset(), ""))
    remaining, limit, read_at = _budget(syncs)
    return TenantFacts(
        tenant_id=tenant_id,
        synced={r.asset_key.to_user_string(): _ts(r.timestamp) for r in syncs},
        failures=tuple(failures),
        day_limit_remaining=remaining,
        day_limit=limit or DEFAULT_DAILY_CALLS,
        budget_read_at=read_at,
        disconnected_at=recorded_disconnection(instance, tenant_id),
        unavailable=_unavailable(syncs),
        catching_up=_catching_up(instance, tenant_id, syncs),
        last_webhook_at=last_webhook_at(instance, tenant_id),
    )


def last_webhook_at(instance: dg.DagsterInstance, tenant_id: str) -> datetime | None:
    """When the tenant's latest webhook event arrived, from the webhook sensor's observations."""
    latest = None
    for obj in BY_WEBHOOK_CATEGORY.values():
        for record in instance.fetch_observations(
                dg.AssetRecordsFilter(asset_key=asset_key(obj.table), asset_partitions=[tenant_id]), limit=1).records:
            raw = record.asset_observation.metadata.get(LAST_WEBHOOK_KEY) if record.asset_observation else None
            if raw is not None:
                at = datetime.fromtimestamp(float(raw.value), UTC)
                latest = at if latest is None else max(latest, at)
    return latest


def _meta(record: Any, key: str) -> Any:
    mat = record.asset_materialization
    raw = mat.metadata.get(key) if mat else None
    return getattr(raw, "value", raw)


def _catching_up(instance: dg.DagsterInstance, tenant_id: str, syncs: list[Any]) -> dict[str, CatchUp]:
    """Objects whose latest sync stopped short; the sync before it only for those (one query each)."""
    out: dict[str, CatchUp] = {}
    for record in syncs:
        if _meta(record, "sync_complete") is not False:
            continue
        earlier = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=record.asset_key, asset_partitions=[tenant_id],
                                  before_storage_id=record.storage_id), limit=1,
        ).records
        previous = None
        if earlier and _meta(earlier[0], "sync_complete") is False:
            previous = int(_meta(earlier[0], "rows_read") or 0)
        out[record.asset_key.to_user_string()] = CatchUp(
            dict(_meta(record, "catch_up") or {}), int(_meta(record, "rows_read") or 0), previous,
            previous_complete=bool(earlier) and _meta(earlier[0], "sync_complete") is not False)
    return out
