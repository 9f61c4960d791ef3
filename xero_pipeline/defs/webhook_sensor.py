"""``xero_webhooks``: the events ``xero-pipeline webhooks`` stored become targeted syncs.

Each tick reads the event store after its cursor (the last event id it planned), asks for
one ``xero_sync`` run per tenant with only the objects those events touched (an
incremental If-Modified-Since read each), records every event's outcome in the store,
and notes per tenant and object when its last event arrived (an observation on the
object's asset partition, shown in the UI and read by the health check).

Delivery is at least once: the cursor moves only with a successful tick, and a tick
evaluated again asks for runs with the same keys, which Dagster deduplicates. The store's
UNIQUE event identity makes a replayed delivery no new event at all.
"""

from __future__ import annotations

from datetime import datetime

import dagster as dg

from xero_pipeline.defs.jobs import SYNC_JOB
from xero_pipeline.defs.keys import LAST_WEBHOOK_KEY, asset_key
from xero_pipeline.defs.partitions import TENANT_PARTITIONS_NAME
from xero_pipeline.defs.tenant_names import TENANT_TAG, tenant_tags
from xero_pipeline.defs.webhook_plan import TenantRun, WaitingRun, plan_webhook_runs
from xero_pipeline.registry import BY_WEBHOOK_CATEGORY
from xero_pipeline.webhooks.settings import store_path
from xero_pipeline.webhooks.store import EventStore, StoredEvent

WEBHOOK_SENSOR = "xero_webhooks"
DEFAULT_INTERVAL_SECONDS = 30
TRIGGER = "webhook"


class WebhookStoreResource(dg.ConfigurableResource):
    """The event store the receiver writes; it holds no secret, so the sensor needs no key."""

    path: str = ""  # default: XERO_WEBHOOK_STORE, else data/webhook_events.sqlite3 in the checkout

    def location(self):
        return store_path(self.path or None)


def last_event_observation(tenant: str, table: str, received_at: str) -> dg.AssetObservation:
    # On the object's asset, not xero/organisations: the tenant sensor finds its connection
    # records among that asset's latest observations, which a busy webhook would crowd out.
    return dg.AssetObservation(
        asset_key=asset_key(table), partition=tenant,
        description=f"Latest Xero webhook event for this object of this organisation arrived at {received_at}.",
        metadata={LAST_WEBHOOK_KEY: dg.MetadataValue.timestamp(datetime.fromisoformat(received_at))},
    )


def _latest_arrivals(events: list[StoredEvent], runs: list[TenantRun]) -> dict[tuple[str, str], str]:
    """(tenant, table) -> when its latest event of this tick arrived."""
    by_id = {e.id: e for e in events}
    latest: dict[tuple[str, str], str] = {}
    for run in runs:
        for event_id in run.event_ids:
            event = by_id[event_id]
            key = (run.tenant_id, BY_WEBHOOK_CATEGORY[event.category].table)
            latest[key] = max(latest.get(key, ""), event.received_at)
    return latest


def _waiting(instance: dg.DagsterInstance, tenants: set[str]) -> dict[str, list[WaitingRun]]:
    """Each tenant's sync runs not started yet: one of them covering the changed objects will
    read the changes when it starts (If-Modified-Since), so another run would only cost calls."""
    out: dict[str, list[WaitingRun]] = {}
    for tenant in tenants:
        runs = instance.get_runs(filters=dg.RunsFilter(
            job_name=SYNC_JOB, tags={TENANT_TAG: tenant},
            statuses=[dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED]), limit=10)
        out[tenant] = [WaitingRun(r.run_id, None if r.asset_selection is None else
                                  frozenset(k.path[-1] for k in r.asset_selection)) for r in runs]
    return out


def _cursor(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() else 0


@dg.sensor(
    name=WEBHOOK_SENSOR,
    job_name=SYNC_JOB,
    minimum_interval_seconds=DEFAULT_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Every 30 seconds, turns the Xero webhook events `xero-pipeline webhooks` stored into one incremental "
        "sync per tenant of just the objects that changed (contacts, invoices, credit notes, prepayments, "
        "overpayments)."
    ),
)
def webhook_sensor(context: dg.SensorEvaluationContext, webhook_store: WebhookStoreResource) -> dg.SensorResult:
    path = webhook_store.location()
    if not path.exists():
        return dg.SensorResult(skip_reason=f"no webhook event store at {path} yet: start `xero-pipeline webhooks`")
    store = EventStore(path)
    cursor = _cursor(context.cursor)
    events = store.after(cursor)
    if not events:
        return dg.SensorResult(skip_reason=f"no webhook event after #{cursor}")
    tenants = context.instance.get_dynamic_partitions(TENANT_PARTITIONS_NAME)
    touched = {e.tenant_id.lower() for e in events}
    waiting = _waiting(context.instance, {t for t in tenants if t.lower() in touched})
    plan = plan_webhook_runs(events, tenants, cursor, waiting)
    runs = [dg.RunRequest(
        run_key=run.run_key, partition_key=run.tenant_id,
        asset_selection=[asset_key(t) for t in sorted(run.tables)],
        tags={**tenant_tags(run.tenant_id, None), "xero/trigger": TRIGGER,
              "xero/webhook_events": str(len(run.event_ids))},
    ) for run in plan.runs]
    for event_id, reason in plan.skipped:
        context.log.warning(f"webhook event #{event_id} skipped: {reason}")
    for run, run_id in plan.joined:
        context.log.info(f"webhook events {run.event_ids[0]}-{run.event_ids[-1]} of tenant {run.tenant_id}: run "
                         f"{run_id[:8]}, still queued, will read {', '.join(sorted(run.tables))}")
    store.record_outcomes([*((i, run.run_key, None) for run in plan.runs for i in run.event_ids),
                           *((i, f"joined:{run_id}", None) for run, run_id in plan.joined for i in run.event_ids),
                           *((i, None, reason) for i, reason in plan.skipped)])
    planned = [*plan.runs, *(run for run, _ in plan.joined)]
    observations = [last_event_observation(tenant, table, at)
                    for (tenant, table), at in sorted(_latest_arrivals(events, planned).items())]
    return dg.SensorResult(run_requests=runs, asset_events=observations, cursor=str(plan.last_event_id))
