"""What the webhook sensor does with new events: pure logic, no Dagster.

Events are thin (tenant, category, resource), and every mapped object honours
If-Modified-Since, so a burst of any size costs one incremental read per object: the plan
is one run per tenant with the union of its events' objects. Events that cannot lead to a
run are recorded with the reason, so nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from xero_pipeline.registry import BY_WEBHOOK_CATEGORY
from xero_pipeline.webhooks.store import StoredEvent


@dataclass
class TenantRun:
    tenant_id: str
    tables: set[str] = field(default_factory=set)
    event_ids: list[int] = field(default_factory=list)

    @property
    def run_key(self) -> str:
        # From the events, so a tick evaluated again after a crash asks for the same run and
        # Dagster adds nothing.
        return f"webhook:{self.tenant_id}:{self.event_ids[0]}-{self.event_ids[-1]}"


@dataclass(frozen=True)
class WaitingRun:
    """A sync run of the tenant still in the queue: its reads have not started."""

    run_id: str
    tables: frozenset[str] | None  # None: every object


@dataclass(frozen=True)
class WebhookPlan:
    runs: list[TenantRun]  # to request
    joined: list[tuple[TenantRun, str]]  # covered by a queued run (its id): it will read the changes anyway
    skipped: list[tuple[int, str]]  # (event id, why no run)
    last_event_id: int  # the new cursor


def plan_webhook_runs(events: Sequence[StoredEvent], tenants: Collection[str], cursor: int,
                      waiting: Mapping[str, Sequence[WaitingRun]] | None = None) -> WebhookPlan:
    """``tenants``: the xero_tenant partitions (the tenants connected and registered);
    ``waiting``: each tenant's queued sync runs, which a new run would only duplicate."""
    by_lower = {t.lower(): t for t in tenants}
    runs: dict[str, TenantRun] = {}
    skipped: list[tuple[int, str]] = []
    for event in events:
        obj = BY_WEBHOOK_CATEGORY.get(event.category)
        tenant = by_lower.get(event.tenant_id.lower())
        if obj is None:
            skipped.append((event.id, f"category {event.category} is not synced from webhooks (mapped: "
                                      f"{', '.join(sorted(BY_WEBHOOK_CATEGORY))})"))
        elif tenant is None:
            skipped.append((event.id, f"tenant {event.tenant_id} is not a registered xero_tenant partition "
                                      "(not connected, or the tenant sensor has not seen it yet)"))
        else:
            run = runs.setdefault(tenant, TenantRun(tenant))
            run.tables.add(obj.table)
            run.event_ids.append(event.id)
    last = max([cursor, *(e.id for e in events)])
    requested, joined = [], []
    for run in runs.values():
        cover = next((w for w in (waiting or {}).get(run.tenant_id, ())
                      if w.tables is None or run.tables <= w.tables), None)
        if cover is None:
            requested.append(run)
        else:
            joined.append((run, cover.run_id))
    return WebhookPlan(requested, joined, skipped, last)
