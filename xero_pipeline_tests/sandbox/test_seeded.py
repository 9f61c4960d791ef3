"""The sandbox over seeded books: every endpoint, the ground truth, activity and mutation faults."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal

import pytest
import requests

from xero_pipeline.registry import OBJECTS, REPORTS, Paging, XeroObject
from xero_pipeline.sandbox import Sandbox
from xero_pipeline_tests.conftest import Api


def parsed(resp: requests.Response) -> dict:
    assert resp.status_code == 200, resp.text[:300]
    return json.loads(resp.content, parse_float=Decimal)


def full_read(api: Api, obj: XeroObject, **extra: object) -> list[dict]:
    """Everything a careful client can read: paged where that brings lines, all flags on."""
    params: dict = {p: "true" for p in obj.include_params} | ({"unitdp": 4} if obj.unitdp else {}) | extra
    out: list[dict] = []
    if obj.paging is Paging.OFFSET:
        offset = 0
        while batch := parsed(api.get(obj.path, offset=offset, **params))[obj.envelope]:
            out += batch
            offset = batch[-1]["JournalNumber"]
        return out
    if obj.paging in (Paging.PAGE_SIZE, Paging.PAGE_ONLY):
        page = 1
        while batch := parsed(api.get(obj.path, page=page, pageSize=200, **params))[obj.envelope]:
            out += batch
            page += 1
        return out
    records = parsed(api.get(obj.path, **params))[obj.envelope]
    for r in records:  # arrays only a read by id fills (a contact group's members)
        for f in obj.filled_singly:
            r[f] = parsed(api.get(f"{obj.path}/{r[obj.primary_key]}"))[obj.envelope][0].get(f, [])
        if obj.path == "Budgets":  # at most 24 months a read: the seeded ones lie within these 48
            halves = [parsed(api.get(f"Budgets/{r['BudgetID']}", DateFrom=a, DateTo=b))["Budgets"][0]["BudgetLines"]
                      for a, b in (("2024-11-01", "2026-10-31"), ("2026-11-01", "2028-10-31"))]
            r["BudgetLines"] = [{**x, "BudgetBalances": x["BudgetBalances"] + y["BudgetBalances"]}
                                for x, y in zip(*halves, strict=True)]
    return records


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """Two seeded tenants for the tests that only read them, shared by the module."""
    with Sandbox(tenants=2, scale=0.02, seed=7, limits=False) as sb:
        yield sb


@pytest.fixture
def fresh() -> Iterator[Sandbox]:
    with Sandbox(tenants=2, scale=0.02, seed=3, limits=False) as sb:
        yield sb


def test_ground_truth_equals_a_full_read_of_every_collection(sandbox: Sandbox) -> None:
    truth = sandbox.ground_truth()
    for tenant in sandbox.tenant_ids:
        api = Api(sandbox, tenant_id=tenant)
        for obj in OBJECTS:
            got = full_read(api, obj)
            want = truth[tenant][obj.path]
            assert sorted(json.dumps(r, sort_keys=True, default=str) for r in got) == \
                sorted(json.dumps(r, sort_keys=True, default=str) for r in want), (tenant, obj.path)
        assert truth[tenant]["Invoices"] and truth[tenant]["Journals"]


def test_unpaged_reads_of_seeded_documents_carry_no_lines(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    for obj in OBJECTS:
        if obj.lines_need_paging:
            records = parsed(api.get(obj.path))[obj.envelope]
            assert records and all(r.get("LineItems", []) == [] for r in records), obj.path
            paged = parsed(api.get(obj.path, page=1))[obj.envelope]
            assert any(r.get("LineItems") for r in paged), obj.path


def test_simulated_day_shows_up_in_ims_reads(fresh: Sandbox) -> None:
    api = Api(fresh)
    before = fresh.clock.now().replace(microsecond=0)
    changes = fresh.simulate_day()
    assert set(changes) == set(fresh.tenant_ids) and any(changes[api.tenant_id].values())
    after = fresh.clock.now()
    assert (after - before).total_seconds() >= 86_400 - 1  # the shared clock moved one day, once
    ims = {"If-Modified-Since": before.isoformat()}
    changed = parsed(api.get("Invoices", page=1, pageSize=1000, headers=ims))
    assert changed["pagination"]["itemCount"] > 0
    assert all(r["UpdatedDateUTC"] >= f"/Date({int(before.timestamp() * 1000)}" for r in changed["Invoices"])
    journals = parsed(api.get("Journals", headers={"If-Modified-Since": before.isoformat()}))["Journals"]
    assert journals  # the day posted to the ledger
    truth = fresh.ground_truth(tenant_id=api.tenant_id)[api.tenant_id]
    assert {i["InvoiceID"] for i in full_read(api, next(o for o in OBJECTS if o.path == "Invoices"))} == \
        {i["InvoiceID"] for i in truth["Invoices"]}


def test_simulate_day_control_route(fresh: Sandbox) -> None:
    tenant = fresh.tenant_ids[1]
    resp = requests.post(f"{fresh.url}/_sandbox/simulate-day", params={"tenant_id": tenant})
    assert resp.status_code == 200 and list(resp.json()) == [tenant]


def test_mutate_while_paging(fresh: Sandbox) -> None:
    api = Api(fresh)
    since = fresh.clock.now().replace(microsecond=0)
    fresh.inject("mutate", tenant_id=api.tenant_id, path="Invoices", after_page=1, count=5)
    first = parsed(api.get("Invoices", page=1, pageSize=20))
    assert fresh.stats()["faults_fired"] == {"mutate": 1}
    ims = {"If-Modified-Since": since.isoformat()}
    edited = parsed(api.get("Invoices", page=1, pageSize=100, headers=ims))
    assert edited["pagination"]["itemCount"] == 5
    # Edited records move to the end of the default (UpdatedDateUTC) order, so the pages
    # a client has not read yet shift under it.
    ids = {i["InvoiceID"] for i in edited["Invoices"]}
    order = [i["InvoiceID"] for i in parsed(api.get("Invoices", page=1, pageSize=1000))["Invoices"]]
    assert set(order[-5:]) == ids and len(order) == first["pagination"]["itemCount"]


def test_insert_while_paging(fresh: Sandbox) -> None:
    api = Api(fresh)
    count = parsed(api.get("Journals"))["Journals"][-1]["JournalNumber"]
    total = len(fresh.books[api.tenant_id].collections["Journals"])
    fresh.inject("insert", tenant_id=api.tenant_id, path="Journals", after_page=1)
    assert parsed(api.get("Journals"))["Journals"][-1]["JournalNumber"] == count
    assert len(fresh.books[api.tenant_id].collections["Journals"]) > total


def test_connect_a_new_seeded_tenant(fresh: Sandbox) -> None:
    new = fresh.connect_tenant()
    assert new in fresh.tenant_ids and len(fresh.tenant_ids) == 3
    api = Api(fresh, tenant_id=new)
    assert parsed(api.get("Organisation"))["Organisations"][0]["OrganisationID"]
    conns = requests.get(f"{fresh.url}/connections", headers={"Authorization": f"Bearer {api.token}"}).json()
    assert new in {c["tenantId"] for c in conns}


def test_reports(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    contact = parsed(api.get("Contacts"))["Contacts"][0]["ContactID"]
    for report in REPORTS:
        params = {"contactId": contact} if report.per_contact else {}
        body = parsed(api.get(f"Reports/{report.name}", **params))
        assert len(body["Reports"]) == 1 and body["Reports"][0]["Rows"], report.name
    assert api.get("Reports/NoSuchReport").status_code == 404
    assert parsed(api.get("Reports"))["Reports"] == []


def test_cli_serves_until_sigterm() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "xero_pipeline.sandbox", "--port", "0", "--json", "--scale", "0.01",
         "--no-limits"],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        info = json.loads(proc.stdout.readline())
        assert info["client_id"] and info["refresh_token"] and len(info["tenants"]) == 2
        served = requests.get(f"{info['url']}/_sandbox/info", timeout=10).json()
        assert served["client_id"] == info["client_id"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
