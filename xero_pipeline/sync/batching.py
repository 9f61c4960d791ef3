"""Pure pieces of the push: checking an outbox row, grouping rows into requests within
Xero's limits, and the Idempotency-Key a request carries.

Xero takes about 50 elements and 3.5 MB a request (fact sheet §7; the registry's
``Writes.max_elements``, ``MAX_REQUEST_BYTES``). The key is derived from what the request
carries, never drawn at random: the tenant, the object, the method and the sorted
(request id, attempt) pairs. A push that dies after sending and reruns builds the same
key (it also keeps the key it recorded), and a row the user fixed and marked for retry
is a new attempt, so a new key: its body changed, and Xero refuses a key reused with a
different body.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from xero_pipeline.registry import MAX_REQUEST_BYTES, XeroObject

KEY_PREFIX = "xp1-"  # a version, should the derivation ever change
_ENVELOPE_BYTES = 32  # {"<Collection>":[ ... ]} around the elements, generously


def idempotency_key(*, tenant_id: str, table: str, method: str, rows: Sequence[tuple[str, int]]) -> str:
    """At most 68 characters (Xero allows 128)."""
    parts = [tenant_id, table, method, *sorted(f"{request_id}#{attempt}" for request_id, attempt in rows)]
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return KEY_PREFIX + digest


def method_for(obj: XeroObject, element: dict[str, Any]) -> str:
    """POST updates the record the element names; PUT creates."""
    return "POST" if element.get(obj.primary_key) else "PUT"


def check_row(obj: XeroObject, payload: str | None, *, max_bytes: int = MAX_REQUEST_BYTES) -> tuple[str, str | None]:
    """(method, None) for a row that may be sent, or ("", why not) naming the fix."""
    writes = obj.writes
    if writes is None:
        return "", f"{obj.table} cannot be written to Xero"
    if payload is None or not payload.strip():
        return "", f"the payload is empty: put the {obj.schema} as Xero's JSON in it, then set retry"
    try:
        element = json.loads(payload)
    except ValueError as exc:
        return "", f"the payload is not JSON ({exc}): fix it, then set retry"
    if not isinstance(element, dict):
        return "", f"the payload must be one JSON object (a {obj.schema}), not {type(element).__name__}"
    method = method_for(obj, element)
    status = str(element.get(obj.status_field or "Status") or "").upper()
    if method == "POST" and not writes.update:
        return "", f"{obj.table} cannot be updated through Xero's API: remove {obj.primary_key} to create one"
    if method == "PUT" and not writes.create:
        return "", f"{obj.table} cannot be created through Xero's API"
    if status == "VOIDED" and not writes.void:
        return "", f"Xero does not void {obj.table}"
    if status == "DELETED" and not writes.delete:
        return "", f"Xero does not delete {obj.table} by status"
    if len(payload.encode()) + _ENVELOPE_BYTES > max_bytes:
        return "", f"the payload is {len(payload.encode())} bytes; a request to Xero holds {max_bytes} at most"
    return method, None


def batches(payloads: Sequence[str], *, max_elements: int, max_bytes: int = MAX_REQUEST_BYTES) -> list[range]:
    """Consecutive runs of ``payloads`` (positions) that each fit one request."""
    out: list[range] = []
    start, size = 0, _ENVELOPE_BYTES
    for i, text in enumerate(payloads):
        length = len(text.encode()) + 1
        if i > start and (i - start >= max_elements or size + length > max_bytes):
            out.append(range(start, i))
            start, size = i, _ENVELOPE_BYTES
        size += length
    if start < len(payloads):
        out.append(range(start, len(payloads)))
    return out


def request_body(obj: XeroObject, payloads: Sequence[str]) -> str:
    """The elements as stored, inside Xero's envelope: the bytes a replay must repeat."""
    return f'{{"{obj.envelope}":[' + ",".join(p.strip() for p in payloads) + "]}"
