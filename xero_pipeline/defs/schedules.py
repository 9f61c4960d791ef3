"""The daily sync: one ``xero_sync`` run per connected tenant, 02:00 UTC unless configured.

| variable                 | meaning                                  | default     |
|--------------------------|------------------------------------------|-------------|
| `XERO_SCHEDULE_CRON`     | when the daily sync starts (cron)        | `0 2 * * *` |
| `XERO_SCHEDULE_TIMEZONE` | the cron's timezone (IANA name)          | `UTC`       |

Both are read by ``build_daily_schedule()``, which ``definitions.load_definitions`` (a
``@dg.definitions`` function) calls when Dagster *loads* the code location, never at
import: Dagster needs the cron string when it builds the schedule, so a value read in the
schedule function would come too late, and a module-level read would freeze whatever the
importing process happened to have. A change takes effect on the next load (restart
``dagster dev``, or "Reload" the code location in the UI).

Each tick asks Xero's ``/connections`` which tenants are connected now, so a tenant that
disconnected an hour ago is not attempted; run keys are ``daily:<date>:<tenant>``, and a
tenant whose run of the day is going or succeeded is skipped (``ran_today``), so neither a
re-evaluated tick nor a later tick of the same day starts a tenant twice.
"""

import os
import zoneinfo
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import date, datetime

import dagster as dg

from xero_pipeline.defs.jobs import SYNC_JOB
from xero_pipeline.defs.partitions import TENANT_PARTITIONS_NAME
from xero_pipeline.defs.resources import XeroResource
from xero_pipeline.defs.tenant_names import tenant_tags
from xero_pipeline.defs.tenant_records import recorded_disconnection
from xero_pipeline.errors import ConfigError, XeroPipelineError

SCHEDULE_NAME = "xero_daily"
DEFAULT_CRON = "0 2 * * *"
DEFAULT_TIMEZONE = "UTC"


def schedule_settings(env: Mapping[str, str] | None = None) -> tuple[str, str]:
    """(cron, timezone) from XERO_SCHEDULE_CRON / XERO_SCHEDULE_TIMEZONE, checked."""
    env = os.environ if env is None else env
    cron = (env.get("XERO_SCHEDULE_CRON") or DEFAULT_CRON).strip()
    tz = (env.get("XERO_SCHEDULE_TIMEZONE") or DEFAULT_TIMEZONE).strip()
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"XERO_SCHEDULE_TIMEZONE={tz!r} is not a timezone name; use an IANA name such as UTC or Pacific/Auckland"
        ) from None
    return cron, tz


def run_key(day: date, tenant_id: str) -> str:
    return f"daily:{day.isoformat()}:{tenant_id}"


def ran_today(instance: dg.DagsterInstance, key: str) -> bool:
    """Has a run with this day's key started, or finished well? Dagster skips a run key
    only within one tick, so a second tick the same day (``0 2-5 * * *``) would start the
    tenant again; one that failed or was canceled is tried again."""
    runs = instance.get_runs(dg.RunsFilter(tags={"dagster/run_key": key}), limit=20)
    return any(r.status not in (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED) for r in runs)


@dataclass(frozen=True)
class DailyPlan:
    tenants: list[str]
    notes: list[str]


def plan_daily_runs(
    *, connected: Sequence[str] | None, known: Sequence[str], disconnected: Set[str] = frozenset()
) -> DailyPlan:
    """Which tenants get today's run.

    ``connected`` is Xero's answer (``None`` when Xero could not be asked): a tenant runs
    when it is connected and a ``xero_tenant`` partition. Without an answer, the known
    partitions minus those the tenant sensor recorded as disconnected still run: if the
    app's token is what is broken, each run fails with that error and the health check
    reports it per tenant, which is more useful than one silent skipped tick.
    """
    notes: list[str] = []
    if connected is None:
        tenants = [t for t in known if t not in disconnected]
        notes.append(f"Xero's /connections could not be read; scheduling the {len(tenants)} tenant(s) last known connected")
        return DailyPlan(tenants, notes)
    live = set(connected)
    tenants = [t for t in known if t in live]
    unregistered = [t for t in connected if t not in set(known)]
    if unregistered:
        notes.append(
            f"{len(unregistered)} connected tenant(s) are not partitions yet ({', '.join(unregistered)}); "
            "the xero_tenants sensor registers them and starts their first sync"
        )
    gone = [t for t in known if t not in live]
    if gone:
        notes.append(f"not scheduling {len(gone)} disconnected tenant(s): {', '.join(gone)}")
    return DailyPlan(tenants, notes)


def build_daily_schedule(env: Mapping[str, str] | None = None) -> dg.ScheduleDefinition:
    cron, tz = schedule_settings(env)
    decorator = dg.schedule(
        name=SCHEDULE_NAME,
        job_name=SYNC_JOB,
        cron_schedule=cron,
        execution_timezone=tz,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=(
            f"Daily sync ({cron}, {tz}; XERO_SCHEDULE_CRON / XERO_SCHEDULE_TIMEZONE): one xero_sync run per "
            "connected tenant: every Xero object, the reports and the ledger views. Disconnected tenants are skipped."
        ),
    )

    def xero_daily(context: dg.ScheduleEvaluationContext, xero: XeroResource):
        when = context.scheduled_execution_time or datetime.now(zoneinfo.ZoneInfo(tz))
        day = when.astimezone(zoneinfo.ZoneInfo(tz)).date()
        known = list(context.instance.get_dynamic_partitions(TENANT_PARTITIONS_NAME))
        names: dict[str, str] = {}
        try:
            names = xero.get_client().organisations().names
            connected: list[str] | None = list(names)
            disconnected: set[str] = set()
        except XeroPipelineError as exc:
            context.log.warning(f"could not list Xero connections: {exc}")
            connected = None
            disconnected = {t for t in known if recorded_disconnection(context.instance, t)}
        plan = plan_daily_runs(connected=connected, known=known, disconnected=disconnected)
        for note in plan.notes:
            context.log.info(note)
        if not plan.tenants:
            return dg.SkipReason(f"no connected tenant to sync on {day}. " + " ".join(plan.notes))
        tenants = [t for t in plan.tenants if not ran_today(context.instance, run_key(day, t))]
        if not tenants:
            return dg.SkipReason(f"every connected tenant has its run of {day} going or done")
        context.log.info(f"{day}: one run for each of {len(tenants)} tenant(s)"
                         + (f"; {len(plan.tenants) - len(tenants)} already ran today" if len(tenants) < len(plan.tenants)
                            else ""))
        return [
            dg.RunRequest(
                run_key=run_key(day, tenant),
                partition_key=tenant,
                tags={**tenant_tags(tenant, names.get(tenant)), "xero/trigger": "schedule"},
            )
            for tenant in tenants
        ]

    try:  # the cron string is checked when the function is decorated
        return decorator(xero_daily)
    except dg.DagsterInvalidDefinitionError as exc:
        raise ConfigError(f"XERO_SCHEDULE_CRON={cron!r} is not a cron schedule such as '0 2 * * *': {exc}") from None
