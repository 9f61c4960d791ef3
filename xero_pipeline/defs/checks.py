"""Asset checks on every warehouse table, per tenant (the rules are in ``check_rules``).

One ``multi_asset_check`` per Xero object covers the object's table and its child
tables, so a tenant's run gets one check step per object (not one per table): each step
opens the warehouse once, after the object's sync step.

Per tenant: the checks are partitioned by tenant like the assets (``AssetCheckSpec``
with ``partitions_def``, a preview feature in Dagster 1.13), so every evaluation is
stored against its tenant partition and the UI shows a check's status per
organisation. Because the feature is a preview, each result also carries ``tenant_id``
in its metadata and names the tenant in its description, so nothing is lost if
evaluations are viewed without their partition. The alternative, unpartitioned checks
reporting the last tenant that ran, would let one tenant's pass hide another's failure.

A check that cannot compare (the trial balance before the report table exists) yields
no result and logs why: Dagster shows a planned check that a successful run did not
evaluate as skipped, which is the truth, where a WARN failure would not be. So do all
the checks of an object Xero does not make available to this app (``defs.availability``).
"""

import warnings
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

import dagster as dg

from xero_pipeline.defs.assets import (
    ITEM_COUNT_KEY,
    ITEM_COUNT_SINCE_KEY,
    READ_STARTED_KEY,
    asset_key,
)
from xero_pipeline.defs.availability import was_unavailable
from xero_pipeline.defs.materializations import latest_metadata
from xero_pipeline.defs.partitions import tenant_partitions
from xero_pipeline.defs.resources import WarehouseResource
from xero_pipeline.registry import OBJECTS, Paging, XeroObject
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

Rule = Callable[[Connection, str, dg.AssetCheckExecutionContext], Finding]


def _result(key: dg.AssetCheckKey, finding: Finding) -> dg.AssetCheckResult:
    severity = dg.AssetCheckSeverity.WARN if finding.severity == WARN else dg.AssetCheckSeverity.ERROR
    return dg.AssetCheckResult(
        asset_key=key.asset_key, check_name=key.name, passed=finding.passed, severity=severity,
        description=finding.description, metadata=finding.metadata,
    )


def _item_count_rule(obj: XeroObject) -> Rule:
    updated = snake(obj.updated_field or "UpdatedDateUTC")

    def rule(conn: Connection, tenant: str, context: dg.AssetCheckExecutionContext) -> Finding:
        meta = latest_metadata(context.instance, asset_key(obj.table), tenant)
        count = meta.get(ITEM_COUNT_KEY)
        if count is None:
            return not_evaluated(tenant, f"the last sync of {obj.table} recorded no itemCount",
                                 {"tenant_id": tenant})

        def when(name: str) -> datetime | None:
            raw = meta.get(name) or ""
            return parse_iso(raw) if raw else None

        return check_item_count(conn, obj.table, updated, tenant, item_count=int(count),
                                since=when(ITEM_COUNT_SINCE_KEY), read_started=when(READ_STARTED_KEY))

    return rule


def _has_totals(obj: XeroObject) -> bool:
    from xero_pipeline.registry.fields import field_kinds

    kinds = field_kinds(obj.schema)
    return any(c.field == "LineItems" and not c.within for c in obj.children) and all(
        f in kinds for f in ("SubTotal", "TotalTax", "Total", "LineAmountTypes"))


