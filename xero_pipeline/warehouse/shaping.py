"""Turn Xero records into warehouse rows: names, types and child rows.

Pure functions and small classes, no I/O: given parsed JSON (numbers as ``Decimal``),
this module decides tables, columns and rows (``values`` converts each value), ``merge``
writes them. Most records reach the warehouse as JSON text and are shaped by ``typed``
instead, straight from the text; this module is the reference it must agree with, and
shapes every record that path leaves to it.

Rules a warehouse user relies on:

* column names are Xero's field names in snake_case (``UpdatedDateUTC`` ->
  ``updated_date_utc``), and every table starts with ``tenant_id``;
* ``x-is-msdate`` fields are ``DATE``, ``x-is-msdate-time`` fields ``TIMESTAMP`` (UTC),
  money and quantities ``DECIMAL`` (never float), nested objects and arrays that are not
  child tables ``JSON``;
* a nested object with an id (``Contact.ContactID``) also gets a flat ``contact_id``
  column, because that is what people join on;
* a field Xero adds tomorrow becomes a new column with a type inferred from its value,
  instead of failing the load; a number makes it ``DECIMAL``, never ``BIGINT`` (only the
  spec makes a column an integer);
* a value its column cannot hold exactly widens the column (``values.wider_kind``)
  instead of being rounded or failing the load; ``widening`` widens the table to match.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from xero_pipeline.registry import Child, XeroObject
from xero_pipeline.registry.fields import field_kinds
from xero_pipeline.warehouse.values import (
    CONVERTERS,
    Column,
    Misfit,
    convert_string,
    infer_kind,
    sql_kind,
    wider_kind,
)

# Fields that only carry the outcome of a write request; a read has nothing useful in them.
WRITE_ONLY_FIELDS = frozenset(
    {"ValidationErrors", "Warnings", "StatusAttributeString", "HasErrors", "HasValidationErrors"}
)
_CAMEL_1 = re.compile(r"([a-z0-9])([A-Z])")
_CAMEL_2 = re.compile(r"([A-Z]+)([A-Z][a-z])")


def snake(name: str) -> str:
    """``InvoiceID`` -> ``invoice_id``, ``UpdatedDateUTC`` -> ``updated_date_utc``."""
    return _CAMEL_1.sub(r"\1_\2", _CAMEL_2.sub(r"\1_\2", name)).lower()


@dataclass
class TableShape:
    """The columns of one warehouse table and how each Xero field fills them."""

    table: str
    key: tuple[str, ...]  # always starts with tenant_id
    columns: dict[str, Column]  # by column name, in table order
    fields: dict[str, tuple[str, str]]  # Xero field -> (column, kind)
    id_columns: dict[str, tuple[str, str]]  # nested object field -> (column, id field)
    skip: frozenset[str] = frozenset()  # child arrays and write-only fields
    added: list[Column] = field(default_factory=list)  # columns Xero sent but the spec lacks
    # How each column is typed in the warehouse table, when that is wider than its kind
    # here; set by ``widening.widen_columns`` inside the merge, read by the spool reader.
    stored: dict[str, str] = field(default_factory=dict)
    _plan: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    def _learn(self, xero_field: str, value: Any) -> tuple[str, str]:
        name = snake(xero_field)
        kind = infer_kind(value)
        while name in self.columns:  # never collide with a known column
            name += "_"
        col = Column(name, kind)
        self.columns[name] = col
        self.fields[xero_field] = (name, kind)
        self.added.append(col)
        self._plan = None
        return name, kind

    def _widen(self, column: str, kind: str, value: Any) -> str:
        wider = wider_kind(kind, value)
        self.columns[column] = Column(column, wider)
        for xero_field, (name, _) in list(self.fields.items()):
            if name == column:
                self.fields[xero_field] = (name, wider)
        self.added = [Column(column, wider) if c.name == column else c for c in self.added]
        self._plan = None
        return wider

    def _compiled(self) -> dict[str, tuple[str, str, Any, tuple[str, str] | None] | None]:
        """Per Xero field: (column, kind, converter, flat id column), or None to skip it.

        One dict lookup per value instead of three; rebuilt whenever a column is learned
        or widened."""
        plan = self._plan
        if plan is None:
            plan = {f: None for f in self.skip}
            for xero_field, (column, kind) in self.fields.items():
                plan[xero_field] = (column, kind, CONVERTERS[kind], self.id_columns.get(xero_field))
            self._plan = plan
        return plan

    def row(self, record: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
        """One warehouse row: ``base`` (tenant and parent keys) plus the record's fields."""
        out = dict(base)
        plan = self._plan or self._compiled()
        for xero_field, value in record.items():
            try:
                spec = plan[xero_field]
            except KeyError:
                if value is None:
                    continue
                self._learn(xero_field, value)
                spec = self._compiled()[xero_field]
            if spec is None:
                continue
            column, kind, convert, flat = spec
            if type(value) is str and convert is convert_string:  # most values: no call
                out[column] = value
                continue
            try:
                out[column] = convert(value)
            except Misfit:
                # Rows spooled before keep their values: each kind's spool text reads
                # into any wider kind (widening.spool_read_type; only a number spooled
                # before its column turned JSON lands as a JSON string of its digits).
                out[column] = CONVERTERS[self._widen(column, kind, value)](value)
            if flat is not None and isinstance(value, dict):
                out[flat[0]] = value.get(flat[1])
        return out


