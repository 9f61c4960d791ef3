"""The receiver over real HTTP: Xero's signature, intent to receive, durability and dedup."""

from __future__ import annotations

import json
import logging
import uuid

import pytest
import requests

from xero_pipeline.webhooks.signature import HEADER, sign, verify
from xero_pipeline.webhooks.store import EventStore
from xero_pipeline_tests.webhooks.receivers import KEY, receiver_thread

ITR_BODY = b'{"events":[],"lastEventSequence":0,"firstEventSequence":0,"entropy":"S0m3r4Nd0mt3xt"}'
# Fixed ids: pytest-xdist's workers must collect the same parametrized tests.
TENANT = str(uuid.uuid5(uuid.NAMESPACE_URL, "webhooks/tenant"))
RESOURCE = str(uuid.uuid5(uuid.NAMESPACE_URL, "webhooks/resource"))


def _event(resource: str, *, category: str = "INVOICE", when: str = "2026-12-05T01:15:39.902",
           kind: str = "UPDATE") -> dict:
    return {"resourceUrl": f"https://api.xero.com/api.xro/2.0/Invoices/{resource}", "resourceId": resource,
            "eventDateUtc": when, "eventType": kind, "eventCategory": category, "tenantId": TENANT,
            "tenantType": "ORGANISATION"}


def _body(*events: dict, first: int = 1) -> bytes:
    return json.dumps({"events": list(events), "firstEventSequence": first,
                       "lastEventSequence": first + len(events) - 1, "entropy": "ABCDEFGHIJKLMNOPQRST"}).encode()


def _post(url: str, body: bytes, *, key: str = KEY, signature: str | None = None) -> requests.Response:
    return requests.post(url, data=body, timeout=5,
                         headers={HEADER: signature if signature is not None else sign(body, key),
                                  "Content-Type": "application/json"})


def test_the_signature_is_xeros_documented_example():
    body = b'{"events":[],"firstEventSequence": 0,"lastEventSequence": 0, "entropy": "S0m3r4Nd0mt3xt"}'
    assert sign(body, "TEST_WEBHOOK_KEY") == "8LDSpurCCMmYajVtZfglzIy4jMzxD0F+Y4XG79ZrL58="
    assert verify(body, "8LDSpurCCMmYajVtZfglzIy4jMzxD0F+Y4XG79ZrL58=", "TEST_WEBHOOK_KEY")
    # Re-serialised JSON is other bytes: only the raw body verifies.
    assert not verify(json.dumps(json.loads(body)).encode(), "8LDSpurCCMmYajVtZfglzIy4jMzxD0F+Y4XG79ZrL58=",
                      "TEST_WEBHOOK_KEY")


@pytest.fixture
def store(tmp_path) -> EventStore:
    return EventStore(tmp_path / "events.sqlite3")


def test_intent_to_receive_is_200_with_no_body_signed_and_401_forged(store):
    with receiver_thread(store) as url:
        for _ in range(3):
            ok = _post(url, ITR_BODY)
            assert (ok.status_code, ok.content, ok.headers.get("set-cookie")) == (200, b"", None)
            bad = _post(url, ITR_BODY, key="not the key")
            assert bad.status_code == 401
            assert _post(url, ITR_BODY, signature="").status_code == 401
    assert store.count() == 0


def test_a_forged_delivery_is_401_and_queues_nothing(store):
    body = _body(_event(str(uuid.uuid4())))
    with receiver_thread(store) as url:
        assert _post(url, body, key="an attacker's guess").status_code == 401
        # The right signature of other bytes: a body tampered with in transit.
        assert _post(url, body.replace(b"UPDATE", b"CREATE"), signature=sign(body, KEY)).status_code == 401
    assert store.after(0) == []


def test_a_delivery_is_stored_once_however_often_it_is_replayed(store, tmp_path):
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    body = _body(_event(a), _event(b, category="CONTACT", kind="CREATE"), first=7)
    with receiver_thread(store) as url:
        for _ in range(3):
            answer = _post(url, body)
            assert (answer.status_code, answer.content) == (200, b"")
        # The same event inside another batch (Xero replays in order after an outage).
        assert _post(url, _body(_event(a), first=9)).status_code == 200
    stored = store.after(0)
    assert [(e.resource_id, e.category, e.event_type) for e in stored] == [(a, "INVOICE", "UPDATE"),
                                                                         (b, "CONTACT", "CREATE")]
    # The file is the store: another process opening it (a restarted receiver, the sensor) sees them.
    assert [e.id for e in EventStore(tmp_path / "events.sqlite3").after(0)] == [e.id for e in stored]


def test_a_later_change_to_the_same_record_is_a_new_event(store):
    r = str(uuid.uuid4())
    with receiver_thread(store) as url:
        assert _post(url, _body(_event(r, when="2026-12-05T01:00:00.100"))).status_code == 200
        assert _post(url, _body(_event(r, when="2026-12-05T01:00:07.250"))).status_code == 200
    assert len(store.after(0)) == 2


@pytest.mark.parametrize("body, problem", [
    (b"not json", "not JSON"),
    (b'{"events":[]}', "missing firstEventSequence"),
    (_body({**_event(RESOURCE), "eventType": "DELETE"}), "eventType"),
    (_body({k: v for k, v in _event(RESOURCE).items() if k != "tenantId"}), "misses tenantId"),
    (_body({**_event(RESOURCE), "resourceId": "1; DROP TABLE events"}), "resourceId is not a UUID"),
], ids=["not-json", "no-sequences", "unknown-event-type", "no-tenant", "resource-not-uuid"])
def test_a_signed_body_that_is_not_xeros_schema_is_400_logged_and_not_stored(store, caplog, body, problem):
    caplog.set_level(logging.WARNING, logger="xero_pipeline.webhooks")
    with receiver_thread(store) as url:
        assert _post(url, body).status_code == 400
    assert store.count() == 0
    assert problem in caplog.text
    assert KEY not in caplog.text and sign(body, KEY) not in caplog.text


def test_an_oversize_body_is_413_before_its_signature_is_checked(store):
    body = _body(_event(str(uuid.uuid4())))
    with receiver_thread(store, max_body=len(body) - 1) as url:
        assert _post(url, body).status_code == 413
        # Streamed without a Content-Length, the limit still holds.
        answer = requests.post(url, data=iter([body[:100], body[100:]]), headers={HEADER: sign(body, KEY)},
                               timeout=5)
        assert answer.status_code == 413
    assert store.count() == 0
