"""What each warehouse column holds, in words: for the column schemas the UI shows.

A column filled from a Xero field carries Xero's own description of that field (from the
OpenAPI spec, ``registry.descriptions``); the columns the pipeline adds carry ours.
Pure: no I/O, the shapes come from ``shaping``.
"""

from __future__ import annotations

from xero_pipeline.registry import Child, XeroObject
from xero_pipeline.registry.descriptions import field_descriptions
from xero_pipeline.registry.fields import enum_values, field_kinds
from xero_pipeline.warehouse.shaping import TableShape, outer_column, parent_key_column
from xero_pipeline.warehouse.tenants import COLUMNS as TENANT_COLUMNS

TENANT_ID = ("The Xero tenant id of the organisation the row belongs to: the asset's partition key "
             "(xero.tenants has its name).")
# Ours, on every table that has them (see shaping and merge).
PIPELINE_COLUMNS = {
    "tenant_id": TENANT_ID,
    "_hash": "Digest of the record as Xero sent it; a sync compares it to tell changed records from unchanged.",
    "_synced_at": "When (UTC) the sync that last wrote this row ran.",
    "_deleted_at": ("When (UTC) a sync found that Xero no longer returns the record (deleted outright, without "
                    "a status); NULL while it is live. Filter `_deleted_at IS NULL` for the live set."),
    "_position": "0-based position of the element in its parent's array, in Xero's order.",
    "_parent_position": "0-based position, in the parent record, of the element this one is nested in.",
}


def _undescribed(schema: str, field: str, kind: str) -> str:
    """Our words for a field the spec leaves undescribed: mostly nested objects and enums."""
    if kind.startswith("array:"):
        return f"Xero's {field} (a list of {kind.removeprefix('array:')}), as JSON."
    if kind.startswith("object:"):
        what = kind.removeprefix("object:")
        return f"Xero's {field} object, as JSON." if what == field else f"Xero's {field} (a {what}), as JSON."
    values = enum_values(schema, field)
    return f"Xero's {field}: one of {', '.join(values)}." if values else ""


def _xero_columns(shape: TableShape, schema: str) -> dict[str, str]:
    xero, kinds = field_descriptions(schema), field_kinds(schema)
    docs = {}
    for f, (column, _) in shape.fields.items():
        text = xero.get(f) or _undescribed(schema, f, kinds.get(f, ""))
        if text:
            docs[column] = text
    for f, (column, id_field) in shape.id_columns.items():
        docs[column] = f"The {id_field} of `{shape.fields[f][0]}`, copied out of that JSON so it can be joined on."
    return docs


def object_column_docs(obj: XeroObject, shape: TableShape) -> dict[str, str]:
    """Column -> description for the table of ``obj`` (``shape`` is its ``parent_shape``)."""
    return {**_xero_columns(shape, obj.schema), **{c: t for c, t in PIPELINE_COLUMNS.items() if c in shape.columns}}


def child_column_docs(obj: XeroObject, child: Child, shape: TableShape) -> dict[str, str]:
    """Column -> description for a child table of ``obj`` (``shape`` is its ``child_shape``)."""
    parent = parent_key_column(obj)
    docs = {**_xero_columns(shape, child.schema), **{c: t for c, t in PIPELINE_COLUMNS.items() if c in shape.columns}}
    docs[parent] = f"The {obj.primary_key} of the {obj.schema} the row belongs to (xero.{obj.table}.{parent})."
    if child.within:
        outer = obj.child(child.within)
        ref = outer_column(outer)
        if ref != "_parent_position":
            docs[ref] = f"The {outer.key} of the xero.{outer.table} row this element is nested in."
    return docs


def tenant_column_docs() -> dict[str, str]:
    """Column -> description for ``xero.tenants`` (Xero's identity API describes /connections)."""
    xero = field_descriptions("Connection")
    docs = {name: xero[source] for name, _, source in TENANT_COLUMNS if source and xero.get(source)}
    docs["disconnected_at"] = ("When (UTC) a read of /connections first found the tenant gone; NULL while it is "
                               "connected (cleared if it reconnects).")
    docs["_synced_at"] = "When (UTC) the xero/tenants run that last wrote this row ran."
    return docs
