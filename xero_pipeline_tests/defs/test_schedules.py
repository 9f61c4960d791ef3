"""The daily schedule: its settings, and one run per connected tenant per day against the sandbox."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from xero_pipeline.definitions import load_definitions
from xero_pipeline.defs.health import CHECK_KEY
from xero_pipeline.defs.partitions import TENANT_PARTITIONS_NAME
from xero_pipeline.defs.resources import XeroResource
from xero_pipeline.defs.schedules import (
    DEFAULT_CRON,
    build_daily_schedule,
    plan_daily_runs,
    run_key,
    schedule_settings,
)
from xero_pipeline.defs.tenant_records import connection_observation
from xero_pipeline.errors import ConfigError
from xero_pipeline.registry import OBJECTS
from xero_pipeline.sandbox import Sandbox

# ------------------------------------------------------------------ settings


def test_defaults_to_two_in_the_morning_utc():
    assert schedule_settings({}) == (DEFAULT_CRON, "UTC") == ("0 2 * * *", "UTC")
    schedule = build_daily_schedule(env={})
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 2 * * *", "UTC")
    assert schedule.job_name == "xero_sync"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def test_cron_and_timezone_come_from_the_environment_when_the_definitions_load(monkeypatch):
    # The module is already imported (by this test file); only loading reads the variables.
    monkeypatch.setenv("XERO_SCHEDULE_CRON", "30 4 * * 1-5")
    monkeypatch.setenv("XERO_SCHEDULE_TIMEZONE", "Pacific/Auckland")
    schedule = load_definitions().get_repository_def().get_schedule_def("xero_daily")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("30 4 * * 1-5", "Pacific/Auckland")


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"XERO_SCHEDULE_CRON": "every day at two"}, "XERO_SCHEDULE_CRON"),
        ({"XERO_SCHEDULE_TIMEZONE": "Mars/Olympus_Mons"}, "XERO_SCHEDULE_TIMEZONE"),
    ],
)
def test_a_wrong_setting_is_refused_naming_the_variable(env, named):
    with pytest.raises(ConfigError, match=named):
        build_daily_schedule(env=env)


def test_the_job_covers_every_xero_object_and_the_ledger_views_but_not_the_health_check():
    repo = load_definitions().get_repository_def()
    job = repo.get_job("xero_sync")
    keys = job.asset_layer.selected_asset_keys
    assert {dg.AssetKey(["xero", o.table]) for o in OBJECTS} <= keys
    ledger = {k for k in repo.asset_graph.get_all_asset_keys() if repo.asset_graph.get(k).group_name == "ledger"}
    assert ledger and ledger <= keys
    assert CHECK_KEY not in job.asset_layer.asset_graph.asset_check_keys


def test_plan_runs_connected_registered_tenants_only():
    plan = plan_daily_runs(connected=["a", "b", "new"], known=["a", "b", "gone"])
    assert plan.tenants == ["a", "b"]
    assert any("new" in n for n in plan.notes) and any("gone" in n for n in plan.notes)
    # Xero could not be asked: known tenants minus the ones recorded as disconnected.
    assert plan_daily_runs(connected=None, known=["a", "b", "gone"], disconnected={"gone"}).tenants == ["a", "b"]
    assert run_key(datetime(2026, 3, 4).date(), "a") == "daily:2026-03-04:a"


# ------------------------------------------------------------------ against the sandbox


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(tenants=3, scale=0.01, seed=17, limits=False) as sb:
        yield sb


@pytest.fixture
def instance(sandbox) -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as inst:
        inst.add_dynamic_partitions(TENANT_PARTITIONS_NAME, sandbox.tenant_ids)
        yield inst


def xero(sandbox: Sandbox, tmp_path: Path, **overrides) -> XeroResource:
    settings = dict(
        client_id=sandbox.client_id, client_secret=sandbox.client_secret, refresh_token=sandbox.refresh_token,
        api_url=sandbox.url, identity_url=sandbox.url, token_store=str(tmp_path / "tokens.json"),
        backoff_seconds=0.05, max_retries=1,
    )
    return XeroResource(**{**settings, **overrides})


def evaluate(instance, resource, when: datetime):
    schedule = build_daily_schedule(env={})
    # As a context manager, so its resources are torn down now rather than by the garbage
    # collector in some later test.
    with dg.build_schedule_context(
        instance=instance, resources={"xero": resource}, scheduled_execution_time=when,
        repository_def=load_definitions().get_repository_def(),
    ) as context:
        return schedule.evaluate_tick(context)


def test_one_run_per_connected_tenant_per_day(sandbox, instance, tmp_path):
    resource = xero(sandbox, tmp_path)
    monday = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
    first = evaluate(instance, resource, monday).run_requests
    names = {t["tenant_id"]: t["name"] for t in sandbox.info()["tenants"]}
    assert sorted(r.partition_key for r in first) == sorted(sandbox.tenant_ids)
    assert len({r.run_key for r in first}) == len(first)  # unique per tenant
    for request in first:
        assert request.run_key == f"daily:2026-06-01:{request.partition_key}"
        tags = request.tags
        assert (tags["xero/tenant"], tags["dagster/partition"], tags["xero/trigger"]) == (
            request.partition_key, request.partition_key, "schedule")
        # The organisation's name beside the id, on the Runs page and in its filters.
        assert tags["xero/tenant_name"] == names[request.partition_key]

    # The same tick evaluated again asks for the same keys, which Dagster starts only once.
    again = evaluate(instance, resource, monday).run_requests
    assert {r.run_key for r in again} == {r.run_key for r in first}
    tuesday = evaluate(instance, resource, datetime(2026, 6, 2, 2, 0, tzinfo=UTC)).run_requests
    assert not {r.run_key for r in tuesday} & {r.run_key for r in first}

    leaves = sandbox.tenant_ids[1]
    sandbox.disconnect_tenant(leaves)
    after = evaluate(instance, resource, datetime(2026, 6, 3, 2, 0, tzinfo=UTC)).run_requests
    assert sorted(r.partition_key for r in after) == sorted(t for t in sandbox.tenant_ids if t != leaves)


def test_without_xero_the_known_connected_tenants_still_run(sandbox, instance, tmp_path):
    """If /connections fails (here: a wrong secret), runs still start, and fail with the
    real error per tenant, where the health check reports it."""
    gone = sandbox.tenant_ids[2]
    instance.report_runless_asset_event(connection_observation(gone, connected=False, at=datetime.now(UTC)))
    broken = xero(sandbox, tmp_path, client_secret="wrong")
    requests = evaluate(instance, broken, datetime(2026, 6, 1, 2, 0, tzinfo=UTC)).run_requests
    assert sorted(r.partition_key for r in requests) == sorted(sandbox.tenant_ids[:2])


def test_no_connected_tenant_skips_with_a_reason(sandbox, tmp_path):
    with dg.instance_for_test() as empty:
        result = evaluate(empty, xero(sandbox, tmp_path), datetime(2026, 6, 1, 2, 0, tzinfo=UTC))
    assert not result.run_requests
    assert "not partitions yet" in result.skip_message


def test_a_later_tick_the_same_day_starts_only_tenants_without_a_run_today(sandbox, instance, tmp_path):
    """Dagster skips a schedule's run key only within one tick: with ``0 2-5 * * *`` the
    03:00 tick would start every tenant again. Today's run that is going or done counts;
    one that failed or was canceled is tried again."""
    resource = xero(sandbox, tmp_path)
    done, failed, not_yet = sandbox.tenant_ids[:3]
    first = evaluate(instance, resource, datetime(2026, 6, 1, 2, 0, tzinfo=UTC)).run_requests
    status = {done: dg.DagsterRunStatus.SUCCESS, failed: dg.DagsterRunStatus.FAILURE}
    for request in first:
        if request.partition_key in status:
            instance.add_run(dg.DagsterRun(job_name="xero_sync", status=status[request.partition_key],
                                           tags={**request.tags, "dagster/run_key": request.run_key,
                                                 "dagster/schedule_name": "xero_daily"}))

    later = evaluate(instance, resource, datetime(2026, 6, 1, 3, 0, tzinfo=UTC))
    assert sorted(r.partition_key for r in later.run_requests) == sorted(t for t in sandbox.tenant_ids if t != done)
    assert not_yet in {r.partition_key for r in later.run_requests}
    next_day = evaluate(instance, resource, datetime(2026, 6, 2, 2, 0, tzinfo=UTC)).run_requests
    assert sorted(r.partition_key for r in next_day) == sorted(sandbox.tenant_ids)
