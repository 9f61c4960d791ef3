"""Injected faults, request statistics, the ground truth and the /_sandbox/ control routes."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import requests

from xero_pipeline.registry import OBJECTS
from xero_pipeline.sandbox import Sandbox
from xero_pipeline.sandbox.books.store import SandboxClock
from xero_pipeline_tests.conftest import N_CONTACTS, N_INVOICES, Api, _id, access_token, make_books


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    clock = SandboxClock()
    with Sandbox(books=[make_books(clock, 0), make_books(clock, 1)], limits=False, time_scale=10) as s:
        yield s


@pytest.fixture
def api(sb: Sandbox) -> Api:
    return Api(sb)


def test_503_is_plain_text(sb: Sandbox, api: Api) -> None:
    sb.inject("503", path="Invoices", count=2)
    for _ in range(2):
        resp = api.get("Invoices", page=1)
        assert resp.status_code == 503 and resp.text == "The Xero API is temporarily unavailable"
        assert resp.headers["Content-Type"].startswith("text/plain")
    assert api.get("Invoices", page=1).status_code == 200


def test_500(sb: Sandbox, api: Api) -> None:
    sb.inject("500")
    resp = api.get("Accounts")
    assert resp.status_code == 500 and resp.json()["Type"] == "UnhandledException"


def test_truncated_body(sb: Sandbox, api: Api) -> None:
    sb.inject("truncated", path="Invoices")
    resp = api.get("Invoices", page=1)
    assert resp.status_code == 200 and int(resp.headers["Content-Length"]) == len(resp.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(resp.content)
    assert api.get("Invoices", page=1).json()["Invoices"]


def test_connection_reset(sb: Sandbox, api: Api) -> None:
    sb.inject("reset", path="Contacts")
    with pytest.raises(requests.ConnectionError):
        api.get("Contacts")
    assert api.get("Contacts").status_code == 200  # the session reconnects
    assert sb.stats()["responses"][api.tenant_id]["Contacts"] == {"reset": 1, "200": 1}


def test_slow_response_is_time_scaled(sb: Sandbox, api: Api) -> None:
    sb.inject("slow", seconds=5)  # 0.5 s at time_scale 10
    t = time.perf_counter()
    assert api.get("Accounts").status_code == 200
    assert time.perf_counter() - t >= 0.45
    t = time.perf_counter()
    api.get("Accounts")
    assert time.perf_counter() - t < 0.3


@pytest.mark.parametrize("kind,problem", [("429_minute", "minute"), ("429_day", "day")])
def test_forced_429(sb: Sandbox, api: Api, kind: str, problem: str) -> None:
    sb.inject(kind, tenant_id=api.tenant_id)
    resp = api.get("Accounts")
    assert resp.status_code == 429 and resp.headers["X-Rate-Limit-Problem"] == problem
    header = "X-MinLimit-Remaining" if problem == "minute" else "X-DayLimit-Remaining"
    assert resp.headers[header] == "0"
    expected = 6 if problem == "minute" else 8640  # 60 s / 86400 s at time_scale 10
    assert int(resp.headers["Retry-After"]) == expected
    assert api.get("Accounts").status_code == 200
    assert sb.stats()["rate_limited"] == {problem: 1}


def test_expire_tokens(sb: Sandbox, api: Api) -> None:
    assert api.get("Accounts").status_code == 200
    sb.inject("expire_tokens")
    resp = api.get("Accounts")
    assert resp.status_code == 401 and resp.json()["Detail"].startswith("TokenExpired")
    assert Api(sb).get("Accounts").status_code == 200  # a refreshed token works


def test_targeting_tenant_path_and_after_page(sb: Sandbox, api: Api) -> None:
    other = Api(sb, tenant_id=sb.tenant_ids[1], token=api.token)
    sb.inject("503", tenant_id=api.tenant_id, path="invoices", after_page=2)
    assert other.get("Invoices", page=1).status_code == 200  # another tenant
    assert api.get("Contacts").status_code == 200  # another path
    assert [api.get("Invoices", page=p).status_code for p in (1, 2, 3, 3)] == [200, 200, 503, 200]
    assert sb.faults.pending() == []


def test_faults_on_the_token_endpoint(sb: Sandbox) -> None:
    sb.inject("503", path="connect/token")
    resp = requests.post(f"{sb.url}/connect/token", data={"grant_type": "refresh_token",
                         "refresh_token": sb.new_refresh_token(), "client_id": sb.client_id,
                         "client_secret": sb.client_secret})
    assert resp.status_code == 503
    Api(sb)  # the next one works


def test_clear_faults(sb: Sandbox, api: Api) -> None:
    sb.inject("500", count=10)
    sb.clear_faults()
    assert api.get("Accounts").status_code == 200


def test_stats_count_calls_statuses_and_refreshes(sb: Sandbox, api: Api) -> None:
    sb.reset_stats()
    Api(sb)
    api.get("Invoices", page=1)
    api.get("Invoices", page=2)
    api.get("Invoices", where="Nope == 1")
    api.get("Contacts", headers={"xero-tenant-id": ""})
    stats = sb.stats()
    assert stats["calls"][api.tenant_id]["Invoices"] == 3
    assert stats["responses"][api.tenant_id]["Invoices"] == {"200": 2, "400": 1}
    assert stats["calls"]["-"] == {"connect/token": 1, "Contacts": 1}
    assert stats["status"] == {"200": 3, "400": 1, "403": 1}
    assert stats["token_refreshes"] == 1 and stats["calls_total"] == 5
    assert stats["max_concurrent"][api.tenant_id] == 1
    sb.reset_stats()
    assert sb.stats()["calls_total"] == 0


def test_ground_truth_is_a_perfect_full_read(sb: Sandbox, api: Api) -> None:
    books = sb.books[api.tenant_id]
    books.delete("Items", _id(0, "item", 1))  # hard delete: absent from the truth
    truth = sb.ground_truth()
    assert set(truth) == set(sb.tenant_ids)
    mine = truth[api.tenant_id]
    assert set(mine) == {o.path for o in OBJECTS}
    assert len(mine["Contacts"]) == N_CONTACTS and len(mine["BankTransfers"]) == 3  # archived/deleted in
    assert len(mine["TrackingCategories"]) == 2 and len(mine["TrackingCategories"][0]["Options"]) == 2
    assert mine["Items"] == []
    inv = mine["Invoices"][0]
    assert inv["LineItems"][0]["UnitAmount"] == Decimal("10.1250") and isinstance(inv["Total"], Decimal)
    assert mine["Quotes"][0]["LineItems"][0]["UnitAmount"] == Decimal("2.51")  # no unitdp on Quotes
    paged = [i for p in (1, 2, 3) for i in json.loads(api.get("Invoices", page=p, unitdp=4).content,
                                                      parse_float=Decimal)["Invoices"]]
    assert paged == mine["Invoices"] and len(paged) == N_INVOICES
    assert len(mine["Journals"]) == 250 and mine["Journals"][0]["SourceID"]


def test_control_routes(sb: Sandbox, api: Api) -> None:
    base = f"{sb.url}/_sandbox"
    info = requests.get(f"{base}/info").json()
    assert info["client_id"] == sb.client_id and [t["tenant_id"] for t in info["tenants"]] == sb.tenant_ids
    rt = requests.post(f"{base}/refresh-token").json()["refresh_token"]
    assert access_token(sb, rt)
    before = sb.clock.now()
    now = datetime.fromisoformat(requests.post(f"{base}/advance", params={"seconds": 3600}).json()["now"])
    assert now - before >= timedelta(hours=1)
    fid = requests.post(f"{base}/faults", json={"kind": "503", "path": "Accounts", "count": 2}).json()["id"]
    assert [f["id"] for f in requests.get(f"{base}/faults").json()] == [fid]
    assert api.get("Accounts").status_code == 503
    assert requests.delete(f"{base}/faults").json() == {"cleared": True}
    assert api.get("Accounts").status_code == 200
    assert requests.post(f"{base}/faults", json={"kind": "bogus"}).status_code == 400
    stats = requests.get(f"{base}/stats").json()
    assert stats["responses"][api.tenant_id]["Accounts"] == {"503": 1, "200": 1}
    requests.post(f"{base}/stats/reset")
    assert requests.get(f"{base}/stats").json()["calls_total"] == 0
    truth = json.loads(requests.get(f"{base}/ground-truth", params={"tenant_id": api.tenant_id}).content,
                       parse_float=Decimal)
    assert list(truth) == [api.tenant_id] and truth == sb.ground_truth(tenant_id=api.tenant_id)
    other = sb.tenant_ids[1]
    resp = requests.post(f"{base}/connections", json={"action": "disconnect", "tenant_id": other})
    assert resp.json() == {"tenant_id": other, "connected": False}
    assert api.get("Accounts", headers={"xero-tenant-id": other}).status_code == 403
    requests.post(f"{base}/connections", json={"action": "connect", "tenant_id": other})
    assert api.get("Accounts", headers={"xero-tenant-id": other}).status_code == 200
    assert requests.post(f"{base}/expire-tokens").json()["expired"] >= 1
    assert api.get("Accounts").status_code == 401
    assert requests.get(f"{base}/nothing").status_code == 404