def object_rules(obj: XeroObject) -> list[tuple[dg.AssetCheckSpec, Rule]]:
    """Every check of one object and its child tables: (spec, rule)."""
    with warnings.catch_warnings():
        # Partitioned check specs are a preview in Dagster 1.13 (see the module docstring).
        warnings.simplefilter("ignore", category=dg.PreviewWarning)

        def spec(name: str, table: str, description: str, deps: Sequence[str] = ()) -> dg.AssetCheckSpec:
            return dg.AssetCheckSpec(name, asset=asset_key(table), description=description,
                                     partitions_def=tenant_partitions,
                                     additional_deps=[asset_key(d) for d in deps] or None)

        out: list[tuple[dg.AssetCheckSpec, Rule]] = []
        shapes = [parent_shape(obj), *(child_shape(obj, c) for c in obj.children)]
        for shape in shapes:
            def keys(conn, tenant, _ctx, shape=shape) -> Finding:
                return check_keys(conn, shape.table, shape.key, tenant)
            out.append((spec(KEY_CHECK, shape.table,
                             f"({', '.join(shape.key)}) is unique and never NULL for the tenant."), keys))
        if obj.paging is Paging.PAGE_SIZE:
            out.append((spec(ITEM_COUNT_CHECK, obj.table,
                             "Xero's pagination.itemCount for the last sync's read equals the warehouse rows of "
                             "that read window."), _item_count_rule(obj)))
        if _has_totals(obj):
            lines = next(c.table for c in obj.children if c.field == "LineItems" and not c.within)
            pk = parent_key_column(obj)

            def totals(conn, tenant, _ctx, lines=lines, pk=pk) -> Finding:
                return check_totals(conn, obj.table, pk, lines, tenant)
            out.append((spec(TOTALS_CHECK, obj.table, "SubTotal = sum(LineAmount) (less TotalTax when "
                             "tax-inclusive) and Total = SubTotal + TotalTax."), totals))
        if obj.table == "journals":
            out.append((spec(BALANCE_CHECK, obj.table, "Every live journal has lines and they net to zero."),
                        lambda conn, tenant, _ctx: check_journals_balance(conn, tenant)))
            out.append((spec(TRIAL_BALANCE_CHECK, obj.table,
                             "Balances summed from journal lines equal Xero's TrialBalance report "
                             "(xero.report_trial_balance) at the report's date; skipped until the "
                             "report is loaded.",
                             # After the report in a run that loads both: compare fresh with fresh.
                             deps=[REPORT_TABLE]),
                        lambda conn, tenant, _ctx: check_trial_balance(conn, tenant)))
        return out


def build_object_checks(obj: XeroObject) -> dg.AssetChecksDefinition:
    rules = object_rules(obj)
    by_key = {s.key: rule for s, rule in rules}

    @dg.multi_asset_check(name=f"xero_{obj.table}_checks", specs=[s for s, _ in rules], can_subset=True)
    def _checks(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> Iterator[dg.AssetCheckResult]:
        tenant = context.partition_key
        if reason := was_unavailable(context.instance, asset_key(obj.table), tenant):
            context.log.info(f"tenant {tenant}: {obj.table} is not available to this app, so its checks are not "
                             f"evaluated: {reason}")
            return
        selected = [k for k in by_key if k in context.selected_asset_check_keys]
        # A read the day's calls cut short holds a true subset of Xero: keys and totals can be
        # judged, but not whether the whole read window or the ledger is there yet.
        if latest_metadata(context.instance, asset_key(obj.table), tenant).get("sync_complete") is False:
            for key in [k for k in selected if k.name in WHOLE_READ_CHECKS]:
                context.log.info(f"{key.asset_key.to_user_string()} {key.name}: not compared while {obj.table} "
                                 f"is catching up (its last sync stopped early); compared once it completes")
                selected.remove(key)
        # Held briefly and through the resource, so it waits for another writer like a merge does.
        with warehouse.get_connection() as conn:
            if not table_exists(conn, obj.table):
                context.log.info(f"{obj.table}: nothing synced for tenant {tenant} yet; no check to run")
                return
            findings = [(key, by_key[key](conn, tenant, context)) for key in selected]
        for key, finding in findings:
            if not finding.evaluated:
                # No result: Dagster records the planned check as skipped, not failed.
                context.log.info(f"{key.asset_key.to_user_string()} {key.name}: {finding.description}")
                continue
            if not finding.passed:
                context.log.warning(f"{key.asset_key.to_user_string()} {key.name}: {finding.description}")
            yield _result(key, finding)

    return _checks


@dg.asset_check(asset=asset_key(TENANTS_TABLE), name=KEY_CHECK, description="tenant_id is unique and never NULL.")
def tenants_key_check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    # xero.tenants is not partitioned (see tenants_asset), so neither is its check.
    with warehouse.get_connection() as conn:
        finding = check_table_keys(conn, TENANTS_TABLE, (TENANT_KEY,))
    return dg.AssetCheckResult(passed=finding.passed, description=finding.description, metadata=finding.metadata)


def build_checks(objects: Sequence[XeroObject] = OBJECTS) -> list[dg.AssetChecksDefinition]:
    return [build_object_checks(obj) for obj in objects]
