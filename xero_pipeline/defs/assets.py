"""The asset factory: one multi-asset per registry entry (the object and its child tables).

Each Xero object is a software-defined asset ``xero/<table>``, partitioned by tenant;
its child tables (``xero/invoice_line_items`` ...) are materialized by the same step
because they are written in the same transaction as their parents. The step reads the
partition's last cursor from the instance, syncs, and records the new cursor in the
materialization metadata, which Dagster stores only after the step succeeded, i.e.
after the warehouse committed. The sync uses that cursor only when the warehouse's own
sync state agrees with it (``sync.cursors.choose_cursor``); otherwise it reads from
what the warehouse holds, logs one warning and says so in ``cursor_source`` and
``cursor_mismatch``.

An endpoint Xero refuses to this app for scope or tier (401 AuthorizationUnsuccessful:
classic expenses for apps created since 2026, Journals below the Advanced tier) is not
available, not failed: the step succeeds and says why (``defs.availability``), and
Xero is asked again at most every ``recheck_unavailable_days`` or when the granted
scopes change (``sync.access``). Any other 401/403/404 for that one path fails only its
own step, with a message naming the cause; the in-process executor carries on with
the run's other steps. A retired endpoint (Employees) is an asset in its own group,
outside the sync job, that fails at once without calling Xero.
"""


from collections.abc import Iterator, Sequence

import dagster as dg

from xero_pipeline.defs.availability import access_gate, unavailable_results
from xero_pipeline.defs.checks import check_only, evaluate, object_rules
from xero_pipeline.defs.descriptions import describe, describe_child
from xero_pipeline.defs.keys import (
    GROUP,
    KINDS,
    asset_key,
)
from xero_pipeline.defs.materializations import stored_cursor
from xero_pipeline.defs.partitions import tenant_partitions
from xero_pipeline.defs.resources import WarehouseResource, XeroResource
from xero_pipeline.defs.sync_metadata import catch_up_line, materializations
from xero_pipeline.defs.tenant_names import named_check, tenant_name
from xero_pipeline.errors import XeroApiError
from xero_pipeline.registry import OBJECTS, RETIRED, XeroObject
from xero_pipeline.sync.access import Endpoint, NotAvailable
from xero_pipeline.sync.objects import ReadFacts, sync_object
from xero_pipeline.sync.reading import throttled
from xero_pipeline.warehouse.connection import Connection
from xero_pipeline.warehouse.spool import spool_root

RETIRED_GROUP = "xero_retired"
# Who answers for these tables (shown and filterable in the UI); a team, not a person, so it survives rota changes.
OWNERS = ["team:data-platform"]
PROGRESS_SECONDS = 10.0  # at most one progress line this often per step


def refusal(obj: XeroObject, tenant: str, exc: XeroApiError) -> dg.Failure:
    """The failure of an endpoint Xero answers 403 or 404 for, naming the likely cause.

    (A 401 AuthorizationUnsuccessful is not a failure: see ``defs.availability``.)"""
    if exc.status == 403:
        cause = "forbidden_for_app_or_plan"
        why = f"the app or its plan is not allowed {obj.path}"
    else:
        cause = "not_served"
        why = f"Xero does not serve {obj.path} to this app"
    if obj.gated:
        why = f"{obj.gated} ({why})"
    text = (
        f"tenant {tenant}: Xero refused {obj.path} with {exc.status} ({exc.xero_message.split('.')[0]}): {why}. "
        f"Nothing was written to xero.{obj.table}; the other objects of this run are unaffected. "
        f"Deselect xero/{obj.table} if the app is not meant to read it."
    )
    return dg.Failure(
        description=text,
        metadata={
            "tenant_id": tenant,
            "endpoint": obj.path,
            "http_status": exc.status,
            "cause": cause,
            "scope": obj.scope,
            "xero_message": exc.xero_message[:500],
        },
        allow_retries=False,
    )