def _build_shape(
    table: str, schema: str, key: tuple[str, ...], lead: list[Column], skip: Iterable[str]
) -> TableShape:
    skip = frozenset(skip) | WRITE_ONLY_FIELDS
    columns = {c.name: c for c in lead}
    fields: dict[str, tuple[str, str]] = {}
    id_columns: dict[str, tuple[str, str]] = {}
    kinds = field_kinds(schema)
    for xero_field, spec_kind in kinds.items():
        if xero_field in skip:
            continue
        name, kind = snake(xero_field), sql_kind(spec_kind)
        if name in columns:  # a lead column such as the primary key: fill it, do not add it
            fields[xero_field] = (name, columns[name].kind)
            continue
        columns[name] = Column(name, kind)
        fields[xero_field] = (name, kind)
    for xero_field, spec_kind in kinds.items():
        if xero_field in skip or not spec_kind.startswith("object:"):
            continue
        target = spec_kind.removeprefix("object:")
        id_field = f"{target}ID"
        flat = f"{snake(xero_field)}_id"
        if id_field in field_kinds(target) and flat not in columns:
            columns[flat] = Column(flat, "string")
            id_columns[xero_field] = (flat, id_field)
    return TableShape(table, key, columns, fields, id_columns, skip)


PARENT_META = [Column("_hash", "string"), Column("_synced_at", "msdatetime"), Column("_deleted_at", "msdatetime")]


def parent_shape(obj: XeroObject) -> TableShape:
    pk = snake(obj.primary_key)
    lead = [Column("tenant_id", "string"), Column(pk, sql_kind(field_kinds(obj.schema)[obj.primary_key]))]
    shape = _build_shape(obj.table, obj.schema, ("tenant_id", pk), lead, (c.field for c in obj.children))
    for col in PARENT_META:
        shape.columns[col.name] = col
    return shape


def parent_key_column(obj: XeroObject) -> str:
    return snake(obj.primary_key)


def outer_column(outer: Child) -> str:
    """The column a nested child uses to name the element it sits in (line_item_id...)."""
    return snake(outer.key) if outer.key else "_parent_position"


def child_shape(obj: XeroObject, child: Child) -> TableShape:
    parent_col = parent_key_column(obj)
    lead = [Column("tenant_id", "string"), Column(parent_col, "string")]
    if child.within:
        # A nested array (a line's tracking): keyed by the top-level parent, the element
        # it sits in and its position, so replacing the parent's children replaces it too.
        ref = outer_column(obj.child(child.within))
        lead.append(Column(ref, "integer" if ref == "_parent_position" else "string"))
        key: tuple[str, ...] = ("tenant_id", parent_col, ref, "_position")
    elif child.key:
        key = ("tenant_id", parent_col, snake(child.key))
    else:
        key = ("tenant_id", parent_col, "_position")
    lead.append(Column("_position", "integer"))
    shape = _build_shape(child.table, child.schema, key, lead, ())
    # A child's own copy of the parent id (LineItem.RepeatingInvoiceID...) stays, but a
    # field that would collide with the parent key column must not overwrite it.
    shape.fields = {f: spec for f, spec in shape.fields.items() if spec[0] != parent_col}
    if child.hard_deletes:
        # Xero drops such elements without a trace; the merge marks them instead.
        shape.columns["_deleted_at"] = Column("_deleted_at", "msdatetime")
    return shape


