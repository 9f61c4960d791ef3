"""Wiring only: assets, checks, jobs, schedules, sensors, resources and the executor.

Nothing here does work; each list below is filled from the module that owns that role.
"""

from __future__ import annotations

import dagster as dg

from xero_pipeline.assets import GROUP, build_assets
from xero_pipeline.resources import WarehouseResource, XeroResource

xero_assets = build_assets()

# One run per tenant: every Xero asset of that tenant's partition.
sync_job = dg.define_asset_job(
    "xero_sync",
    selection=dg.AssetSelection.groups(GROUP),
    description="Sync every Xero object of one tenant into the DuckDB warehouse.",
)

defs = dg.Definitions(
    assets=[*xero_assets],
    asset_checks=[],
    jobs=[sync_job],
    schedules=[],
    sensors=[],
    resources={
        "xero": XeroResource(
            client_id=dg.EnvVar("XERO_CLIENT_ID"),
            client_secret=dg.EnvVar("XERO_CLIENT_SECRET"),
        ),
        "warehouse": WarehouseResource(),
    },
    # ~40 small steps per tenant: a process per step (the multiprocess default) would
    # spend more CPU starting Python than syncing. Tenants run in parallel as separate
    # runs instead (see dagster.yaml's run coordinator).
    executor=dg.in_process_executor,
)
