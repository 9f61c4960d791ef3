"""The asset factory: one multi-asset per registry entry (the object and its child tables).

Each Xero object is a software-defined asset ``xero/<table>``, partitioned by tenant;
its child tables (``xero/invoice_line_items`` ...) are materialized by the same step
because they are written in the same transaction as their parents. The step reads the
partition's last cursor from the instance, syncs, and records the new cursor in the
materialization metadata, which Dagster stores only after the step succeeded, i.e.
after the warehouse committed.
"""


from collections.abc import Iterator, Sequence

import dagster as dg

from xero_pipeline.cursors import CURSOR_KEY, stored_cursor
from xero_pipeline.partitions import tenant_partitions
from xero_pipeline.registry import OBJECTS, Cursor, XeroObject
from xero_pipeline.resources import WarehouseResource, XeroResource
from xero_pipeline.shaping import TableShape, child_shape, parent_shape
from xero_pipeline.sync import SyncResult, sync_object

GROUP = "xero"
KINDS = {"xero", "duckdb"}


def asset_key(table: str) -> dg.AssetKey:
    return dg.AssetKey([GROUP, table])


def _how_it_syncs(obj: XeroObject) -> str:
    if obj.cursor is Cursor.IMS:
        how = (
            "Incremental: each sync asks Xero only for records changed since the previous sync "
            "(If-Modified-Since, cursor in the materialization metadata) and upserts them."
        )
    elif obj.cursor is Cursor.JOURNAL_NUMBER:
        how = "Incremental by JournalNumber: journals never change, so each sync reads only newer ones."
    else:
        how = (
            "Full snapshot: each sync reads the whole collection; rows Xero no longer returns "
            "are kept with `_deleted_at` set."
        )
    paging = {
        "page_size": "Read 1,000 rows per call.",
        "page_only": "Xero pages this endpoint at a fixed 100 rows per call.",
        "offset": "Read 100 journals per call, oldest first.",
        "none": "One call returns the whole collection.",
    }[obj.paging.value]
    return f"{how} {paging}"


def describe(obj: XeroObject) -> str:
    children = ", ".join(f"`xero.{c.table}`" for c in obj.children)
    parts = [
        f"Xero {obj.path}: {obj.summary}. Table `xero.{obj.table}`, key (tenant_id, {parent_shape(obj).key[1]}).",
        _how_it_syncs(obj),
    ]
    if children:
        parts.append(f"Child tables: {children}, replaced whenever their parent changes.")
    if obj.notes:
        parts.append(obj.notes)
    parts.append(f"Needs the Xero scope `{obj.scope}`.")
    return " ".join(parts)


def describe_child(obj: XeroObject, table: str) -> str:
    child = obj.child(table)
    return (
        f"Xero {obj.path} {child.field}: one row per element of each {obj.schema}'s {child.field}, "
        f"in table `xero.{table}`, key ({', '.join(child_shape(obj, child).key)}). Written in the same "
        f"transaction as `xero.{obj.table}` and replaced whenever the parent changes."
    )


def column_schema(shape: TableShape) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(c.name, c.sql_type) for c in shape.columns.values()])


def _parent_metadata(result: SyncResult, shape: TableShape) -> dict[str, object]:
    load = result.load
    return {
        CURSOR_KEY: dg.MetadataValue.text(result.cursor or ""),
        "dagster/row_count": dg.MetadataValue.int(load.row_count),
        "dagster/column_schema": column_schema(shape),
        "sync_mode": dg.MetadataValue.text(result.mode),
        "rows_read": dg.MetadataValue.int(result.records_read),
        "rows_inserted": dg.MetadataValue.int(load.inserted),
        "rows_updated": dg.MetadataValue.int(load.updated),
        "rows_unchanged": dg.MetadataValue.int(load.unchanged),
        "rows_deleted": dg.MetadataValue.int(load.deleted),
        "api_calls": dg.MetadataValue.int(result.api_calls),
        "pages": dg.MetadataValue.int(result.pages),
        "day_limit_remaining": dg.MetadataValue.int(result.day_remaining if result.day_remaining is not None else -1),
        "seconds": dg.MetadataValue.float(round(result.seconds, 3)),
        "new_columns": dg.MetadataValue.text(", ".join(load.new_columns) or "none"),
    }


def build_object_asset(obj: XeroObject) -> dg.AssetsDefinition:
    specs = [
        dg.AssetSpec(asset_key(obj.table), description=describe(obj), group_name=GROUP, kinds=KINDS,
                     tags={"xero/cursor": obj.cursor.value}),
        *(
            dg.AssetSpec(asset_key(c.table), description=describe_child(obj, c.table), group_name=GROUP, kinds=KINDS)
            for c in obj.children
        ),
    ]

    @dg.multi_asset(name=f"xero_{obj.table}", specs=specs, partitions_def=tenant_partitions,
                    description=describe(obj))
    def _sync(
        context: dg.AssetExecutionContext, xero: XeroResource, warehouse: WarehouseResource
    ) -> Iterator[dg.MaterializeResult]:
        tenant = context.partition_key
        key = asset_key(obj.table)
        cursor = stored_cursor(context.instance, key, tenant)
        context.log.info(f"tenant {tenant}: syncing {obj.table} " + (f"since {cursor}" if cursor else "(full)"))
        result = sync_object(
            obj,
            client=xero.get_client(),
            tenant_id=tenant,
            connect=warehouse.get_connection,
            cursor=cursor,
            page_size=xero.page_size,
            progress=lambda line: context.log.info(f"tenant {tenant}: {line}"),
        )
        context.log.info(
            f"tenant {tenant}: {obj.table} {result.mode}: read {result.records_read} in {result.api_calls} calls, "
            f"{result.load.inserted} new, {result.load.updated} changed, {result.load.deleted} deleted, "
            f"{result.load.row_count} rows now"
        )
        shape = parent_shape(obj)
        yield dg.MaterializeResult(asset_key=key, metadata=_parent_metadata(result, shape))
        for child in obj.children:
            rows = result.load.child_rows.get(child.table, 0)
            yield dg.MaterializeResult(
                asset_key=asset_key(child.table),
                metadata={
                    "dagster/row_count": dg.MetadataValue.int(result.load.child_row_count.get(child.table, 0)),
                    "rows_written": dg.MetadataValue.int(rows),
                    "dagster/column_schema": column_schema(child_shape(obj, child)),
                },
            )

    return _sync


def build_assets(objects: Sequence[XeroObject] = OBJECTS) -> list[dg.AssetsDefinition]:
    return [build_object_asset(obj) for obj in objects]
