"""Tenant health: is each organisation synced, can the app still authenticate, is it near Xero's daily limit?

One verdict per tenant, with the reasons in words, recorded as the partitioned asset
check ``tenant_health`` on ``xero/organisations`` (one result per tenant partition). The
``xero_health`` sensor evaluates it every few minutes; "Execute" in the UI evaluates one
tenant now.

Why not ``build_last_update_freshness_checks`` or a ``FreshnessPolicy``: both look at the
latest materialization of *any* partition, so one fresh tenant would hide a stale one.
And a freshness check that runs inside the sync is blind to the case that matters most:
no run at all. So health is derived from the instance (runs and their events) per tenant:

* stale: no successful run for the tenant in ``STALE_AFTER`` (26 h: a daily schedule plus
  two hours of slack);
* token failing: the latest run failed with ``XeroAuthError``;
* daily limit: the latest run failed with ``XeroDailyLimitError``, or the last
  ``day_limit_remaining`` recorded by a materialization in the past 24 h is low;
* any other failure of the latest run, a disconnected tenant (recorded by the tenant
  sensor as an observation on ``xero/organisations``), a first sync still pending.

``tenant_records`` reads those facts from the instance; ``assess``, the rules, is pure.
"""

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

from xero_pipeline.defs.partitions import tenant_partitions
from xero_pipeline.defs.tenant_records import ORGANISATIONS, TenantFacts, gather_facts

CHECK_NAME = "tenant_health"
CHECK_KEY = dg.AssetCheckKey(ORGANISATIONS, CHECK_NAME)

STALE_AFTER = timedelta(hours=26)
NEAR_LIMIT_CALLS = 500  # of Xero's 5,000 calls per tenant per rolling day
BUDGET_WINDOW = timedelta(hours=24)  # Xero's day is rolling: older readings say nothing about now
AUTH_ERRORS = frozenset({"XeroAuthError"})
LIMIT_ERRORS = frozenset({"XeroDailyLimitError"})


@dataclass(frozen=True)
class Finding:
    code: str  # stable, for change detection: stale, token, daily_limit, near_limit, failed, ...
    error: bool
    text: str


@dataclass(frozen=True)
class TenantHealth:
    tenant_id: str
    findings: tuple[Finding, ...]
    summary: str
    hours_since_success: float | None
    day_limit_remaining: int | None

    @property
    def passed(self) -> bool:
        return not self.findings

    @property
    def severity(self) -> dg.AssetCheckSeverity:
        failing = any(f.error for f in self.findings)
        return dg.AssetCheckSeverity.ERROR if failing else dg.AssetCheckSeverity.WARN

    @property
    def signature(self) -> str:
        return ",".join(sorted(f.code for f in self.findings)) or "ok"

    @property
    def description(self) -> str:
        if self.passed:
            return f"Healthy: {self.summary}."
        return " ".join(f"{f.text[0].upper()}{f.text[1:]}." for f in self.findings)


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 10 else f"{hours:.0f} h"


def assess(
    facts: TenantFacts,
    *,
    now: datetime,
    stale_after: timedelta = STALE_AFTER,
    near_limit_calls: int = NEAR_LIMIT_CALLS,
) -> TenantHealth:
    """The verdict for one tenant. Pure: every input is in ``facts``."""
    age = now - facts.last_success_at if facts.last_success_at else None
    hours = round(age.total_seconds() / 3600, 2) if age else None
    budget = facts.day_limit_remaining
    if budget is not None and (facts.budget_read_at is None or now - facts.budget_read_at > BUDGET_WINDOW):
        budget = None
    findings: list[Finding] = []

    if facts.disconnected_at is not None:
        # Not expected to sync any more, so staleness is no alarm; the flag is the point.
        findings.append(Finding(
            "disconnected", False,
            f"disconnected from the Xero app since {_when(facts.disconnected_at)}: its data is kept and it is no "
            "longer scheduled; reconnect the organisation in Xero to resume",
        ))
        return TenantHealth(facts.tenant_id, tuple(findings), "disconnected", hours, budget)

    latest = facts.failures[0] if facts.failures else None
    if latest and latest.error_classes & AUTH_ERRORS:
        findings.append(Finding(
            "token", True,
            # The error's own text says what to do (re-authorise, fix the credentials).
            f"Xero rejects the app's tokens (run {latest.run_id[:8]} at {_when(latest.ended_at)}): {latest.message}",
        ))
    elif latest and latest.error_classes & LIMIT_ERRORS:
        findings.append(Finding(
            "daily_limit", False,
            f"Xero's daily call limit for this tenant ran out in run {latest.run_id[:8]} at "
            f"{_when(latest.ended_at)}; the next run continues from where it stopped",
        ))
    elif latest:
        findings.append(Finding(
            "failed", False,
            f"the latest run {latest.run_id[:8]} failed at {_when(latest.ended_at)}: {latest.message}",
        ))
    if budget is not None and budget <= near_limit_calls and not (latest and latest.error_classes & LIMIT_ERRORS):
        findings.append(Finding(
            "near_limit", False,
            f"only {budget:,} of Xero's daily calls are left for this tenant (as of {_when(facts.budget_read_at)}); "
            "syncs may stop short until the rolling 24 h window frees calls",
        ))

    if facts.last_success_at is None:
        if facts.failures:
            findings.append(Finding(
                "never_synced", True, f"it has never synced successfully ({len(facts.failures)} failed run(s))"
            ))
        else:
            findings.append(Finding("first_sync_pending", False, "its first sync has not finished yet"))
    elif age is not None and age > stale_after:
        findings.append(Finding(
            "stale", True,
            f"no successful sync for {_hours(age)} (last at {_when(facts.last_success_at)}; "
            f"expected within {_hours(stale_after)})",
        ))

    summary = f"last successful sync {_hours(age)} ago" if age is not None else "never synced"
    if budget is not None:
        summary += f", {budget:,} daily Xero calls left"
    return TenantHealth(facts.tenant_id, tuple(findings), summary, hours, budget)


def check_fields(health: TenantHealth) -> dict[str, Any]:
    """Arguments shared by ``AssetCheckResult`` (check run) and ``AssetCheckEvaluation`` (sensor)."""
    metadata: dict[str, Any] = {
        "tenant_id": dg.MetadataValue.text(health.tenant_id),
        "status": dg.MetadataValue.text(health.signature),
        "reasons": dg.MetadataValue.md("\n".join(f"- {f.text}" for f in health.findings) or "- none"),
    }
    # Numbers only when known, so the UI's plots are not dragged to a sentinel value.
    if health.hours_since_success is not None:
        metadata["hours_since_success"] = dg.MetadataValue.float(health.hours_since_success)
    if health.day_limit_remaining is not None:
        metadata["day_limit_remaining"] = dg.MetadataValue.int(health.day_limit_remaining)
    return {
        "passed": health.passed,
        "severity": health.severity,
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
    verdicts = [assess(gather_facts(instance, t), now=now) for t in tenants]
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
            "Is this tenant healthy? Fails (ERROR) when it has had no successful sync in 26 h or Xero rejects the "
            "app's tokens; warns when it is near or out of its daily Xero call limit, its latest run failed, it "
            "is disconnected, or its first sync is pending. Evaluated every 10 minutes by the xero_health sensor."
        ),
    )
    def tenant_health_check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        health = assess(gather_facts(context.instance, context.partition_key), now=datetime.now(UTC))
        context.log.info(f"tenant {health.tenant_id}: {health.description}")
        return dg.AssetCheckResult(**check_fields(health))
