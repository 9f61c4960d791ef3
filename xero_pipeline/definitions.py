"""Wiring only: assets, checks, jobs, schedules, sensors, resources and the executor.

Nothing here does work; each list below is filled from the module that owns that role.
"""

from __future__ import annotations

import dagster as dg

from xero_pipeline.defs.assets import build_assets, build_retired_assets
from xero_pipeline.defs.checks import build_checks, tenants_key_check
from xero_pipeline.defs.health import tenant_health_check
from xero_pipeline.defs.jobs import sync_job
from xero_pipeline.defs.rebuild_checks import build_rebuilt_ledger_checks
from xero_pipeline.defs.report_assets import build_report_assets
from xero_pipeline.defs.resources import WarehouseResource, XeroResource
from xero_pipeline.defs.schedules import build_daily_schedule
from xero_pipeline.defs.sensors import health_sensor, tenant_sensor
from xero_pipeline.defs.tenants_asset import xero_tenants
from xero_pipeline.defs.view_assets import build_view_assets, ledger_job
from xero_pipeline.defs.webhook_sensor import WebhookStoreResource, webhook_sensor
from xero_pipeline.defs.writeback import build_writeback_assets, writeback_job, writeback_sensor

xero_assets = build_assets()
report_assets = build_report_assets()  # xero/report_*: Xero's reports, per tenant
ledger_assets = build_view_assets()  # ledger/*: views over all tenants

defs = dg.Definitions(
    assets=[*xero_assets, *report_assets, *ledger_assets, xero_tenants, *build_retired_assets(),
            *build_writeback_assets()],  # writeback/*: outboxes pushed to Xero, per tenant
    asset_checks=[tenant_health_check, *build_checks(), build_rebuilt_ledger_checks(), tenants_key_check],
    jobs=[sync_job, ledger_job, writeback_job],
    schedules=[],
    sensors=[tenant_sensor, health_sensor, writeback_sensor, webhook_sensor],
    resources={
        # XERO_CLIENT_SECRET is read when a run starts (XeroResource.settings): an EnvVar would
        # make it required, and a Mobile or desktop app (PKCE) has none.
        "xero": XeroResource(client_id=dg.EnvVar("XERO_CLIENT_ID")),
        "warehouse": WarehouseResource(),
        # The receiver's event store; XERO_WEBHOOK_STORE or the default file (no secret in it).
        "webhook_store": WebhookStoreResource(),
    },
    # ~40 small steps per tenant: a process per step (the multiprocess default) would
    # spend more CPU starting Python than syncing. Tenants run in parallel as separate
    # runs instead (see dagster.yaml's run coordinator).
    executor=dg.in_process_executor,
)


@dg.definitions
def load_definitions() -> dg.Definitions:
    """What Dagster loads (a ``@dg.definitions`` function takes precedence over ``defs``):
    ``defs`` plus the daily schedule, whose cron and timezone (XERO_SCHEDULE_CRON,
    XERO_SCHEDULE_TIMEZONE) are read here, when the code location loads, not at import."""
    return dg.Definitions.merge(defs, dg.Definitions(schedules=[build_daily_schedule()]))
