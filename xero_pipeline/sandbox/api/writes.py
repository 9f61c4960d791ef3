"""The Accounting API's writes, once a request has passed the gates (``accounting``).

``PUT /{Collection}`` creates and ``POST /{Collection}`` (or ``/{Collection}/{id}``)
creates or updates, each with a body ``{"<Collection>": [elements]}``. Elements are
applied in order, each whole or not at all (``books.writes``), under the tenant's lock,
so a read never sees half a request. With ``summarizeErrors=false`` (Xero's default)
the answer is 200 and every element carries ``StatusAttributeString`` (``OK`` or
``ERROR``) and, when refused, ``ValidationErrors`` verbatim; a refused create echoes the
element with the all-zero id. With ``summarizeErrors=true`` any refused element makes
the answer a 400 ``ValidationException`` listing the refused elements (the accepted ones
are still written: unverified, see the package docstring).
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from xero_pipeline.registry import XeroObject
from xero_pipeline.sandbox.api.render import Variant, api_exception, shape
from xero_pipeline.sandbox.api.render_json import dumps, json_envelope
from xero_pipeline.sandbox.api.wire import JSON, Request, Response
from xero_pipeline.sandbox.books import writes
from xero_pipeline.sandbox.books.desk import Desk
from xero_pipeline.sandbox.books.store import TenantBooks

PROVIDER = "Xero Pipeline Sandbox"
ZERO_ID = "00000000-0000-0000-0000-000000000000"


class Writes:
    def __init__(self, *, clock_now: Callable[[], datetime], seed: int) -> None:
        self.now = clock_now
        self.seed = seed
        self._serial = itertools.count()
        self.elements = 0  # elements applied (OK), for the stats and the benchmark

    def handle(self, req: Request, books: TenantBooks, rid: str, obj: XeroObject, key: str | None) -> Response:
        try:
            body = json.loads(req.body or b"null", parse_float=Decimal)
        except ValueError as e:
            return _bad(f"The request body is not valid JSON: {e}")
        elements = body.get(obj.envelope) if isinstance(body, dict) else None
        if not isinstance(elements, list) or not elements:
            return _bad(f'The request body must be {{"{obj.envelope}": [ ... ]}} with at least one element')
        if key is not None:
            if len(elements) != 1 or not isinstance(elements[0], dict):
                return _bad(f"POST /{obj.path}/{key} takes exactly one {obj.schema}")
            elements[0][obj.primary_key] = key
        summarize = (req.arg("summarizeErrors") or "false").lower() == "true"
        put = req.method == "PUT"
        rng = random.Random(f"{self.seed}:writes:{books.tenant_id}:{next(self._serial)}")
        out: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        with books.lock:
            desk = Desk(books, rng=rng)
            for element in elements:
                try:
                    record = writes.apply(desk, obj.path, element, put=put)
                except writes.Invalid as e:
                    echo = dict(element) if isinstance(element, dict) else {}
                    echo.setdefault(obj.primary_key, ZERO_ID)
                    echo.update(StatusAttributeString="ERROR", HasErrors=True,
                                ValidationErrors=[{"Message": m} for m in e.messages])
                    out.append(echo)
                    failed.append(echo)
                    continue
                self.elements += 1
                out.append(dict(shape(record, Variant.LINES), StatusAttributeString="OK"))
        if summarize and failed:
            error = {"ErrorNumber": 10, "Type": "ValidationException", "Message": "A validation exception occurred",
                     "Elements": failed}
            return Response(400, dumps(error).encode(), JSON)
        items = [dumps(e, unit_dp=4).encode() for e in out]
        return Response(200, json_envelope(response_id=rid, provider=PROVIDER, now=self.now(), key=obj.envelope,
                                           items=items), JSON)


def _bad(message: str) -> Response:
    return Response(400, api_exception(400, "BadRequest", message), JSON)