def text_hash(text: Any) -> str:
    """A digest of a record's JSON text as Xero sent it (bytes, or ``msgspec.Raw``), to
    tell changed rows from unchanged: what every record read as text is digested by."""
    return hashlib.blake2b(text, digest_size=16).hexdigest()


def record_hash(record: dict[str, Any]) -> str:
    """A digest of a parsed record, for records that are not read as text (those whose
    arrays are filled by reads of their own, such as budgets and contact groups)."""
    # The text is json.dumps(record, default=str, sort_keys=True, separators=(",", ":")),
    # so digests stored by earlier versions still match. orjson writes that text three
    # times faster except where json.dumps escapes (any non-ASCII character, DEL) or
    # orjson refuses (integers beyond 64 bits); those records take json.dumps' encoder.
    try:
        text = orjson.dumps(record, default=str, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        text = None
    if text is None or not text.isascii() or b"\x7f" in text:
        text = json.dumps(record, default=str, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.blake2b(text, digest_size=16).hexdigest()


@dataclass
class ShapedRecord:
    parent: dict[str, Any]
    children: dict[str, list[dict[str, Any]]]


class RecordShaper:
    """Shapes the records of one Xero object for one tenant into parent and child rows."""

    def __init__(self, obj: XeroObject, *, tenant_id: str, synced_at: datetime) -> None:
        self.obj = obj
        self.tenant_id = tenant_id
        self.parent = parent_shape(obj)
        self.children = {c.table: (c, child_shape(obj, c)) for c in obj.children}
        # A nested child's outer element and the column naming it, looked up once here
        # rather than per record (snake() is a regex).
        self.outer = {c.table: (outer := obj.child(c.within), outer_column(outer))
                      for c in obj.children if c.within}
        self.pk_column = parent_key_column(obj)
        self.synced_at_text = synced_at.replace(tzinfo=None).isoformat(sep=" ")

    def shape(self, record: dict[str, Any], seq: int, *, digest: str | None = None) -> ShapedRecord:
        """The record's rows; ``digest``: its ``text_hash`` when it was read as text."""
        pk = record.get(self.obj.primary_key)
        if pk in (None, ""):
            raise ValueError(f"a {self.obj.path} record has no {self.obj.primary_key}: {str(record)[:200]}")
        base = {"tenant_id": self.tenant_id, "_seq": seq}
        row = self.parent.row(record, base)
        row["_hash"] = record_hash(record) if digest is None else digest
        row["_synced_at"] = self.synced_at_text
        row["_deleted_at"] = None
        children: dict[str, list[dict[str, Any]]] = {}
        child_base = {"tenant_id": self.tenant_id, self.pk_column: str(pk), "_seq": seq}
        for table, (child, shape) in self.children.items():
            if child.within:
                children[table] = self._nested_rows(record, child, shape, child_base)
                continue
            items = record.get(child.field) or []
            rows = [shape.row(item, {**child_base, "_position": i}) for i, item in enumerate(items)]
            if child.hard_deletes:
                for r in rows:
                    r["_deleted_at"] = None
            children[table] = rows
        return ShapedRecord(row, children)

    def _nested_rows(
        self, record: dict[str, Any], child: Child, shape: TableShape, base: dict[str, Any]
    ) -> list[dict[str, Any]]:
        outer, ref = self.outer[child.table]
        rows = []
        for i, element in enumerate(record.get(outer.field) or []):
            if not isinstance(element, dict):
                continue
            ref_value = element.get(outer.key) if outer.key else i
            for j, item in enumerate(element.get(child.field) or []):
                rows.append(shape.row(item, {**base, ref: ref_value, "_position": j}))
        return rows

    def shapes(self) -> Iterator[TableShape]:
        yield self.parent
        for _, shape in self.children.values():
            yield shape
