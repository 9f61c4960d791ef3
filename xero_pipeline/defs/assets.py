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
from xero_pipeline.defs.descriptions import describe, describe_child
from xero_pipeline.defs.materializations import CURSOR_KEY, stored_cursor
from xero_pipeline.defs.partitions import tenant_partitions
from xero_pipeline.defs.resources import WarehouseResource, XeroResource
from xero_pipeline.errors import XeroApiError
from xero_pipeline.registry import OBJECTS, RETIRED, XeroObject
from xero_pipeline.sync.access import Endpoint, NotAvailable
from xero_pipeline.sync.objects import SyncResult, sync_object
from xero_pipeline.sync.reading import throttled
from xero_pipeline.warehouse.shaping import TableShape, child_shape, parent_shape
from xero_pipeline.warehouse.spool import spool_root

GROUP = "xero"
RETIRED_GROUP = "xero_retired"
KINDS = {"xero", "duckdb"}
# Who answers for these tables (shown and filterable in the UI); a team, not a person, so it survives rota changes.
OWNERS = ["team:data-platform"]
ITEM_COUNT_KEY = "xero/item_count"  # pagination.itemCount of the sync's first page
ITEM_COUNT_SINCE_KEY = "xero/item_count_since"  # the If-Modified-Since it counted from ("" = all)
READ_STARTED_KEY = "xero/read_started"  # Xero's clock at that first page
DAY_LIMIT_KEY = "day_limit"  # the plan's daily calls per tenant, from the Xero resource
PROGRESS_SECONDS = 10.0  # at most one progress line this often per step


def asset_key(table: str) -> dg.AssetKey:
    return dg.AssetKey([GROUP, table])


def column_schema(shape: TableShape) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(c.name, c.sql_type) for c in shape.columns.values()])


def _parent_metadata(result: SyncResult, shape: TableShape, *, day_limit: int) -> dict[str, object]:
    load = result.load
    meta: dict[str, object] = {
        CURSOR_KEY: dg.MetadataValue.text(result.cursor or ""),
        "dagster/row_count": dg.MetadataValue.int(load.row_count),
        "dagster/column_schema": column_schema(shape),
        "sync_mode": dg.MetadataValue.text(result.mode),
        "rows_read": dg.MetadataValue.int(result.records_read),
        "rows_inserted": dg.MetadataValue.int(load.inserted),
        "rows_updated": dg.MetadataValue.int(load.updated),
        "rows_unchanged": dg.MetadataValue.int(load.unchanged),
        "rows_deleted": dg.MetadataValue.int(load.deleted),
        # One number per sync for the UI's plot: how much this run changed the table.
        "rows_changed": dg.MetadataValue.int(load.inserted + load.updated + load.deleted),
        "api_calls": dg.MetadataValue.int(result.api_calls),
        "pages": dg.MetadataValue.int(result.pages),
        "day_limit_remaining": dg.MetadataValue.int(result.day_remaining if result.day_remaining is not None else -1),
        DAY_LIMIT_KEY: dg.MetadataValue.int(day_limit),
        "seconds": dg.MetadataValue.float(round(result.seconds, 3)),
        "new_columns": dg.MetadataValue.text(", ".join(load.new_columns) or "none"),
        # Columns altered to a wider type so no value Xero sent was rounded or refused.
        "columns_widened": dg.MetadataValue.text(", ".join(map(str, load.widened)) or "none"),
        # instance: the instance's cursor agreed with the warehouse's sync state; warehouse:
        # they differed and the warehouse's was used; full: nothing to trust, read whole.
        "cursor_source": dg.MetadataValue.text(result.cursor_source),
        "cursor_mismatch": dg.MetadataValue.text(result.cursor_mismatch or ""),
        # The If-Modified-Since read that ends a read of several pages.
        "closing_calls": dg.MetadataValue.int(result.closing_calls),
        # False: the day's calls ran out first; what was read is committed and the next
        # run continues from the checkpoint (see sync.checkpoints). Not a failure.
        "sync_complete": dg.MetadataValue.bool(result.complete),
        "stopped_by": dg.MetadataValue.text(result.stopped_by or ""),
        "commits": dg.MetadataValue.int(result.commits),
    }
    if result.progress:
        meta["catch_up"] = dg.MetadataValue.json(result.progress)
    if result.item_count is not None:
        since = result.item_count_since
        meta[ITEM_COUNT_KEY] = dg.MetadataValue.int(result.item_count)
        meta[ITEM_COUNT_SINCE_KEY] = dg.MetadataValue.text(since.isoformat() if since else "")
        started = result.read_started
        meta[READ_STARTED_KEY] = dg.MetadataValue.text(started.isoformat() if started else "")
    return meta


