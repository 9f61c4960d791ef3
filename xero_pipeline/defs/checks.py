"""Asset checks on every warehouse table, per tenant (the rules are in ``check_rules``).

An object's checks run in the object's own sync step (``check_specs`` of its
multi-asset), on the connection of the sync's last commit: a tenant's run has one step
per object, not two, and checking what a sync wrote opens the warehouse no extra time.
Selecting only the checks (in the UI, or a job of checks) runs them without syncing, from
what the last sync recorded. The trial balance is the exception: it compares journals
with the TrialBalance report, loaded by another step, so it is a check step of its own
that runs after both.

Per tenant: the checks are partitioned by tenant like the assets (``AssetCheckSpec``
with ``partitions_def``, a preview feature in Dagster 1.13), so every evaluation is
stored against its tenant partition and the UI shows a check's status per
organisation. Because the feature is a preview, each result also carries ``tenant_id``
in its metadata and names the tenant in its description, so nothing is lost if
evaluations are viewed without their partition. The alternative, unpartitioned checks
reporting the last tenant that ran, would let one tenant's pass hide another's failure.

A check that cannot compare (the trial balance before the report table exists, the item
count of a read the day's calls cut short) yields no result and logs why: Dagster shows
a planned check that a successful run did not evaluate as skipped, which is the truth,
where a WARN failure would not be. So do all the checks of an object Xero does not make
available to this app (``defs.availability``).
"""

import warnings
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import datetime
from typing import Any

import dagster as dg

from xero_pipeline.defs.availability import was_unavailable
from xero_pipeline.defs.keys import ITEM_COUNT_KEY, ITEM_COUNT_SINCE_KEY, READ_STARTED_KEY, asset_key
from xero_pipeline.defs.materializations import latest_metadata
from xero_pipeline.defs.partitions import tenant_partitions
from xero_pipeline.defs.resources import WarehouseResource, XeroResource
from xero_pipeline.defs.tenant_names import named_check, tenant_name
from xero_pipeline.registry import BY_TABLE, OBJECTS, Paging, XeroObject
from xero_pipeline.sync.objects import ReadFacts
from xero_pipeline.warehouse.check_rules import (
    REPORT_TABLE,
    WARN,
    Finding,
    check_item_count,
    check_journals_balance,
    check_keys,
    check_table_keys,
    check_totals,
    check_trial_balance,
    not_evaluated,
)
from xero_pipeline.warehouse.connection import Connection
from xero_pipeline.warehouse.shaping import (
    child_shape,
    parent_key_column,
    parent_shape,
    snake,
)
from xero_pipeline.warehouse.tables import table_exists
from xero_pipeline.warehouse.tenants import KEY as TENANT_KEY
from xero_pipeline.warehouse.tenants import TABLE as TENANTS_TABLE
from xero_pipeline.xero.dates import parse_iso

KEY_CHECK = "primary_key"
ITEM_COUNT_CHECK = "item_count_matches_xero"
BALANCE_CHECK = "journals_balance"
TOTALS_CHECK = "totals_match_lines"
TRIAL_BALANCE_CHECK = "trial_balance_matches_report"
WHOLE_READ_CHECKS = frozenset({ITEM_COUNT_CHECK, TRIAL_BALANCE_CHECK})

Rule = Callable[[Connection, str, ReadFacts], Finding]
Log = Callable[[str], None]


def check_result(key: dg.AssetCheckKey, finding: Finding) -> dg.AssetCheckResult:
    severity = dg.AssetCheckSeverity.WARN if finding.severity == WARN else dg.AssetCheckSeverity.ERROR
    return dg.AssetCheckResult(
        asset_key=key.asset_key, check_name=key.name, passed=finding.passed, severity=severity,
        description=finding.description, metadata=finding.metadata,
    )


