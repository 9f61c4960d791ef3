"""Write-back in Dagster: a ``writeback/<table>`` asset per writable object, partitioned by
tenant, the ``xero_writeback`` job, and the ``xero_writeback`` sensor.

Each read asset ``xero/<table>`` of a writable object depends on its ``writeback/<table>``
(see ``assets``), so a run of the job pushes the outbox first and then syncs the object
again: the warehouse shows the written records as Xero holds them. The push itself is
``sync.push`` (outcomes in ``writeback.results``); the asset only records its counts.
"""


from collections.abc import Sequence
from contextlib import closing
from datetime import UTC, datetime

import dagster as dg
import duckdb

from xero_pipeline.config import Warehouse
from xero_pipeline.defs.keys import asset_key
from xero_pipeline.defs.partitions import tenant_partitions
from xero_pipeline.defs.resources import WarehouseResource, XeroResource
from xero_pipeline.registry import WRITABLE, XeroObject
from xero_pipeline.sync.push import push_object
from xero_pipeline.warehouse import writeback as wb
from xero_pipeline.warehouse.connection import open_warehouse
from xero_pipeline.warehouse.lake import LakeMissing

WRITEBACK_GROUP = "writeback"
WRITEBACK_JOB = "xero_writeback"
WRITEBACK_SENSOR = "xero_writeback"


def writeback_key(table: str) -> dg.AssetKey:
    return dg.AssetKey([WRITEBACK_GROUP, table])


def build_writeback_asset(obj: XeroObject) -> dg.AssetsDefinition:
    @dg.asset(key=writeback_key(obj.table), group_name=WRITEBACK_GROUP, partitions_def=tenant_partitions,
              kinds={"xero", "duckdb"}, description=(
                  f"Sends the tenant's pending rows of writeback.{obj.table} to Xero ({obj.path}) in batches, "
                  "each with an Idempotency-Key; every row's outcome (the record's Xero id, or Xero's validation "
                  f"errors verbatim) lands in writeback.results. xero/{obj.table} is synced after it."))
    def _push(context: dg.AssetExecutionContext, xero: XeroResource,
              warehouse: WarehouseResource) -> dg.MaterializeResult:
        """Push one tenant's outbox of this object (see ``sync.push``)."""
        tenant = context.partition_key
        client = xero.get_client()
        report = push_object(client, warehouse.get_connection, obj, connected=client.organisations().tenant_ids,
                             tenant_id=tenant, window_seconds=xero.idempotency_window(),
                             keep=xero.reserve_daily_calls or None)
        for why in report.stopped.values():
            context.log.warning(f"tenant {tenant}: {obj.table}: stopped early, rows stay pending or in flight: {why}")
        counts = ", ".join(f"{n} {s}" for s, n in sorted(report.outcomes.items())) or "nothing pending"
        context.log.info(f"tenant {tenant}: {obj.table}: {counts}")
        return dg.MaterializeResult(metadata={
            **{f"rows_{status}": dg.MetadataValue.int(n) for status, n in sorted(report.outcomes.items())},
            "requests_replayed": dg.MetadataValue.int(report.replayed),
            "stopped": dg.MetadataValue.text("; ".join(report.stopped.values()) or "no"),
        })

    return _push


def build_writeback_assets(objects: Sequence[XeroObject] = WRITABLE) -> list[dg.AssetsDefinition]:
    return [build_writeback_asset(obj) for obj in objects]


# A run per tenant: the writeback assets asked for, then the read assets they feed.
writeback_job = dg.define_asset_job(
    WRITEBACK_JOB,
    selection=dg.AssetSelection.groups(WRITEBACK_GROUP)
    | dg.AssetSelection.assets(*(asset_key(o.table) for o in WRITABLE)),
    description="Push one tenant's outboxes to Xero, then sync the objects written.",
)


def waiting_rows(path: str | Warehouse) -> dict[tuple[str, str], int]:
    """(tenant, table) -> rows waiting, from a short read-only look at the warehouse; {} when it is busy."""
    try:
        with closing(open_warehouse(path, read_only=True)) as conn:
            return {(tenant, obj.table): n for obj in WRITABLE for tenant, n in wb.waiting(conn, obj).items()}
    except (duckdb.IOException, LakeMissing):  # missing, or held by a writer: the next tick looks again
        return {}


@dg.sensor(name=WRITEBACK_SENSOR, job=writeback_job, minimum_interval_seconds=60,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="Every minute, starts a push for each tenant with rows waiting in an outbox (writeback.*).")
def writeback_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource) -> dg.SensorResult:
    waiting = waiting_rows(warehouse.target())
    known = set(context.instance.get_dynamic_partitions(tenant_partitions.name))
    by_tenant: dict[str, list[str]] = {}
    for (tenant, table), _n in sorted(waiting.items()):
        # Rows for a tenant that is no partition (not connected, or a typo) get their
        # `rejected` outcome from the push of any tenant's run (``push_object``).
        runner = tenant if tenant in known else min(known, default=None)
        if runner is not None and table not in by_tenant.get(runner, []):
            by_tenant.setdefault(runner, []).append(table)
    # One run per tenant and hour for the same rows: a run that could not settle them
    # (the day's budget, Xero down) is tried again the next hour, not every minute.
    hour = datetime.now(UTC).strftime("%Y-%m-%dT%H")
    runs = [
        dg.RunRequest(
            run_key=f"writeback:{tenant}:{hour}:" + ",".join(f"{t}={waiting.get((tenant, t), 0)}" for t in tables),
            partition_key=tenant,
            asset_selection=[*(writeback_key(t) for t in tables), *(asset_key(t) for t in tables)],
            tags={"xero/trigger": "writeback"},
        )
        for tenant, tables in by_tenant.items()
    ]
    return dg.SensorResult(run_requests=runs, skip_reason=None if runs else "no outbox rows waiting")
