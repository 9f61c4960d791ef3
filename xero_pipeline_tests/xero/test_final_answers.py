"""Answers a retry cannot change are not retried; each repeat would spend a call of the
tenant's daily budget. Server trouble (500, 502, 503, 504) still is."""

from __future__ import annotations

import pytest

from xero_pipeline.errors import XeroApiError
from xero_pipeline.registry import BY_TABLE
from xero_pipeline.sandbox import Sandbox
from xero_pipeline_tests.resource_helpers import (
    run_sync,
    xero_resource,
)

INVOICES = "/api.xro/2.0/Invoices"


@pytest.fixture
def sandbox() -> Sandbox:
    with Sandbox(tenants=1, scale=0.02, seed=11, limits=False, unavailable={"ExpenseClaims": 404}) as sb:
        yield sb


def calls(sb: Sandbox, endpoint: str) -> int:
    return sb.stats()["calls"].get(sb.tenant_ids[0], {}).get(endpoint, 0)


# (how the final answer is produced, endpoint, status)
FINAL = [
    ("fault", "Invoices", 501),
    ("bad where", "Invoices", 400),
    ("unavailable", "ExpenseClaims", 404),
]


@pytest.mark.parametrize(("how", "endpoint", "status"), FINAL, ids=[str(f[2]) for f in FINAL])
def test_a_final_answer_costs_one_call(sandbox, tmp_path, how, endpoint, status):
    client = xero_resource(sandbox, tmp_path).get_client()
    tenant = sandbox.tenant_ids[0]
    params = {"where": "NoSuchField == 1"} if how == "bad where" else None
    if how == "fault":
        sandbox.inject(str(status), tenant_id=tenant, path=endpoint, count=10)
    sandbox.reset_stats()
    with pytest.raises(XeroApiError) as caught:
        client.get_json(f"/api.xro/2.0/{endpoint}", tenant_id=tenant, params=params, what=endpoint)
    assert caught.value.status == status and f"Xero returned {status}" in str(caught.value)
    assert calls(sandbox, endpoint) == 1
    assert client.stats.retries == 0


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_trouble_is_still_retried(sandbox, tmp_path, status):
    client = xero_resource(sandbox, tmp_path).get_client()
    tenant = sandbox.tenant_ids[0]
    sandbox.inject(str(status), tenant_id=tenant, path="Invoices", count=2)
    sandbox.reset_stats()
    body = client.get_json(INVOICES, tenant_id=tenant, params={"page": "1"}, what="invoices")
    assert body["Invoices"]
    assert sandbox.stats()["responses"][tenant]["Invoices"] == {str(status): 2, "200": 1}


def test_a_sync_meeting_a_501_fails_the_object_after_one_call(sandbox, instance, tmp_path, watch):
    watch.sandboxes.append(sandbox)
    watch.instances.append(instance)
    tenant = sandbox.tenant_ids[0]
    sandbox.inject("501", tenant_id=tenant, path="Invoices", count=10)
    report = run_sync(instance, sandbox, tmp_path, objects=[BY_TABLE["invoices"]])
    assert [step for _, step, _ in report.failures] == ["xero_invoices"], report.failures
    assert "501" in report.failures[0][2]
    assert calls(sandbox, "Invoices") == 1
