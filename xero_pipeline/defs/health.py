"""Tenant health: is each organisation synced, can the app still authenticate, is it near Xero's daily limit?

One verdict per tenant, with the reasons in words, recorded as the partitioned asset
check ``tenant_health`` on ``xero/organisations`` (one result per tenant partition). The
``xero_health`` sensor evaluates it every few minutes; "Execute" in the UI evaluates one
tenant now.

Why not ``build_last_update_freshness_checks`` or a ``FreshnessPolicy``: both look at the
latest materialization of *any* partition, so one fresh tenant would hide a stale one.
And a freshness check that runs inside the sync is blind to the case that matters most:
no run at all. So health is derived from the instance (runs and their events) per tenant,
and per object within a tenant: a run in which one object failed still synced the others.

* stale: an object of the tenant (or all of them) not synced in ``STALE_AFTER`` (26 h: a
  daily schedule plus two hours of slack), however many failed runs came since; an
  object that has never synced and failed in every run for that long;
* the latest run did not sync some objects: named, with the first line of the error;
* token failing: the latest run failed with ``XeroAuthError``;
* daily limit: the latest run failed with ``XeroDailyLimitError``, or the last
  ``day_limit_remaining`` recorded by a materialization in the past 24 h is low;
* a disconnected tenant (recorded by the tenant sensor as an observation on
  ``xero/organisations``), a first sync still pending, a tenant that sends webhook events
  silent for ``XERO_WEBHOOK_SILENT_HOURS`` (its webhook may be disabled).

Objects Xero does not make available to the app (a scope or tier it lacks) are no
concern: a tenant with only those stays healthy, and they are listed as information
(in the summary and the ``not_available`` metadata).

``tenant_records`` reads those facts from the instance; ``health_rules`` holds the rules.
"""

import warnings
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

from xero_pipeline.defs.health_rules import TenantHealth, assess
from xero_pipeline.defs.partitions import tenant_partitions
from xero_pipeline.defs.tenant_records import (
    ORGANISATIONS,
    gather_all_facts,
    gather_facts,
)
from xero_pipeline.webhooks.settings import silent_after

CHECK_NAME = "tenant_health"
CHECK_KEY = dg.AssetCheckKey(ORGANISATIONS, CHECK_NAME)


def check_fields(health: TenantHealth) -> dict[str, Any]:
    """Arguments shared by ``AssetCheckResult`` (check run) and ``AssetCheckEvaluation`` (sensor)."""
    metadata: dict[str, Any] = {
        "tenant_id": dg.MetadataValue.text(health.tenant_id),
        "status": dg.MetadataValue.text(health.signature),
        "reasons": dg.MetadataValue.md("\n".join(f"- {f.text}" for f in health.concerns) or "- none"),
    }
    # Numbers only when known, so the UI's plots are not dragged to a sentinel value.
    if health.hours_since_success is not None:
        metadata["hours_since_success"] = dg.MetadataValue.float(health.hours_since_success)
    if health.day_limit_remaining is not None:
        metadata["day_limit_remaining"] = dg.MetadataValue.int(health.day_limit_remaining)
    if health.unavailable:
        # Information, not a concern: what Xero withholds from the app, and why.
        metadata["not_available"] = dg.MetadataValue.md(
            "\n".join(f"- {asset}: {why}" for asset, why in sorted(health.unavailable.items())))
    return {
        "passed": health.passed,
        "severity": dg.AssetCheckSeverity.ERROR if health.failing else dg.AssetCheckSeverity.WARN,
        "description": health.description,
        "metadata": metadata,
    }


def evaluation(health: TenantHealth) -> dg.AssetCheckEvaluation:
    return dg.AssetCheckEvaluation(
        asset_key=ORGANISATIONS, check_name=CHECK_NAME, partition=health.tenant_id, **check_fields(health)
    )


# ------------------------------------------------------------------ the check and the sensor's step

HEARTBEAT = timedelta(hours=6)  # re-record an unchanged verdict this often, so "last evaluated" stays recent


def health_events(
    instance: dg.DagsterInstance, tenants: list[str], *, now: datetime, cursor: Mapping[str, Any]
) -> tuple[list[TenantHealth], list[dg.AssetCheckEvaluation], dict[str, Any]]:
    """Every tenant's verdict, the evaluations worth recording (changed or due) and the next cursor."""
    silent = silent_after()
    verdicts = [assess(facts, now=now, webhook_silent_after=silent)
                for facts in gather_all_facts(instance, tenants).values()]
    events: list[dg.AssetCheckEvaluation] = []
    next_cursor: dict[str, Any] = {}
    for health in verdicts:
        before = cursor.get(health.tenant_id) or {}
        due = now.timestamp() - float(before.get("at", 0)) >= HEARTBEAT.total_seconds()
        if before.get("sig") != health.signature or due:
            events.append(evaluation(health))
            next_cursor[health.tenant_id] = {"sig": health.signature, "at": now.timestamp()}
        else:
            next_cursor[health.tenant_id] = before
    return verdicts, events, next_cursor


with warnings.catch_warnings():
    # Partitioned asset checks are a preview API in Dagster 1.13 (pinned in pyproject.toml);
    # they are what shows a verdict per tenant, so the warning is expected, not news.
    warnings.simplefilter("ignore", dg.PreviewWarning)

    @dg.asset_check(
        asset=ORGANISATIONS,
        name=CHECK_NAME,
        partitions_def=tenant_partitions,
        description=(
            "Is this tenant healthy? Fails (ERROR) when any of its objects has had no successful sync in 26 h or "
            "Xero rejects the app's tokens; warns when it is near or out of its daily Xero call limit, its latest "
            "run did not sync some objects (named), it is disconnected, its first sync is pending, or a tenant that sends "
            "webhook events has sent none for XERO_WEBHOOK_SILENT_HOURS (48). Evaluated "
            "every 10 minutes by the xero_health sensor."
        ),
    )
    def tenant_health_check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        health = assess(gather_facts(context.instance, context.partition_key), now=datetime.now(UTC),
                        webhook_silent_after=silent_after())
        context.log.info(f"tenant {health.tenant_id}: {health.description}")
        return dg.AssetCheckResult(**check_fields(health))
