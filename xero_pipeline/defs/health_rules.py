"""Tenant health rules: the verdict for one tenant from what the instance recorded (pure).

``tenant_records`` gathers the facts from the Dagster instance and ``health`` turns the
verdict into the ``tenant_health`` check; the rules here know nothing of either, so
each rule is tested with facts made by hand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from xero_pipeline.xero.limits import DEFAULT_DAILY_CALLS


@dataclass(frozen=True)
class FailedRun:
    run_id: str
    ended_at: datetime
    error_classes: frozenset[str]
    message: str
    # The objects ("xero/journals") the run was to sync and did not; empty when not known.
    objects: tuple[str, ...] = ()


@dataclass(frozen=True)
class CatchUp:
    """An object whose last sync stopped before the end (the day's calls ran out)."""

    progress: Mapping[str, object]  # the materialization's catch_up metadata (see sync.objects._progress)
    rows_read: int  # by that sync
    previous_rows_read: int | None = None  # by the sync before it, if that one stopped short too
    previous_complete: bool = False  # the sync before it read to the end: only today's refresh was missed


@dataclass(frozen=True)
class TenantFacts:
    """What the instance knows about one tenant; gathered by ``gather_facts``."""

    tenant_id: str
    # Each object's last sync ("xero/invoices" -> when it was last materialized for the tenant),
    # whichever run did it: a run where another object failed still synced this one.
    synced: Mapping[str, datetime] = field(default_factory=dict)
    failures: tuple[FailedRun, ...] = ()  # finished sync runs since the last that succeeded, newest first
    day_limit_remaining: int | None = None
    day_limit: int = DEFAULT_DAILY_CALLS  # the plan's daily calls, as the last sync recorded it
    budget_read_at: datetime | None = None
    disconnected_at: datetime | None = None
    # Objects Xero does not serve to this app ("xero/journals" -> why), from their latest
    # materializations: information, not a concern (they still sync as "not available").
    unavailable: Mapping[str, str] = field(default_factory=dict)
    catching_up: Mapping[str, CatchUp] = field(default_factory=dict)  # "xero/journals" -> its catch-up
    # When the tenant's latest webhook event arrived (None: it never sent one, so it is not subscribed).
    last_webhook_at: datetime | None = None

    @property
    def last_success_at(self) -> datetime | None:
        """The tenant's latest sync of any object."""
        return max(self.synced.values(), default=None)


STALE_AFTER = timedelta(hours=26)
WEBHOOK_SILENT_AFTER = timedelta(hours=48)  # a quiet organisation may change nothing for a day
NEAR_LIMIT_SHARE = 0.1  # warn when a tenant has a tenth of its plan's daily calls left
BUDGET_WINDOW = timedelta(hours=24)  # Xero's day is rolling: older readings say nothing about now
AUTH_ERRORS = frozenset({"XeroAuthError"})
LIMIT_ERRORS = frozenset({"XeroDailyLimitError"})


@dataclass(frozen=True)
class Concern:
    code: str  # stable, for change detection: stale, token, daily_limit, near_limit, failed, ...
    error: bool
    text: str


@dataclass(frozen=True)
class TenantHealth:
    tenant_id: str
    concerns: tuple[Concern, ...]
    summary: str
    hours_since_success: float | None
    day_limit_remaining: int | None
    unavailable: Mapping[str, str] = field(default_factory=dict)  # see TenantFacts.unavailable

    @property
    def passed(self) -> bool:
        return not self.concerns

    @property
    def failing(self) -> bool:
        """An error, not a warning: somebody must act."""
        return any(f.error for f in self.concerns)

    @property
    def signature(self) -> str:
        return ",".join(sorted(f.code for f in self.concerns)) or "ok"

    @property
    def description(self) -> str:
        if self.passed:
            return f"Healthy: {self.summary}."
        return " ".join(f"{f.text[0].upper()}{f.text[1:]}." for f in self.concerns)


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
    near_limit_calls: int | None = None,
    webhook_silent_after: timedelta = WEBHOOK_SILENT_AFTER,
) -> TenantHealth:
    """The verdict for one tenant. Pure: every input is in ``facts``."""
    age = now - facts.last_success_at if facts.last_success_at else None
    hours = round(age.total_seconds() / 3600, 2) if age else None
    budget = facts.day_limit_remaining
    if budget is not None and (facts.budget_read_at is None or now - facts.budget_read_at > BUDGET_WINDOW):
        budget = None
    findings: list[Concern] = []
    if near_limit_calls is None:
        near_limit_calls = int(facts.day_limit * NEAR_LIMIT_SHARE)

    if facts.disconnected_at is not None:
        # Not expected to sync any more, so staleness is no alarm; the flag is the point.
        findings.append(Concern(
            "disconnected", False,
            f"disconnected from the Xero app since {_when(facts.disconnected_at)}: its data is kept and it is no "
            "longer scheduled; reconnect the organisation in Xero to resume",
        ))
        return TenantHealth(facts.tenant_id, tuple(findings), "disconnected", hours, budget)

    latest = facts.failures[0] if facts.failures else None
    if latest and latest.error_classes & AUTH_ERRORS:
        findings.append(Concern(
            "token", True,
            # The error's own text says what to do (re-authorise, fix the credentials).
            f"Xero rejects the app's tokens (run {latest.run_id[:8]} at {_when(latest.ended_at)}): {latest.message}",
        ))
    elif latest and latest.error_classes & LIMIT_ERRORS:
        findings.append(Concern(
            "daily_limit", False,
            f"Xero's daily call limit for this tenant ran out in run {latest.run_id[:8]} at "
            f"{_when(latest.ended_at)}; the next run continues from where it stopped",
        ))
    elif latest and latest.objects:
        # The run's other objects synced: only these are behind.
        findings.append(Concern(
            "failed", False,
            f"the latest run {latest.run_id[:8]} ({_when(latest.ended_at)}) did not sync {_names(latest.objects)}: "
            f"{latest.message}",
        ))
    elif latest:
        findings.append(Concern(
            "failed", False,
            f"the latest run {latest.run_id[:8]} failed at {_when(latest.ended_at)}: {latest.message}",
        ))
    if budget is not None and budget <= near_limit_calls and not (latest and latest.error_classes & LIMIT_ERRORS) \
            and not facts.catching_up:  # a catch-up spends the day on purpose and says so itself
        findings.append(Concern(
            "near_limit", False,
            f"only {budget:,} of Xero's daily calls are left for this tenant (as of {_when(facts.budget_read_at)}); "
            "syncs may stop short until the rolling 24 h window frees calls",
        ))

    findings += _catch_up(facts, now=now)
    if facts.last_webhook_at is not None and now - facts.last_webhook_at > webhook_silent_after:
        # Xero disables a webhook after 24 h of failed deliveries and says so only by email;
        # the syncs go on, but changes then wait for the daily run.
        findings.append(Concern(
            "webhooks_silent", False,
            f"no Xero webhook event for {_hours(now - facts.last_webhook_at)} (last at "
            f"{_when(facts.last_webhook_at)}): check that `xero-pipeline webhooks` runs and is reachable, and that "
            "the webhook is not disabled in the Xero developer portal (re-enable it there)",
        ))
    if facts.last_success_at is None:
        if facts.failures:
            findings.append(Concern(
                "never_synced", True, f"it has never synced successfully (its last {len(facts.failures)} run(s) failed)"
            ))
        else:
            findings.append(Concern("first_sync_pending", False, "its first sync has not finished yet"))
    elif behind := _behind(facts, now=now, stale_after=stale_after):
        findings.append(Concern("stale", True, behind))

    summary = f"last successful sync {_hours(age)} ago" if age is not None else "never synced"
    if budget is not None:
        summary += f", {budget:,} daily Xero calls left"
    if facts.unavailable:
        summary += f"; not available to this app (Xero withholds them): {_names(sorted(facts.unavailable))}"
    return TenantHealth(facts.tenant_id, tuple(findings), summary, hours, budget, facts.unavailable)


