"""``xero/tenants``: the organisations connected to the app, from ``GET /connections``.

The table and how a call's answer is merged into it (a disconnected tenant keeps its
row, marked) are ``warehouse/tenants``; this module makes that an asset.

Not partitioned: ``/connections`` is one call that describes every tenant at once and
is the only place a disconnection can be seen. A per-tenant partition would make N
identical calls, and the partition of a disconnected tenant is exactly the one nobody
runs any more, so it could never record that it went away.
"""

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from xero_pipeline.defs.keys import GROUP, KINDS, asset_key
from xero_pipeline.defs.resources import WarehouseResource, XeroResource
from xero_pipeline.warehouse.column_docs import tenant_column_docs
from xero_pipeline.warehouse.tenants import COLUMNS, TABLE, merge_tenants, tenant_rows
from xero_pipeline.xero.connections import tenant_type


def tenants_markdown(entries: Sequence[Mapping[str, Any]]) -> str:
    """The connected tenants as a table: organisation name, tenant id (the partition key), type."""
    lines = ["| organisation | tenant_id (partition) | type |", "|---|---|---|"]
    for e in entries:
        name = str(e.get("tenantName") or "").replace("|", "\\|")
        lines.append(f"| {name} | `{e['tenantId']}` | {tenant_type(e)} |")
    return "\n".join(lines)


@dg.asset(
    key=asset_key(TABLE),
    group_name=GROUP,
    kinds=KINDS,
    description=(
        "Xero /connections: one row per organisation connected to the app, ever. Table `xero.tenants`, key "
        "(tenant_id): name, type, connection id, created/updated dates, and `disconnected_at` once a tenant is "
        "no longer connected (cleared if it reconnects). Its `tenants` metadata puts each organisation's name "
        "beside its tenant id, the partition key of every other asset. Tenants that are not organisations "
        "(tenant_type PRACTICE, PRACTICEMANAGER) are listed but never synced. Not partitioned: one call describes "
        "every tenant."
    ),
)
def xero_tenants(
    context: dg.AssetExecutionContext, xero: XeroResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    now = datetime.now(UTC)
    connected = xero.get_client().organisations()
    rows = tenant_rows(connected.every, now=now)
    with warehouse.get_connection() as conn:
        counts = merge_tenants(conn, rows, now=now)
    context.log.info(
        f"{counts['connected']} tenant(s) connected, {counts['newly_disconnected']} newly disconnected"
    )
    for note in connected.notes():
        context.log.info(note)
    docs = tenant_column_docs()
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": dg.MetadataValue.int(counts["known"]),
            "connected": dg.MetadataValue.int(counts["connected"]),
            "newly_disconnected": dg.MetadataValue.int(counts["newly_disconnected"]),
            "not_organisations": dg.MetadataValue.int(len(connected.skipped)),
            # The partition key is the tenant id: this is where a name leads to its partition.
            "tenants": dg.MetadataValue.md(tenants_markdown(connected.every)),
            "dagster/column_schema": dg.TableSchema(
                columns=[dg.TableColumn(name, sql_type, description=docs.get(name)) for name, sql_type, _ in COLUMNS]
            ),
        }
    )