def build_object_asset(obj: XeroObject) -> dg.AssetsDefinition:
    specs = [
        # A writable object is synced after its outbox is pushed (``defs.writeback``).
        dg.AssetSpec(asset_key(obj.table), description=describe(obj), group_name=GROUP, kinds=KINDS,
                     tags={"xero/cursor": obj.cursor.value}, owners=OWNERS,
                     deps=[dg.AssetKey(["writeback", obj.table])] if obj.writes is not None else []),
        *(
            dg.AssetSpec(asset_key(c.table), description=describe_child(obj, c.table), group_name=GROUP, kinds=KINDS,
                         owners=OWNERS)
            for c in obj.children
        ),
    ]

    rules = object_rules(obj)
    own_keys = {spec.key for spec in specs}

    # dagster/priority orders the ready steps of a run: what must not starve comes first.
    # can_subset: the object's checks can be run on their own (without syncing); a sync
    # writes the object and its child tables together whichever of them is selected.
    @dg.multi_asset(name=f"xero_{obj.table}", specs=specs, check_specs=[spec for spec, _ in rules],
                    partitions_def=tenant_partitions, can_subset=True, description=describe(obj),
                    op_tags={"dagster/priority": str(obj.run_priority)})
    def _sync(
        context: dg.AssetExecutionContext, xero: XeroResource, warehouse: WarehouseResource
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        tenant = context.partition_key
        selected = context.selected_asset_keys & own_keys
        checks = context.selected_asset_check_keys
        if not selected:
            checked_only = check_only(context, obj, tenant, rules, warehouse)
            name = tenant_name(context, xero) if checked_only else ""
            yield from (named_check(r, tenant, name) for r in checked_only)
            return
        key = asset_key(obj.table)
        endpoint, gate = Endpoint.of_object(obj), access_gate(xero, warehouse, tenant)
        tables = {obj.table: key, **{c.table: asset_key(c.table) for c in obj.children}}
        cursor = stored_cursor(context.instance, key, tenant)
        context.log.info(f"tenant {tenant}: syncing {obj.table}"
                         + (f"; the instance's cursor is {cursor}" if cursor else ""))
        checked: list[dg.AssetCheckResult] = []

        def verify(conn: Connection, facts: ReadFacts) -> None:
            checked.extend(evaluate(conn, obj, tenant, facts, rules, checks, context.log.info, context.log.warning))

        try:
            result = sync_object(
                obj,
                client=xero.get_client(),
                tenant_id=tenant,
                connect=warehouse.get_connection,
                cursor=cursor,
                page_size=xero.page_size,
                reconcile_every_days=xero.reconcile_every_days,
                checkpoint_pages=xero.checkpoint_pages,
                gate=gate,
                progress=throttled(lambda line: context.log.info(f"tenant {tenant}: {line}"), seconds=PROGRESS_SECONDS),
                warn=lambda line: context.log.warning(f"tenant {tenant}: {line}"),
                # Beside the warehouse (a DuckLake's: on this machine), so a killed sync's spool is
                # swept by the next one.
                spool_root=spool_root(warehouse.local_base()),
                verify=verify if checks else None,
            )
        except NotAvailable as exc:
            # Nothing of the object to check: its planned checks are recorded as skipped.
            yield from (r for r in unavailable_results(context, tenant, endpoint, exc.gone, tables)
                        if r.asset_key in selected)
            return
        except XeroApiError as exc:
            if exc.status not in (403, 404):
                raise
            raise refusal(obj, tenant, exc) from None
        if gate.had_refusal:
            context.log.info(f"tenant {tenant}: Xero serves {obj.path} to this app again")
        context.log.info(
            f"tenant {tenant}: {obj.table} {result.mode}: read {result.records_read} in {result.api_calls} calls, "
            f"{result.load.inserted} new, {result.load.updated} changed, {result.load.deleted} deleted, "
            f"{result.load.row_count} rows now"
        )
        if not result.complete:
            context.log.warning(f"tenant {tenant}: {obj.table}: {catch_up_line(result)}")
        for change in result.load.widened:
            context.log.warning(f"tenant {tenant}: widened {change}: Xero sent values the old type could not hold")
        # A selected child without its parent still syncs (they are written together); only
        # what was selected is recorded, and the next sync reads from the warehouse's state.
        name = tenant_name(context, xero)
        yield from (r for r in materializations(obj, result, day_limit=xero.daily_call_limit, tenant_name=name)
                    if r.asset_key in selected)
        yield from (named_check(r, tenant, name) for r in checked)

    return _sync


def retired_message(obj: XeroObject) -> str:
    return (
        f"Xero retired the {obj.path} endpoint on {obj.retired}; there is nothing to read, so no call was made. "
        f"{obj.notes}".strip()
    )


def build_retired_asset(obj: XeroObject) -> dg.AssetsDefinition:
    """An asset for an endpoint Xero removed: it fails at once and says why."""

    @dg.asset(name=obj.table, key_prefix=[GROUP], group_name=RETIRED_GROUP, partitions_def=tenant_partitions,
              kinds=KINDS, description=f"Retired: {retired_message(obj)}", tags={"xero/retired": obj.retired})
    def _retired(context: dg.AssetExecutionContext) -> None:
        raise dg.Failure(
            description=f"tenant {context.partition_key}: {retired_message(obj)}",
            metadata={"tenant_id": context.partition_key, "endpoint": obj.path, "retired_on": obj.retired,
                      "cause": "retired"},
            allow_retries=False,
        )

    return _retired


def build_assets(objects: Sequence[XeroObject] = OBJECTS) -> list[dg.AssetsDefinition]:
    return [build_object_asset(obj) for obj in objects]


def build_retired_assets(objects: Sequence[XeroObject] = RETIRED) -> list[dg.AssetsDefinition]:
    return [build_retired_asset(obj) for obj in objects]
