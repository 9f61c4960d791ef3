"""What a sync step records in Dagster: the materializations of an object and its child
tables (row counts, column schemas, the cursor, what the read cost), and the line that
explains a read the day's calls cut short."""

from __future__ import annotations

import dagster as dg

from xero_pipeline.defs.keys import (
    DAY_LIMIT_KEY,
    ITEM_COUNT_KEY,
    ITEM_COUNT_SINCE_KEY,
    READ_STARTED_KEY,
    asset_key,
)
from xero_pipeline.defs.materializations import CURSOR_KEY
from xero_pipeline.defs.tenant_names import name_metadata
from xero_pipeline.registry import XeroObject
from xero_pipeline.sync.objects import SyncResult
from xero_pipeline.warehouse.column_docs import child_column_docs, object_column_docs
from xero_pipeline.warehouse.shaping import TableShape, child_shape, parent_shape


def column_schema(shape: TableShape, docs: dict[str, str]) -> dg.TableSchema:
    """The table's columns with their types and what each holds (Xero's words or ours)."""
    return dg.TableSchema(columns=[dg.TableColumn(c.name, c.sql_type, description=docs.get(c.name))
                                   for c in shape.columns.values()])


def _parent_metadata(obj: XeroObject, result: SyncResult, *, day_limit: int) -> dict[str, object]:
    load = result.load
    shape = parent_shape(obj)
    meta: dict[str, object] = {
        CURSOR_KEY: dg.MetadataValue.text(result.cursor or ""),
        "dagster/row_count": dg.MetadataValue.int(load.row_count),
        "dagster/column_schema": column_schema(shape, object_column_docs(obj, shape)),
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




def materializations(obj: XeroObject, result: SyncResult, *, day_limit: int,
                     tenant_name: str = "") -> list[dg.MaterializeResult]:
    """The object's materialization (with the cursor), then one per child table."""
    named = name_metadata(tenant_name)
    out = [dg.MaterializeResult(asset_key=asset_key(obj.table),
                                metadata={**named, **_parent_metadata(obj, result, day_limit=day_limit)})]
    for child in obj.children:
        shape = child_shape(obj, child)
        meta = {
            **named,
            "dagster/row_count": dg.MetadataValue.int(result.load.child_row_count.get(child.table, 0)),
            "rows_written": dg.MetadataValue.int(result.load.child_rows.get(child.table, 0)),
            "dagster/column_schema": column_schema(shape, child_column_docs(obj, child, shape)),
        }
        if child.hard_deletes:
            meta["rows_deleted"] = dg.MetadataValue.int(result.load.child_deleted.get(child.table, 0))
        out.append(dg.MaterializeResult(asset_key=asset_key(child.table), metadata=meta))
    return out
