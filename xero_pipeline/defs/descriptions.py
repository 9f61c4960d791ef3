"""What the UI says about each object's assets: how it syncs, its table and key, its quirks.

The asset factory (``assets``) passes these texts as the assets' descriptions; they are
written for someone browsing the asset catalog who wants to know what a row is and how
fresh it can be.
"""

from __future__ import annotations

from xero_pipeline.registry import Cursor, XeroObject
from xero_pipeline.warehouse.shaping import child_shape, parent_shape


def _how_it_syncs(obj: XeroObject) -> str:
    if obj.cursor is Cursor.IMS:
        how = (
            "Incremental: each sync asks Xero only for records changed since the previous sync "
            "(If-Modified-Since, cursor in the materialization metadata) and upserts them. Once a week "
            "(the Xero resource's `reconcile_every_days`) it reads the whole collection instead, to catch changes "
            "Xero does not timestamp and records it deletes outright."
        )
    elif obj.cursor is Cursor.JOURNAL_NUMBER:
        how = "Incremental by JournalNumber: journals never change, so each sync reads only newer ones."
    else:
        how = (
            "Full snapshot: each sync reads the whole collection; rows Xero no longer returns "
            "are kept with `_deleted_at` set."
        )
    paging = {
        "page_size": "Reads up to 1,000 rows per call (the Xero resource's `page_size`).",
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
    owner = f"{obj.schema}'s {child.field}"
    if child.within:
        outer = obj.child(child.within)
        owner = f"{outer.schema}'s {child.field} (within `xero.{outer.table}`) of each {obj.schema}"
    text = (
        f"Xero {obj.path} {child.field}: one row per element of each {owner}, "
        f"in table `xero.{table}`, key ({', '.join(child_shape(obj, child).key)}). Written in the same "
        f"transaction as `xero.{obj.table}` and replaced whenever the parent changes."
    )
    if child.hard_deletes:
        text += (" Xero deletes these without a trace; rows it no longer returns stay with `_deleted_at` set "
                 "(filter `_deleted_at IS NULL` for the live set).")
    return text
