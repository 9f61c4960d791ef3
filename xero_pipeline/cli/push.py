"""``xero-pipeline push``: send the outboxes' pending rows to Xero, then refresh what was written.

The push itself is ``sync.push`` (no Dagster); the refresh of each written object's read
asset is an ordinary sync of that object for the tenants it wrote to, so the warehouse
shows the records as Xero now holds them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import dagster as dg

from xero_pipeline.cli.runner import SyncReport, sync_tenants
from xero_pipeline.defs.resources import WarehouseResource, XeroResource
from xero_pipeline.registry import BY_TABLE, WRITABLE, XeroObject
from xero_pipeline.sync.push import PushReport, push_object


def select_writable(names: Sequence[str] | None) -> list[XeroObject]:
    """The objects named (outbox table names), or every writable one."""
    if not names:
        return list(WRITABLE)
    unknown = [n for n in names if n not in BY_TABLE or BY_TABLE[n].writes is None]
    if unknown:
        raise ValueError(f"not writable: {', '.join(unknown)}; the writable objects are "
                         + ", ".join(o.table for o in WRITABLE))
    return [BY_TABLE[n] for n in names]


def push_tenants(*, instance: dg.DagsterInstance, xero: XeroResource, warehouse: WarehouseResource,
                 tenant_id: str | None = None, objects: Sequence[XeroObject] = WRITABLE, refresh: bool = True,
                 echo: Callable[[str], None] = print) -> tuple[list[PushReport], SyncReport | None]:
    client = xero.get_client()
    connected = client.organisations().tenant_ids
    reports = []
    for obj in objects:
        report = push_object(client, warehouse.get_connection, obj, connected=connected, tenant_id=tenant_id,
                             window_seconds=xero.idempotency_window(), keep=xero.reserve_daily_calls or None)
        reports.append(report)
        if report.outcomes or report.stopped:
            counts = ", ".join(f"{n} {status}" for status, n in sorted(report.outcomes.items()))
            echo(f"{obj.table}: {counts or 'nothing settled'}"
                 + (f" ({report.replayed} request(s) left in flight sent again)" if report.replayed else ""))
        for tenant, why in report.stopped.items():
            echo(f"{obj.table}: tenant {tenant} stopped early, its rows stay pending or in flight: {why}")
    written = [r for r in reports if r.written_tenants]
    if not refresh or not written:
        return reports, None
    tenants = sorted(set().union(*(r.written_tenants for r in written)))
    synced = sync_tenants(instance=instance, xero=xero, warehouse=warehouse, tenant_ids=tenants,
                          objects=[BY_TABLE[r.table] for r in written], echo=echo)
    return reports, synced
