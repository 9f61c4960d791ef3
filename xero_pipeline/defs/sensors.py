"""Sensors: organisations connecting and disconnecting (``xero_tenants``), tenant health (``xero_health``).

``xero_tenants`` asks Xero's ``/connections`` every 5 minutes:

* a new tenant becomes a ``xero_tenant`` partition and gets its first full sync at once
  (run key ``first-sync:<tenant>``);
* a tenant that disconnected is recorded (sensor cursor, and an observation on
  ``xero/organisations`` for that partition, which the UI shows and the schedule and the
  health check read) and is no longer scheduled. Its partition is deliberately *kept*:
  deleting a dynamic partition hides its materializations, check results and run history
  from the UI and leaves the warehouse rows with no asset partition to explain them, and
  a tenant that reconnects would look brand new. The rows stay in the warehouse;
* a tenant that comes back gets a catch-up run (incremental from its cursors);
* a tenant that is not an organisation (Xero HQ, Practice Manager) is never registered
  (``xero/connections``); the tick's message names it.

``xero_health`` re-evaluates the ``tenant_health`` check for every tenant every 10
minutes (see ``health``), records a result when a verdict changes (or every 6 h), and
logs each unhealthy tenant with the reason; the tick's message summarises them.
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from xero_pipeline.defs.health import health_events
from xero_pipeline.defs.jobs import SYNC_JOB
from xero_pipeline.defs.partitions import TENANT_PARTITIONS_NAME, tenant_partitions
from xero_pipeline.defs.resources import XeroResource
from xero_pipeline.defs.tenant_names import tenant_tags
from xero_pipeline.defs.tenant_records import connection_observation

TENANT_SENSOR = "xero_tenants"
HEALTH_SENSOR = "xero_health"
TENANTS_ASSET = dg.AssetKey(["xero", "tenants"])


@dataclass(frozen=True)
class TenantPlan:
    new: list[str]
    reconnected: list[str]
    disconnected: list[str]  # noticed on this tick
    cursor: dict[str, Any]


def load_cursor(raw: str | None) -> dict[str, Any]:
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        value = {}  # a hand-edited or foreign cursor: start over rather than fail every tick
    return value if isinstance(value, dict) else {}


def plan_tenants(
    connected: Sequence[str], known: Sequence[str], cursor: Mapping[str, Any], now: datetime
) -> TenantPlan:
    """Compare Xero's connections with the known partitions and the tenants already seen to leave.

    The cursor's ``disconnected`` maps tenant -> when this sensor first saw it gone (the
    real moment is not published by Xero).
    """
    known_set, live = set(known), set(connected)
    gone: dict[str, str] = {t: at for t, at in dict(cursor.get("disconnected") or {}).items() if t in known_set}
    new = [t for t in connected if t not in known_set]
    reconnected = [t for t in connected if t in gone]
    for tenant in reconnected:
        del gone[tenant]
    disconnected = [t for t in known if t not in live and t not in gone]
    for tenant in disconnected:
        gone[tenant] = now.isoformat()
    return TenantPlan(new, reconnected, disconnected, {"disconnected": gone})


def _job_has(context: dg.SensorEvaluationContext, job: str, key: dg.AssetKey) -> bool:
    try:
        repo = context.repository_def
    except dg.DagsterInvariantViolationError:  # evaluated without its definitions (a bare unit test)
        return False
    if repo is None or not repo.has_job(job):
        return False
    return key in repo.get_job(job).asset_layer.selected_asset_keys


@dg.sensor(
    name=TENANT_SENSOR,
    job_name=SYNC_JOB,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Every 5 minutes, compares Xero's /connections with the xero_tenant partitions: adds new organisations "
        "and starts their first full sync; records disconnected ones (kept, no longer scheduled)."
    ),
)
def tenant_sensor(context: dg.SensorEvaluationContext, xero: XeroResource) -> dg.SensorResult:
    now = datetime.now(UTC)
    connected = xero.get_client().organisations()
    names = connected.names
    known = list(context.instance.get_dynamic_partitions(TENANT_PARTITIONS_NAME))
    previous = load_cursor(context.cursor)
    plan = plan_tenants(list(names), known, previous, now)

    runs: list[dg.RunRequest] = []
    events: list[dg.AssetObservation] = []
    for tenant in plan.new:
        context.log.info(f"new tenant {tenant} ({names[tenant]}): registering it and starting its first full sync")
        runs.append(dg.RunRequest(
            run_key=f"first-sync:{tenant}",
            partition_key=tenant,
            tags={**tenant_tags(tenant, names[tenant]), "xero/trigger": "new_tenant"},
        ))
    for tenant in plan.reconnected:
        since = previous.get("disconnected", {}).get(tenant, "")
        context.log.info(f"tenant {tenant} ({names[tenant]}) reconnected: catching up from its cursors")
        events.append(connection_observation(tenant, connected=True, at=now, name=names[tenant]))
        runs.append(dg.RunRequest(
            run_key=f"reconnected:{tenant}:{since}",
            partition_key=tenant,
            tags={**tenant_tags(tenant, names[tenant]), "xero/trigger": "reconnected"},
        ))
    for tenant in plan.disconnected:
        context.log.warning(
            f"tenant {tenant} is no longer connected to the Xero app: keeping its data and partition, "
            "not scheduling it any more"
        )
        events.append(connection_observation(tenant, connected=False, at=now))

    if (plan.disconnected or plan.reconnected) and _job_has(context, SYNC_JOB, TENANTS_ASSET):
        # xero/tenants (tenants_asset.py) keeps `disconnected_at` per tenant: refresh it now rather than at
        # the next tenant's run. It is not partitioned, so this run has no tenant.
        runs.append(dg.RunRequest(
            run_key=f"tenants:{now.isoformat()}", asset_selection=[TENANTS_ASSET], tags={"xero/trigger": "tenants"}
        ))

    summary = f"{len(names)} connected tenant(s), {len(plan.cursor['disconnected'])} disconnected"
    if connected.skipped:
        summary += f", {len(connected.skipped)} skipped (not organisations: " + "; ".join(connected.notes()) + ")"
    if plan.disconnected:
        summary += f"; newly disconnected: {', '.join(plan.disconnected)}"
    else:
        summary += "; no change"
    return dg.SensorResult(
        run_requests=runs,
        dynamic_partitions_requests=[tenant_partitions.build_add_request(plan.new)] if plan.new else [],
        asset_events=events,
        cursor=json.dumps(plan.cursor, sort_keys=True),
        skip_reason=None if runs else summary,
    )


@dg.sensor(
    name=HEALTH_SENSOR,
    minimum_interval_seconds=600,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Every 10 minutes, evaluates the tenant_health check of every tenant (stale syncs, failing tokens, "
        "daily call limits) and records it on xero/organisations, per tenant."
    ),
)
def health_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    tenants = list(context.instance.get_dynamic_partitions(TENANT_PARTITIONS_NAME))
    verdicts, events, cursor = health_events(
        context.instance, tenants, now=datetime.now(UTC), cursor=load_cursor(context.cursor)
    )
    unhealthy = [v for v in verdicts if not v.passed]
    for verdict in unhealthy:
        log = context.log.error if verdict.failing else context.log.warning
        log(f"tenant {verdict.tenant_id}: {verdict.description}")
    if unhealthy:
        summary = f"{len(unhealthy)} of {len(verdicts)} tenant(s) need attention: " + "; ".join(
            f"{v.tenant_id[:8]} {v.signature}" for v in unhealthy
        )
    else:
        summary = f"all {len(verdicts)} tenant(s) healthy"
    return dg.SensorResult(asset_events=events, cursor=json.dumps(cursor, sort_keys=True), skip_reason=summary)
