"""Fields Xero adds to its API after a client was written: the ``set_field`` control.

Xero adds fields to its responses without notice (``UpdatedDateUTCString`` arrived on
five endpoints in July 2026), and a new field's values need not keep one kind: the
first ones seen may be ``0``, later ones ``12.99`` or text. ``set_field`` gives records
of a collection such a field, so tests can check that the warehouse keeps every value.

Assumptions where the fact sheet is silent:

* The values go to the collection's records in the order they were stored (the first
  value to the first record ...); ``None`` removes the field, as Xero omits nulls.
* ``touch=True`` (the default) moves each changed record's UpdatedDateUTC, as an edit
  of the value would in Xero, so an If-Modified-Since read sees the new values.
  ``touch=False`` models Xero starting to send a field on records nobody changed:
  only a full read sees it until the records change.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from xero_pipeline.registry import BY_PATH
from xero_pipeline.sandbox.books.store import TenantBooks

# Xero's field names are PascalCase identifiers; anything else would not be a field Xero could add.
_FIELD_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")


def set_field(books: TenantBooks, path: str, field: str, values: Sequence[Any], *, touch: bool = True) -> list[str]:
    """Give the first ``len(values)`` records of ``path`` the field ``field``; returns their keys."""
    obj = BY_PATH.get(path.lower())
    if obj is None:
        raise ValueError(f"unknown collection {path!r}: use a Xero path such as 'Contacts'")
    if not _FIELD_NAME.match(field):
        raise ValueError(f"field name {field!r} is not a PascalCase name like Xero's ('LoyaltyPoints')")
    if field == obj.primary_key:
        raise ValueError(f"{field} is the primary key of {obj.path}; pick a new field name")
    with books.lock:
        records = books.records(obj.path)
        if len(values) > len(records):
            raise ValueError(
                f"{obj.path} has {len(records)} records in tenant {books.tenant_id}, fewer than the "
                f"{len(values)} values given"
            )
        for record, value in zip(records, values):
            if value is None:
                record.pop(field, None)
            else:
                record[field] = value
            books.put(obj.path, record, touch=touch)
    return [str(r[obj.primary_key]) for r in records[: len(values)]]
