"""The jobs: ``xero_sync``, one run per tenant (``ledger_views`` lives with the views)."""

from __future__ import annotations

import dagster as dg

from xero_pipeline.defs.health import tenant_health_check
from xero_pipeline.defs.keys import GROUP
from xero_pipeline.defs.report_assets import REPORTS_GROUP
from xero_pipeline.defs.view_assets import LEDGER_GROUP

SYNC_JOB = "xero_sync"

# One run per tenant: every Xero asset of that tenant's partition.
sync_job = dg.define_asset_job(
    SYNC_JOB,
    # "ledger": the ledger views (view_assets.py), rebuilt after each tenant's sync once they exist;
    # "xero_reports": the tenant's report snapshots, refreshed by the same daily run.
    # The health check is judged by the xero_health sensor, from outside the run it would judge.
    selection=dg.AssetSelection.groups(GROUP, REPORTS_GROUP, LEDGER_GROUP)
    - dg.AssetSelection.checks(tenant_health_check),
    description="Sync every Xero object of one tenant into the DuckDB warehouse.",
)
