"""Xero records decoded from their JSON text straight into warehouse rows: the fast path
beside ``shaping.RecordShaper``, which stays the reference for what a row holds.

Why: parsing each record into dicts of ``Decimal`` and then converting it value by value
cost the client as much CPU per row as the server spent serving it. Here each
table's ``TableShape`` becomes a msgspec Struct (``structs``) that accepts only values
``shaping`` would store unchanged, so most values need no Python code at all.

A record the Structs refuse (a field the shape lacks, a value of another type, a value
its column cannot hold as sent: ``Refused``) is parsed as before and shaped by the
``RecordShaper``: its rows are exactly what they always were, new fields become columns
and misfits widen columns there, and the Structs are built again from the changed
shapes. No value is stored by this path that the reference would store differently.

Both paths digest the record's JSON text as Xero sent it (``shaping.text_hash``), so a
record that falls back still hashes as it does on the typed path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec
from msgspec.structs import astuple

from xero_pipeline.warehouse.shaping import RecordShaper, ShapedRecord, TableShape, text_hash
from xero_pipeline.warehouse.structs import (
    REFUSED,
    Refused,
    TablePlan,
    Untypable,
    decimal_as_sent,
    table_plan,
)

UNSET = msgspec.UNSET


def _row(plan: TablePlan, values: tuple[Any, ...], base: dict[str, Any], position: int | None = None
         ) -> dict[str, Any]:
    """One row from a decoded Struct's values, as ``TableShape.row`` makes it from the dict
    (``base`` and a child's ``position`` first: one dict copy per row, not two)."""
    out = dict(base)
    if position is not None:
        out["_position"] = position
    for column, value in zip(plan.plain, values):  # zip stops where the plain fields end
        if value is not UNSET:
            out[column] = value
    # Decimals inline (the most common converted value: a quarter of a million a sync
    # of scale 2): the number's own text, or null, or the reference decides.
    for index, column in plan.decimals:
        value = values[index]
        if value is UNSET:
            continue
        if decimal_as_sent(value):  # Raw is bytes-like: no copy to match it or to decode it
            out[column] = str(value, "ascii")
        elif bytes(value) == b"null":
            out[column] = None
        else:
            raise Refused
    for index, column, convert, flat in plan.post:
        value = values[index]
        if value is UNSET:
            continue
        value = out[column] = convert(value)
        if flat is not None and isinstance(value, dict):
            out[flat[0]] = value.get(flat[1])
    return out


@dataclass(frozen=True)
class _Child:
    """A top-level child table: its rows come from one array field of the parent Struct."""

    table: str
    index: int  # of the array in the parent Struct's values
    plan: TablePlan
    hard_deletes: bool


@dataclass(frozen=True)
class _Nested:
    """A child within another's elements (a line's tracking): rows from a JSON column of
    the outer rows, shaped by ``TableShape.row`` as the reference does."""

    table: str
    outer_table: str
    inner_column: str  # the outer table's JSON column holding the array
    ref: str  # the column naming the outer element in a nested row
    key_column: str | None  # the outer element's key column; None: its position
    shape: TableShape


@dataclass(frozen=True)
class _ObjectPlan:
    decoder: msgspec.json.Decoder
    parent: TablePlan
    pk_index: int
    children: tuple[_Child, ...]
    nested: tuple[_Nested, ...]
    tables: tuple[str, ...]  # every child table, in the registry's order


def _object_plan(shaper: RecordShaper, nulls: dict[str, frozenset[str]]) -> _ObjectPlan:
    """The Structs of one object's current shapes (``nulls``: by table, the fields to take
    as null only); ``Untypable`` when a table's shape has something the typed rows could
    not reproduce (the object then stays on dicts)."""
    obj = shaper.obj
    children: list[_Child] = []
    structs: dict[str, type] = {}
    plans: dict[str, TablePlan] = {}
    for table, (child, shape) in shaper.children.items():
        if not child.within:
            plan = plans[table] = table_plan(shape, {}, nulls.get(table, frozenset()))
            structs[child.field] = plan.struct
    parent = table_plan(shaper.parent, structs, nulls.get(shaper.parent.table, frozenset()))
    for table, (child, shape) in shaper.children.items():
        if not child.within:
            children.append(_Child(table, parent.index[child.field], plans[table], child.hard_deletes))
    nested = []
    for table, (child, shape) in shaper.children.items():
        if child.within:
            outer, ref = shaper.outer[table]
            if outer.within or outer.table not in plans:
                raise Untypable(f"{table} sits within a nested table")
            outer_shape = shaper.children[outer.table][1]
            inner = outer_shape.fields.get(child.field)
            key = outer_shape.fields.get(outer.key) if outer.key else None
            if inner is None or inner[1] != "json" or (outer.key and (key is None or key[1] != "string")):
                raise Untypable(f"{table}: its outer table's {child.field} or {outer.key} is not as expected")
            nested.append(_Nested(table, outer.table, inner[0], ref, key[0] if key else None, shape))
    pk = shaper.parent.fields.get(obj.primary_key)
    if pk is None or pk[1] != "string":
        raise Untypable(f"{obj.table}: the primary key {obj.primary_key} is not a string column")
    return _ObjectPlan(msgspec.json.Decoder(parent.struct), parent, parent.index[obj.primary_key],
                       tuple(children), tuple(nested), tuple(shaper.children))


def _parse(text: Any) -> Any:
    return json.loads(bytes(text), parse_float=Decimal)


class TypedShaper:
    """Shapes records given as their JSON text, on the typed path where it can."""

    def __init__(self, shaper: RecordShaper) -> None:
        self.shaper = shaper
        self.typed = 0  # records shaped on the typed path (tests and benchmarks read these)
        self.fallbacks = 0
        self._plan: _ObjectPlan | None = None
        self._nulls: dict[str, frozenset[str]] = {}  # by table: see _note_nulls
        self._build()

    def _fields(self) -> list[dict[str, tuple[str, str]]]:
        return [dict(shape.fields) for shape in self.shaper.shapes()]

    def _build(self) -> None:
        self._built_from = self._fields()
        try:
            self._plan = _object_plan(self.shaper, self._nulls)
        except Untypable:
            self._plan = None

    def shape(self, text: Any, seq: int) -> ShapedRecord:
        """The rows of one record; ``text`` is its JSON (bytes or ``msgspec.Raw``)."""
        digest = text_hash(text)
        if self._plan is not None:
            try:
                shaped = self._shape_typed(self._plan, text, seq, digest)
            except REFUSED:
                pass
            else:
                self.typed += 1
                return shaped
        self.fallbacks += 1
        record = _parse(text)
        shaped = self.shaper.shape(record, seq, digest=digest)
        # Build again when the record had null fields no shape knows (which would
        # otherwise send every such record here), or a column was learned or widened.
        new_nulls = self._note_nulls(record)
        if new_nulls or self._fields() != self._built_from:
            self._build()
        return shaped

    def _note_nulls(self, record: Any) -> bool:
        """Note the fields of ``record`` and of its child elements that no shape knows and
        that are null: the reference ignores them, so the Structs may take them as null
        only. True when there are new ones."""
        tables = [(self.shaper.parent, [record])]
        tables += [(shape, record.get(child.field)) for child, shape in self.shaper.children.values()
                   if not child.within]
        new = False
        for shape, items in tables:
            seen = self._nulls.get(shape.table, frozenset())
            found = {name for item in (items if isinstance(items, list) else []) if isinstance(item, dict)
                     for name, value in item.items()
                     if value is None and name not in shape.fields and name not in shape.skip} - seen
            if found:
                self._nulls[shape.table] = seen | found
                new = True
        return new

    def _shape_typed(self, plan: _ObjectPlan, text: Any, seq: int, digest: str) -> ShapedRecord:
        shaper = self.shaper
        values = astuple(plan.decoder.decode(text))
        pk = values[plan.pk_index]
        if pk is UNSET or not pk:  # missing, null or "": the reference names the record in its error
            raise Refused
        row = _row(plan.parent, values, {"tenant_id": shaper.tenant_id, "_seq": seq})
        row["_hash"] = digest
        row["_synced_at"] = shaper.synced_at_text
        row["_deleted_at"] = None
        child_base = {"tenant_id": shaper.tenant_id, shaper.pk_column: pk, "_seq": seq}
        children: dict[str, list[dict[str, Any]]] = {}
        for child in plan.children:
            items = values[child.index]
            rows = [] if items is UNSET or not items else [
                _row(child.plan, astuple(item), child_base, i) for i, item in enumerate(items)]
            if child.hard_deletes:
                for r in rows:
                    r["_deleted_at"] = None
            children[child.table] = rows
        for nested in plan.nested:
            children[nested.table] = _nested_rows(nested, children[nested.outer_table], child_base)
        return ShapedRecord(row, {table: children[table] for table in plan.tables})


def _nested_rows(nested: _Nested, outer_rows: list[dict[str, Any]], base: dict[str, Any]
                 ) -> list[dict[str, Any]]:
    """As ``RecordShaper._nested_rows``: the outer rows hold each element's key as sent (a
    string column) and its array parsed as the reference parses it (a JSON column)."""
    rows = []
    shape = nested.shape
    for i, outer in enumerate(outer_rows):
        ref_value = outer.get(nested.key_column) if nested.key_column else i
        for j, item in enumerate(outer.get(nested.inner_column) or []):
            rows.append(shape.row(item, {**base, nested.ref: ref_value, "_position": j}))
    return rows
