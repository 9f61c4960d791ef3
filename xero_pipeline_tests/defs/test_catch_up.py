"""A tenant whose first sync needs several days of its plan's calls, run by the daily schedule.

The small version of the large-organisation benchmark (``make bench``): a time-scaled
sandbox day allows a few dozen calls; each day the schedule asks for the tenant's run,
the run succeeds though its reads stop short, health says the tenant is catching up and
how far it got, and once the reads complete the warehouse equals the ground truth with
no page read twice.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from xero_pipeline.definitions import load_definitions
from xero_pipeline.defs.health_rules import assess
from xero_pipeline.defs.jobs import SYNC_JOB
from xero_pipeline.defs.partitions import TENANT_PARTITIONS_NAME
from xero_pipeline.defs.resources import WarehouseResource
from xero_pipeline.defs.tenant_records import gather_facts
from xero_pipeline.registry import BY_TABLE
from xero_pipeline.sandbox import Sandbox
from xero_pipeline.xero.paging import minimum_calls
from xero_pipeline_tests.defs.test_schedules import evaluate
from xero_pipeline_tests.resource_helpers import xero_resource
from xero_pipeline_tests.truth import diff_warehouse

DAY_SECONDS = 10.0  # longer than a run of a day's 12 calls takes, even on a loaded machine
CALLS_A_DAY = 12
OBJECTS = [BY_TABLE["contacts"], BY_TABLE["invoices"], BY_TABLE["journals"]]


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(tenants=1, scale=0.05, seed=3, limits=True, day_limit=CALLS_A_DAY,
                 time_scale=86_400 / DAY_SECONDS) as sb:
        yield sb


@pytest.mark.heavy(20)
def test_the_daily_schedule_catches_a_large_tenant_up_over_several_days(sandbox, tmp_path):
    tenant = sandbox.tenant_ids[0]
    truth = sandbox.ground_truth()
    db = tmp_path / "xero.duckdb"
    xero = xero_resource(sandbox, tmp_path, rate_window_seconds=0.01, page_size=20, checkpoint_pages=2)
    resources = {"xero": xero, "warehouse": WarehouseResource(database=str(db))}
    wired = load_definitions()
    job = dg.Definitions(assets=wired.assets, asset_checks=wired.asset_checks, jobs=wired.jobs,
                         resources=resources).resolve_job_def(SYNC_JOB)
    selection = [dg.AssetKey(["xero", t]) for o in OBJECTS for t in (o.table, *(c.table for c in o.children))]
    sandbox.reset_stats()
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(TENANT_PARTITIONS_NAME, [tenant])
        day = datetime(2026, 12, 1, 2, tzinfo=UTC)
        for n in range(1, 30):
            requests = evaluate(instance, xero, day).run_requests
            assert [r.partition_key for r in requests] == [tenant]
            result = job.execute_in_process(instance=instance, partition_key=tenant, tags=requests[0].tags,
                                            asset_selection=selection, raise_on_error=False)
            assert result.success, f"day {n}: the run failed"
            health = assess(gather_facts(instance, tenant), now=datetime.now(UTC))
            codes = {c.code for c in health.concerns}
            assert not health.failing, health.description
            if not {"catching_up", "deferred"} & codes:
                break
            # Progress is shown every day: how far each unfinished read got.
            text = health.description.lower()
            assert "catching up" in text and ("pages" in text
                                              or "journals" in text), health.description
            day += timedelta(days=1)
            time.sleep(DAY_SECONDS + 0.2)
        else:
            pytest.fail("the tenant never caught up")
    assert n > 1, "the allowance should have spread the sync over several days"
    calls = sandbox.stats()["calls"][tenant]
    invoices, contacts = len(truth[tenant]["Invoices"]), len(truth[tenant]["Contacts"])
    # Every page once; a read of several pages ends with one If-Modified-Since call, and
    # once read, an object costs one incremental call a day.
    assert calls["Invoices"] <= -(-invoices // 20) + 1 + (n - 1), calls
    assert calls["Contacts"] <= -(-contacts // 20) + 1 + (n - 1), calls
    assert calls["Journals"] == minimum_calls(BY_TABLE["journals"], len(truth[tenant]["Journals"])), calls
    assert not diff_warehouse(db, truth, OBJECTS)