def _catch_up(facts: TenantFacts, *, now: datetime) -> list[Concern]:
    """Progress of reads that span several days: information while they move, an error once they do not."""
    if not facts.catching_up:
        return []
    parts, stuck, waiting = [], [], []
    for name, c in sorted(facts.catching_up.items()):
        if c.previous_complete and c.rows_read == 0:
            waiting.append(name)  # up to date as of its last sync; today's calls ran out before its turn
            continue
        p = c.progress
        if "last_journal_number" in p:
            where = f"journals up to #{p['last_journal_number']:,}" if p.get("last_journal_number") else "no journals yet"
            if p.get("last_journal_date"):
                where += f" (dated {p['last_journal_date']})"
        else:
            where = f"{p.get('pages_done', 0)} of {p.get('page_count') or '?'} pages"
        runs = p.get("runs_left")
        if isinstance(runs, int | float) and runs > 0:
            days = max(1, round(runs))
            where += f", about {days} more daily run(s) (done around {(now + timedelta(days=days)):%Y-%m-%d})"
        parts.append(f"{name}: {where}")
        if c.rows_read == 0 and c.previous_rows_read == 0:
            stuck.append(name)
    out = []
    if parts:
        out.append(Concern("catching_up", False, "catching up, a few days' calls at a time: " + "; ".join(parts)))
    if waiting:
        out.append(Concern("deferred", False, f"not refreshed in the latest run, whose calls for the day ran out "
                                              f"before their turn: {_names(waiting)} (current as of their last sync)"))
    if stuck:
        out.append(Concern(
            "no_progress", True,
            f"no progress in the last two syncs of {_names(stuck)}: each stopped before reading anything (the "
            "tenant's daily calls are spent before these objects' turn); raise the plan or reserve fewer calls",
        ))
    return out


def _names(objects: Sequence[str], shown: int = 6) -> str:
    more = f" and {len(objects) - shown} more" if len(objects) > shown else ""
    return ", ".join(objects[:shown]) + more


def _behind(facts: TenantFacts, *, now: datetime, stale_after: timedelta) -> str:
    """Which objects have not synced within ``stale_after``, in words ("" when none)."""
    expected = f"expected within {_hours(stale_after)}"
    old = sorted((t, o) for o, t in facts.synced.items() if now - t > stale_after)
    parts: list[str] = []
    if old and len(old) == len(facts.synced):
        last = facts.last_success_at or old[-1][0]
        parts.append(f"no successful sync for {_hours(now - last)} (last at {_when(last)}; {expected})")
    elif len(old) == 1:
        (t, o), = old
        parts.append(f"no sync of {o} for {_hours(now - t)} (last at {_when(t)}; {expected}); the other objects "
                     "are up to date")
    elif old:
        listed = _names([f"{o} ({_hours(now - t)})" for t, o in old])
        parts.append(f"no sync within {_hours(stale_after)} of {len(old)} objects: {listed}; the other objects "
                     "are up to date")
    # An object that failed in every run since the last full success, and never synced before.
    latest = facts.failures[0] if facts.failures else None
    never = [o for o in (latest.objects if latest else ()) if o not in facts.synced]
    since = facts.failures[-1].ended_at if facts.failures else now
    if never and now - since > stale_after:
        parts.append(f"no sync ever of {_names(never)} (every run since {_when(since)} failed)")
    return "; ".join(parts)
