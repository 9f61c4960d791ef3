"""HTTP controls under ``/_sandbox/`` for a sandbox run as a separate process.

Each route calls the matching ``Sandbox`` method; bodies and answers are JSON.

==========================================  ==================================================
``GET  /_sandbox/info``                      url, client credentials, initial refresh token, tenants
``POST /_sandbox/refresh-token``             a new demo-app refresh token (a fresh consent)
``POST /_sandbox/simulate-day[?tenant_id=]`` one day of bookkeeping; the clock moves once
``POST /_sandbox/advance?seconds=N``         move the books' clock forward
``POST /_sandbox/change-silently[?tenant_id=]`` changes Xero does not timestamp, and hard deletes
``POST /_sandbox/fields``                    a field Xero added later: ``{"path", "field", "values",
                                             "tenant_id", "touch"}`` (see ``books.drift``)
``POST /_sandbox/faults``                    a fault: ``{"kind", "tenant_id", "path", "count",
                                             "after_page", "seconds"}`` (see ``faults``)
``GET  /_sandbox/faults``                    faults still pending
``DELETE /_sandbox/faults``                  clear them (also ``POST /_sandbox/faults/clear``)
``POST /_sandbox/expire-tokens``             every current access token expires now
``GET  /_sandbox/stats``                     request statistics
``POST /_sandbox/stats/reset``               zero them
``GET  /_sandbox/ground-truth[?tenant_id=]`` every collection as a perfect full read returns it
``GET  /_sandbox/journal-summary?tenant_id=`` every journal (history included) in brief: count,
                                             numbers, lines, net amount per account code
``POST /_sandbox/connections``               ``{"action": "connect"|"disconnect", "tenant_id"}``
``GET  /_sandbox/profile``                   the app profile (plan, day limit, dates, journals, scopes)
``POST /_sandbox/profile``                   change it: ``{"plan", "app_created", "journals",
                                             "custom_created", "scopes"}`` (any subset)
``POST /_sandbox/webhooks``                  subscribe the app's webhook: ``{"url", "key",
                                             "categories"}``; probes it, answers its state
``GET  /_sandbox/webhooks``                  the webhook's state, events pending and attempts
``POST /_sandbox/webhooks/probe``            intent-to-receive again (re-enables a disabled one)
==========================================  ==================================================
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING

from xero_pipeline.sandbox.api.wire import (
    JSON,
    Request,
    Response,
    json_response,
    not_found,
)
from xero_pipeline.sandbox.identity.profile import AppProfile

if TYPE_CHECKING:
    from xero_pipeline.sandbox.app import Sandbox


def _bad(message: str) -> Response:
    return json_response(400, {"error": message})


def handle(sandbox: Sandbox, req: Request) -> Response:
    route = req.path.lower().removeprefix("/_sandbox").strip("/")
    method = req.method
    try:
        if route == "info" and method == "GET":
            return json_response(200, sandbox.info())
        if route == "refresh-token" and method == "POST":
            return json_response(200, {"refresh_token": sandbox.new_refresh_token()})
        if route == "simulate-day" and method == "POST":
            return json_response(200, sandbox.simulate_day(req.arg("tenant_id")))
        if route == "change-silently" and method == "POST":
            return json_response(200, sandbox.change_silently(req.arg("tenant_id")))
        if route == "advance" and method == "POST":
            sandbox.advance(float(req.arg("seconds") or 0))
            return json_response(200, {"now": sandbox.clock.now().isoformat()})
        if route == "fields" and method == "POST":
            # Decimal, as a client parses Xero's numbers: 12.99 must stay 12.99.
            body = json.loads(req.body or b"{}", parse_float=Decimal)
            changed = sandbox.set_field(str(body["path"]), str(body["field"]), list(body["values"]),
                                        tenant_id=body.get("tenant_id"), touch=bool(body.get("touch", True)))
            return json_response(200, {"changed": changed})
        if route == "faults":
            if method == "POST":
                body = req.json()
                fault_id = sandbox.inject(
                    str(body["kind"]), tenant_id=body.get("tenant_id"), path=body.get("path"),
                    count=int(body.get("count", 1)), after_page=body.get("after_page"),
                    seconds=body.get("seconds"),
                )
                return json_response(200, {"id": fault_id})
            if method == "GET":
                return json_response(200, sandbox.faults.pending())
            if method == "DELETE":
                sandbox.clear_faults()
                return json_response(200, {"cleared": True})
        if route == "faults/clear" and method == "POST":
            sandbox.clear_faults()
            return json_response(200, {"cleared": True})
        if route == "expire-tokens" and method == "POST":
            return json_response(200, {"expired": sandbox.expire_tokens()})
        if route == "stats" and method == "GET":
            return json_response(200, sandbox.stats())
        if route == "stats/reset" and method == "POST":
            sandbox.reset_stats()
            return json_response(200, {"reset": True})
        if route == "ground-truth" and method == "GET":
            return Response(200, sandbox.ground_truth_bytes(tenant_id=req.arg("tenant_id")), JSON)
        if route == "journal-summary" and method == "GET":
            summary = sandbox.journal_summary(str(req.arg("tenant_id")))
            by_code = {k: str(v) for k, v in summary.pop("net_by_account_code").items()}
            return json_response(200, {**summary, "net_by_account_code": by_code})
        if route == "profile" and method == "GET":
            return json_response(200, sandbox.profile.describe())
        if route == "profile" and method == "POST":
            new = AppProfile.from_mapping(req.json(), base=sandbox.profile)
            return json_response(200, sandbox.set_profile(new).describe())
        if route == "connections" and method == "POST":
            body = req.json()
            action = body.get("action", "connect")
            if action == "disconnect":
                if not sandbox.disconnect_tenant(str(body["tenant_id"])):
                    return not_found()
                return json_response(200, {"tenant_id": body["tenant_id"], "connected": False})
            if action == "connect":
                tid = sandbox.connect_tenant(body.get("tenant_id"))
                return json_response(200, {"tenant_id": tid, "connected": True})
            return _bad(f"unknown action {action!r}")
        if route == "webhooks" and method == "POST":
            body = req.json()
            return json_response(200, sandbox.subscribe_webhooks(str(body["url"]), body.get("key"),
                                                                 list(body.get("categories") or ())))
        if route == "webhooks" and method == "GET":
            return json_response(200, sandbox.webhooks.status())
        if route == "webhooks/probe" and method == "POST":
            sandbox.webhooks.probe()
            return json_response(200, sandbox.webhooks.status())
    except (KeyError, ValueError, TypeError) as e:
        return _bad(f"{type(e).__name__}: {e}")
    return not_found()