def recorded_facts(metadata: dict[str, Any]) -> ReadFacts:
    """The facts of the last sync's read, from its materialization (checks run on their own)."""

    def when(name: str) -> datetime | None:
        raw = metadata.get(name) or ""
        return parse_iso(raw) if raw else None

    count = metadata.get(ITEM_COUNT_KEY)
    return ReadFacts(complete=metadata.get("sync_complete") is not False,
                     item_count=None if count is None else int(count),
                     item_count_since=when(ITEM_COUNT_SINCE_KEY), read_started=when(READ_STARTED_KEY))


def _item_count_rule(obj: XeroObject) -> Rule:
    updated = snake(obj.updated_field or "UpdatedDateUTC")

    def rule(conn: Connection, tenant: str, facts: ReadFacts) -> Finding:
        if facts.item_count is None:
            return not_evaluated(tenant, f"the last sync of {obj.table} recorded no itemCount",
                                 {"tenant_id": tenant})
        return check_item_count(conn, obj.table, updated, tenant, item_count=facts.item_count,
                                since=facts.item_count_since, read_started=facts.read_started)

    return rule


def _has_totals(obj: XeroObject) -> bool:
    from xero_pipeline.registry.fields import field_kinds

    kinds = field_kinds(obj.schema)
    return any(c.field == "LineItems" and not c.within for c in obj.children) and all(
        f in kinds for f in ("SubTotal", "TotalTax", "Total", "LineAmountTypes"))


def check_spec(name: str, table: str, description: str, deps: Sequence[str] = (),
               dep_keys: Sequence[dg.AssetKey] = ()) -> dg.AssetCheckSpec:
    """A check of ``table``'s asset, per tenant, run after the assets of ``deps`` (tables) and ``dep_keys``."""
    with warnings.catch_warnings():
        # Partitioned check specs are a preview in Dagster 1.13 (see the module docstring).
        warnings.simplefilter("ignore", category=dg.PreviewWarning)
        return dg.AssetCheckSpec(name, asset=asset_key(table), description=description,
                                 partitions_def=tenant_partitions,
                                 additional_deps=[*(asset_key(d) for d in deps), *dep_keys] or None)


def object_rules(obj: XeroObject) -> list[tuple[dg.AssetCheckSpec, Rule]]:
    """The checks of one object and its child tables that its sync step runs: (spec, rule)."""
    out: list[tuple[dg.AssetCheckSpec, Rule]] = []
    shapes = [parent_shape(obj), *(child_shape(obj, c) for c in obj.children)]
    for shape in shapes:
        def keys(conn, tenant, _facts, shape=shape) -> Finding:
            return check_keys(conn, shape.table, shape.key, tenant)
        out.append((check_spec(KEY_CHECK, shape.table,
                               f"({', '.join(shape.key)}) is unique and never NULL for the tenant."), keys))
    if obj.paging is Paging.PAGE_SIZE:
        out.append((check_spec(ITEM_COUNT_CHECK, obj.table,
                               "Xero's pagination.itemCount for the last sync's read equals the warehouse rows "
                               "of that read window."), _item_count_rule(obj)))
    if _has_totals(obj):
        lines = next(c.table for c in obj.children if c.field == "LineItems" and not c.within)
        pk = parent_key_column(obj)

        def totals(conn, tenant, _facts, lines=lines, pk=pk) -> Finding:
            return check_totals(conn, obj.table, pk, lines, tenant)
        out.append((check_spec(TOTALS_CHECK, obj.table, "SubTotal = sum(LineAmount) (less TotalTax when "
                               "tax-inclusive) and Total = SubTotal + TotalTax."), totals))
    if obj.table == "journals":
        out.append((check_spec(BALANCE_CHECK, obj.table, "Every live journal has lines and they net to zero."),
                    lambda conn, tenant, _facts: check_journals_balance(conn, tenant)))
    return out