def catch_up_line(result: SyncResult) -> str:
    """One line on an unfinished read: why it stopped, how far it got, what happens next."""
    why = {"daily_budget": "the day's call allowance is reached", "xero_day_limit": "Xero's daily limit is spent",
           "parked": "Xero's daily limit is still spent"}.get(result.stopped_by or "", result.stopped_by or "")
    p = result.progress
    if "last_journal_number" in p:
        where = "no journals yet" if not p["last_journal_number"] else (
            f"journals up to #{p['last_journal_number']}"
            + (f" (dated {p['last_journal_date']})" if p.get("last_journal_date") else ""))
    else:
        where = f"{p.get('pages_done', 0)} of {p.get('page_count') or '?'} pages"
    runs = p.get("runs_left")
    more = f"; about {max(1, round(runs))} more run(s) at this pace" if runs else ""
    return f"catching up: {why}; committed {where}{more}. The next run continues from there."


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
        dg.AssetSpec(asset_key(obj.table), description=describe(obj), group_name=GROUP, kinds=KINDS,
                     tags={"xero/cursor": obj.cursor.value}, owners=OWNERS),
        *(
            dg.AssetSpec(asset_key(c.table), description=describe_child(obj, c.table), group_name=GROUP, kinds=KINDS,
                         owners=OWNERS)
            for c in obj.children
        ),
    ]

    # dagster/priority orders the ready steps of a run: what must not starve comes first.
    @dg.multi_asset(name=f"xero_{obj.table}", specs=specs, partitions_def=tenant_partitions,
                    description=describe(obj), op_tags={"dagster/priority": str(obj.run_priority)})
    def _sync(
        context: dg.AssetExecutionContext, xero: XeroResource, warehouse: WarehouseResource
    ) -> Iterator[dg.MaterializeResult]:
        tenant = context.partition_key
        key = asset_key(obj.table)
        endpoint, gate = Endpoint.of_object(obj), access_gate(xero, warehouse, tenant)
        tables = {obj.table: key, **{c.table: asset_key(c.table) for c in obj.children}}
        cursor = stored_cursor(context.instance, key, tenant)
        context.log.info(f"tenant {tenant}: syncing {obj.table}"
                         + (f"; the instance's cursor is {cursor}" if cursor else ""))
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
                # Beside the warehouse, so a killed sync's spool is swept by the next one.
                spool_root=spool_root(warehouse.path()),
            )
        except NotAvailable as exc:
            yield from unavailable_results(context, tenant, endpoint, exc.gone, tables)
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
        shape = parent_shape(obj)
        meta = _parent_metadata(result, shape, day_limit=xero.daily_call_limit)
        yield dg.MaterializeResult(asset_key=key, metadata=meta)
        for child in obj.children:
            rows = result.load.child_rows.get(child.table, 0)
            meta = {
                "dagster/row_count": dg.MetadataValue.int(result.load.child_row_count.get(child.table, 0)),
                "rows_written": dg.MetadataValue.int(rows),
                "dagster/column_schema": column_schema(child_shape(obj, child)),
            }
            if child.hard_deletes:
                meta["rows_deleted"] = dg.MetadataValue.int(result.load.child_deleted.get(child.table, 0))
            yield dg.MaterializeResult(asset_key=asset_key(child.table), metadata=meta)

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
