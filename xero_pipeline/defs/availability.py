"""An object or report Xero will not serve to this app, as Dagster shows it.

Not a failure: the step succeeds and materializes the asset with metadata saying it is
not available (``xero/available: false``), why (the scope or tier that would unlock it),
since when and when Xero is asked again. A materialization rather than a skipped output,
so the report assets and checks downstream still run and the tenant's health sees the
object as synced. The object's table is left as it was. The rules for when to ask are in
``sync.access``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import dagster as dg

from xero_pipeline.defs.materializations import CURSOR_KEY, latest_metadata
from xero_pipeline.defs.resources import WarehouseResource, XeroResource
from xero_pipeline.sync.access import AccessGate, Endpoint, Unavailable

AVAILABLE_KEY = "xero/available"
REASON_KEY = "unavailable_reason"


def access_gate(xero: XeroResource, warehouse: WarehouseResource, tenant: str) -> AccessGate:
    return AccessGate(connect=warehouse.get_connection, tenant_id=tenant, granted=xero.get_client().granted_scopes(),
                      recheck=timedelta(days=xero.recheck_unavailable_days))


def unavailable_metadata(gone: Unavailable, *, with_cursor: bool = True) -> dict[str, Any]:
    refusal = gone.refusal
    meta: dict[str, Any] = {
        AVAILABLE_KEY: dg.MetadataValue.bool(False),
        REASON_KEY: dg.MetadataValue.text(refusal.reason),
        "unavailable_since": dg.MetadataValue.text(refusal.unavailable_since.isoformat()),
        "next_check": dg.MetadataValue.text(refusal.next_check.isoformat()),
        "scope": dg.MetadataValue.text(refusal.scope),
        "tenant_id": dg.MetadataValue.text(refusal.tenant_id),
        "api_calls": dg.MetadataValue.int(1 if gone.asked else 0),
    }
    if with_cursor:
        # No cursor: once Xero serves the object again its first sync reads it whole.
        meta[CURSOR_KEY] = dg.MetadataValue.text("")
    if gone.held_rows is not None:
        meta["dagster/row_count"] = dg.MetadataValue.int(gone.held_rows)
    return meta


def log_unavailable(context: dg.AssetExecutionContext, tenant: str, endpoint: Endpoint, gone: Unavailable) -> None:
    asked = "" if gone.asked else " (not asked)"
    context.log.warning(
        f"tenant {tenant}: {endpoint.table} is not available to this app{asked}: {gone.reason}. Its table is left "
        f"as it was; asked again by {gone.refusal.next_check:%Y-%m-%d}, or at once when the app's scopes change."
    )


def unavailable_results(
    context: dg.AssetExecutionContext, tenant: str, endpoint: Endpoint, gone: Unavailable,
    keys: Mapping[str, dg.AssetKey],
) -> list[dg.MaterializeResult]:
    """One materialization per table of the object (``keys``: table -> asset key), saying so."""
    log_unavailable(context, tenant, endpoint, gone)
    results = [dg.MaterializeResult(asset_key=keys[endpoint.table], metadata=unavailable_metadata(gone))]
    for table, key in keys.items():
        if table != endpoint.table:
            child = unavailable_metadata(gone, with_cursor=False)
            child.pop("dagster/row_count", None)
            results.append(dg.MaterializeResult(asset_key=key, metadata=child))
    return results


def was_unavailable(instance: dg.DagsterInstance, key: dg.AssetKey, tenant: str) -> str | None:
    """The reason, when the latest materialization of ``key`` for ``tenant`` said it was unavailable."""
    meta = latest_metadata(instance, key, tenant)
    if meta.get(AVAILABLE_KEY) is False:
        return str(meta.get(REASON_KEY) or "not available to this app")
    return None