def evaluate(conn: Connection, obj: XeroObject, tenant: str, facts: ReadFacts,
             rules: Sequence[tuple[dg.AssetCheckSpec, Rule]], selected: Collection[dg.AssetCheckKey],
             log: Log, warn: Log) -> list[dg.AssetCheckResult]:
    """The results of the selected rules; a rule that cannot compare is logged, not a result."""
    todo = [(s.key, rule) for s, rule in rules if s.key in selected]
    if not facts.complete:
        # A read the day's calls cut short holds a true subset of Xero: keys and totals can be
        # judged, but not whether the whole read window is there yet.
        for key in [k for k, _ in todo if k.name in WHOLE_READ_CHECKS]:
            log(f"{key.asset_key.to_user_string()} {key.name}: not compared while {obj.table} is catching up "
                f"(its last sync stopped early); compared once it completes")
        todo = [(k, rule) for k, rule in todo if k.name not in WHOLE_READ_CHECKS]
    if todo and not table_exists(conn, obj.table):
        log(f"{obj.table}: nothing synced for tenant {tenant} yet; no check to run")
        return []
    results = []
    for key, rule in todo:
        finding = rule(conn, tenant, facts)
        if not finding.evaluated:
            # No result: Dagster records the planned check as skipped, not failed.
            log(f"{key.asset_key.to_user_string()} {key.name}: {finding.description}")
            continue
        if not finding.passed:
            warn(f"{key.asset_key.to_user_string()} {key.name}: {finding.description}")
        results.append(check_result(key, finding))
    return results


def check_only(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext, obj: XeroObject, tenant: str,
               rules: Sequence[tuple[dg.AssetCheckSpec, Rule]],
               warehouse: WarehouseResource) -> list[dg.AssetCheckResult]:
    """The selected ``rules`` of ``obj`` without a sync, against what its last sync recorded."""
    key = asset_key(obj.table)
    if reason := was_unavailable(context.instance, key, tenant):
        context.log.info(f"tenant {tenant}: {obj.table} is not available to this app, so its checks are not "
                         f"evaluated: {reason}")
        return []
    facts = recorded_facts(latest_metadata(context.instance, key, tenant))
    # Held briefly and through the resource, so it waits for another writer like a merge does.
    with warehouse.get_connection() as conn:
        return evaluate(conn, obj, tenant, facts, rules, context.selected_asset_check_keys,
                        context.log.info, context.log.warning)


def build_trial_balance_check() -> dg.AssetChecksDefinition:
    """Journals against Xero's TrialBalance report: a step of its own, after both are loaded."""
    journals = BY_TABLE["journals"]
    spec = check_spec(TRIAL_BALANCE_CHECK, journals.table,
                      "Balances summed from journal lines equal Xero's TrialBalance report "
                      "(xero.report_trial_balance) at the report's date; skipped until the report is loaded.",
                      # After the report in a run that loads both: compare fresh with fresh.
                      deps=[REPORT_TABLE])

    rules: list[tuple[dg.AssetCheckSpec, Rule]] = [
        (spec, lambda conn, tenant, _facts: check_trial_balance(conn, tenant))]

    @dg.multi_asset_check(name="xero_journals_trial_balance", specs=[spec], can_subset=True)
    def _trial_balance(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource, xero: XeroResource
    ) -> Iterator[dg.AssetCheckResult]:
        tenant = context.partition_key
        results = check_only(context, journals, tenant, rules, warehouse)
        name = tenant_name(context, xero) if results else ""
        yield from (named_check(r, tenant, name) for r in results)

    return _trial_balance


@dg.asset_check(asset=asset_key(TENANTS_TABLE), name=KEY_CHECK, description="tenant_id is unique and never NULL.")
def tenants_key_check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    # xero.tenants is not partitioned (see tenants_asset), so neither is its check.
    with warehouse.get_connection() as conn:
        finding = check_table_keys(conn, TENANTS_TABLE, (TENANT_KEY,))
    return dg.AssetCheckResult(passed=finding.passed, description=finding.description, metadata=finding.metadata)


def build_checks(objects: Sequence[XeroObject] = OBJECTS) -> list[dg.AssetChecksDefinition]:
    """The check steps outside the objects' own steps: the trial balance, when journals are synced."""
    return [build_trial_balance_check()] if any(o.table == "journals" for o in objects) else []
