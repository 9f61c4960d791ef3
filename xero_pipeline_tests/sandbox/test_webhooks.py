"""The sandbox sends webhooks as Xero does: probes, signed batches in sequence, retries, disabling.

A small endpoint of the test's own (a real HTTP server on loopback) records what arrives,
verifies each signature as a receiver would, and fails on demand.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from xero_pipeline.sandbox import Sandbox
from xero_pipeline.sandbox.books.edits import edit_records
from xero_pipeline.sandbox.webhooks import ACTIVE, DISABLED, ITR_FAILED
from xero_pipeline.webhooks.signature import HEADER, verify
from xero_pipeline.webhooks.store import EventStore
from xero_pipeline_tests.conftest import access_token
from xero_pipeline_tests.webhooks.receivers import KEY, receiver_thread


class Endpoint:
    def __init__(self, *, check_signature: bool = True) -> None:
        self.check_signature = check_signature
        self.failing = False
        self.deliveries: list[dict] = []  # signed, non-probe bodies answered 200
        self.probes = {"signed": 0, "forged": 0}
        self.refused = 0


@contextmanager
def endpoint(**options) -> Iterator[tuple[Endpoint, str]]:
    state = Endpoint(**options)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            signed = verify(body, self.headers.get(HEADER), KEY)
            doc = json.loads(body)
            if not doc["events"]:
                state.probes["signed" if signed else "forged"] += 1
            if state.check_signature and not signed:
                return self._answer(401)
            if doc["events"] and state.failing:
                state.refused += 1
                return self._answer(503)
            if doc["events"]:
                state.deliveries.append(doc)
            self._answer(200)

        def _answer(self, status: int) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/webhooks/xero"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    # Xero's clock 3600 times faster: batching waits a millisecond, not a second.
    with Sandbox(tenants=2, scale=0.02, seed=5, limits=False, time_scale=3600) as sb:
        yield sb


def _edit(sb: Sandbox, path: str, count: int, tenant: int = 0) -> list[str]:
    return edit_records(sb.books[sb.tenant_ids[tenant]], path, count, rng=random.Random(count))


def test_intent_to_receive_passes_against_the_receiver_and_fails_a_receiver_that_checks_nothing(sandbox, tmp_path):
    with receiver_thread(EventStore(tmp_path / "events.sqlite3")) as url:
        state = sandbox.subscribe_webhooks(url, KEY)
    assert state["subscription"]["status"] == ACTIVE
    with endpoint(check_signature=False) as (naive, url):
        state = sandbox.subscribe_webhooks(url, KEY)
        _edit(sandbox, "Invoices", 1)
        assert not sandbox.webhooks.wait_idle(1.0)
    assert state["subscription"]["status"] == ITR_FAILED
    assert naive.probes["signed"] >= 1 and naive.probes["forged"] >= 1
    assert naive.deliveries == []  # nothing is delivered to a webhook that failed its probes


def test_changes_arrive_signed_in_one_batch_numbered_in_order(sandbox):
    tenant = sandbox.tenant_ids[0]
    with endpoint() as (ep, url):
        sandbox.subscribe_webhooks(url, KEY)
        sandbox.webhooks.batch_seconds = 3600  # a real second: both edits fall in one batch
        invoices, contacts = _edit(sandbox, "Invoices", 3), _edit(sandbox, "Contacts", 2)
        _edit(sandbox, "Items", 2)  # Xero sends no webhook for items
        assert sandbox.webhooks.wait_idle(30)
    assert len(ep.deliveries) == 1
    batch = ep.deliveries[0]
    assert (batch["firstEventSequence"], batch["lastEventSequence"]) == (1, 5)
    got = [(e["eventCategory"], e["resourceId"], e["eventType"], e["tenantId"]) for e in batch["events"]]
    assert got == [("INVOICE", i, "UPDATE", tenant) for i in invoices] + [("CONTACT", c, "UPDATE", tenant)
                                                                         for c in contacts]
    assert batch["events"][0]["resourceUrl"] == f"https://api.xero.com/api.xro/2.0/Invoices/{invoices[0]}"


def test_a_new_day_of_bookkeeping_sends_creates_and_updates_of_every_mapped_category(sandbox):
    with endpoint() as (ep, url):
        sandbox.subscribe_webhooks(url, KEY)
        sandbox.simulate_day()
        assert sandbox.webhooks.wait_idle(30)
    events = [e for d in ep.deliveries for e in d["events"]]
    assert {e["eventType"] for e in events} == {"CREATE", "UPDATE"}
    assert {"INVOICE", "CONTACT"} <= {e["eventCategory"] for e in events}
    assert {e["tenantId"] for e in events} == set(sandbox.tenant_ids)
    sequences = [n for d in ep.deliveries for n in range(d["firstEventSequence"], d["lastEventSequence"] + 1)]
    assert sequences == list(range(1, len(events) + 1))


def test_a_disconnected_tenant_sends_nothing(sandbox):
    with endpoint() as (ep, url):
        sandbox.subscribe_webhooks(url, KEY)
        sandbox.disconnect_tenant(sandbox.tenant_ids[1])
        _edit(sandbox, "Invoices", 2, tenant=1)
        _edit(sandbox, "Invoices", 1, tenant=0)
        assert sandbox.webhooks.wait_idle(30)
    assert {e["tenantId"] for d in ep.deliveries for e in d["events"]} == {sandbox.tenant_ids[0]}


def test_failed_deliveries_are_retried_then_the_webhook_is_disabled_and_replays_in_order_once_re_enabled():
    # 36000: 15 Xero-minutes last 25 ms, 24 Xero-hours 2.4 s.
    with Sandbox(tenants=1, scale=0.02, seed=5, limits=False, time_scale=36000) as sandbox, \
            endpoint() as (ep, url):
        sandbox.subscribe_webhooks(url, KEY)
        ep.failing = True
        first = _edit(sandbox, "Invoices", 1)
        assert not sandbox.webhooks.wait_idle(0.3)
        assert ep.refused >= 3  # the immediate retry, then one every 15 Xero-minutes
        later = _edit(sandbox, "Contacts", 1)  # happens while the webhook is failing: kept
        while sandbox.webhooks.status()["subscription"]["status"] != DISABLED:
            assert ep.refused <= 24 * 4 + 2, "still retrying after 24 Xero-hours"
            time.sleep(0.1)
        refused = ep.refused
        assert ep.deliveries == [] and not sandbox.webhooks.wait_idle(0.5) and ep.refused == refused
        ep.failing = False
        assert sandbox.webhooks.probe()  # re-enabled in the portal: probed again
        assert sandbox.webhooks.wait_idle(30)
    events = [(e["resourceId"], d["firstEventSequence"]) for d in ep.deliveries for e in d["events"]]
    assert [r for r, _ in events] == first + later
    assert ep.deliveries[0]["firstEventSequence"] == 1


def test_a_sandbox_in_another_process_is_subscribed_through_its_control_route(sandbox):
    with endpoint() as (ep, url):
        answer = requests.post(f"{sandbox.url}/_sandbox/webhooks", json={"url": url, "key": KEY,
                                                                        "categories": ["CONTACT"]}, timeout=30)
        assert answer.status_code == 200 and answer.json()["subscription"]["status"] == ACTIVE
        assert KEY not in answer.text  # the key is the caller's secret: never echoed
        _edit(sandbox, "Invoices", 1)
        [contact] = _edit(sandbox, "Contacts", 1)
        assert sandbox.webhooks.wait_idle(30)
        state = requests.get(f"{sandbox.url}/_sandbox/webhooks", timeout=10).json()
    assert state["delivered_events"] == 1 and state["subscription"]["categories"] == ["CONTACT"]
    assert [e["resourceId"] for d in ep.deliveries for e in d["events"]] == [contact]
    missing_key = requests.post(f"{sandbox.url}/_sandbox/webhooks", json={"url": url}, timeout=10)
    assert missing_key.status_code == 400 and "signing key" in missing_key.json()["error"]


def test_an_invoice_created_through_the_api_is_a_create_event(sandbox):
    tenant = sandbox.tenant_ids[0]
    contact = next(c["ContactID"] for c in sandbox.books[tenant].records("Contacts") if c["ContactStatus"] == "ACTIVE")
    invoice = {"Type": "ACCREC", "Contact": {"ContactID": contact}, "Date": "2026-10-20",
               "LineItems": [{"Description": "Consulting", "Quantity": 1, "UnitAmount": "90.00", "AccountCode": "200"}]}
    with endpoint() as (ep, url):
        sandbox.subscribe_webhooks(url, KEY)
        answer = requests.put(f"{sandbox.api_url}/Invoices", json={"Invoices": [invoice]}, timeout=30, headers={
            "Authorization": f"Bearer {access_token(sandbox)}", "xero-tenant-id": tenant, "Accept": "application/json"})
        assert answer.status_code == 200, answer.text[:300]
        created = answer.json()["Invoices"][0]["InvoiceID"]
        assert sandbox.webhooks.wait_idle(30)
    invoice_events = [e for d in ep.deliveries for e in d["events"] if e["eventCategory"] == "INVOICE"]
    assert [(e["resourceId"], e["eventType"]) for e in invoice_events][:1] == [(created, "CREATE")]
