"""Writes to Xero: one PUT or POST of a batch of elements, and Xero's answer per element.

Every write is sent with ``summarizeErrors=false``, so Xero answers 200 with each
element's ``StatusAttributeString`` (OK, WARNING, ERROR) and its ``ValidationErrors``
(fact sheet §5), and with an ``Idempotency-Key`` the caller derives from what the request
carries. The request goes through ``XeroClient.request_json``: the tenant's throttle, the
app's minute and the day's budget are the reads' own, and every retry (a timeout, a 5xx,
a 429, a refreshed token) sends the same key and the same bytes, which is what makes Xero
replay its first answer instead of writing twice. A write is never retried with another key.

Results are mapped by position (Xero answers the elements in the order sent) and each
record's id is read from the element itself (``InvoiceID`` ...), never the envelope's ``Id``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from xero_pipeline.errors import XeroApiError
from xero_pipeline.registry import XeroObject, write_scope
from xero_pipeline.xero.client import XeroClient

ZERO_ID = "00000000-0000-0000-0000-000000000000"  # what Xero puts in a refused create's id


@dataclass(frozen=True)
class ElementResult:
    """What Xero did with one element."""

    status: str  # Xero's StatusAttributeString: OK, WARNING or ERROR
    xero_id: str | None  # the record's id; None when nothing was written
    errors: list[str] = field(default_factory=list)  # ValidationErrors, verbatim
    warnings: list[str] = field(default_factory=list)

    @property
    def written(self) -> bool:
        return self.status != "ERROR"


def send_batch(client: XeroClient, obj: XeroObject, *, tenant_id: str, method: str, body: bytes, key: str,
               count: int, keep: int | None = None) -> list[ElementResult]:
    """Send one prepared request body; one result per element, in the order sent.

    Raises what ``request_json`` raises (nothing of the answer is known then) and
    ``XeroApiError`` when a 200 does not hold one answer per element sent.
    """
    path = f"/api.xro/2.0/{obj.path}"
    answer = client.request_json(method, path, tenant_id=tenant_id, params={"summarizeErrors": "false"},
                                 scope=write_scope(obj.scope), what=obj.table, keep=keep, body=body,
                                 headers={"Idempotency-Key": key})
    elements = answer.get(obj.envelope) if isinstance(answer, dict) else None
    if not isinstance(elements, list) or len(elements) != count:
        got = len(elements) if isinstance(elements, list) else "no"
        raise XeroApiError(status=200, path=path, tenant_id=tenant_id, what=obj.table, method=method,
                           message=f"sent {count} elements, the answer has {got} {obj.envelope!r} elements")
    return [element_result(obj, e) for e in elements]


def element_result(obj: XeroObject, element: Any) -> ElementResult:
    if not isinstance(element, dict):
        return ElementResult("ERROR", None, [f"Xero answered this element with {type(element).__name__}"])
    errors = _messages(element.get("ValidationErrors"))
    status = str(element.get("StatusAttributeString") or ("ERROR" if errors else "OK")).upper()
    xero_id = element.get(obj.primary_key)
    if status == "ERROR" or not xero_id or xero_id == ZERO_ID:
        xero_id = None
    return ElementResult(status, str(xero_id) if xero_id else None, errors, _messages(element.get("Warnings")))


def _messages(raw: Any) -> list[str]:
    if not isinstance(raw, list):
        return []
    return [str(m.get("Message", "")) if isinstance(m, dict) else str(m) for m in raw]
