"""The trial balance is reconciled in every sync run, after both sides have loaded.

A live organisation brings new journals every day. The TrialBalance report must load
after them in the same run, so the check compares today's journals with today's report
and really passes or fails; a check that cannot be evaluated is recorded as skipped
(no evaluation), never as a failure.
"""

from __future__ import annotations

import dagster as dg

from xero_pipeline.cli.runner import register_tenants
from xero_pipeline.defs.assets import build_assets
from xero_pipeline.defs.checks import TRIAL_BALANCE_CHECK, build_checks
from xero_pipeline.defs.keys import asset_key
from xero_pipeline.defs.report_assets import build_report_asset
from xero_pipeline.registry import BY_TABLE, REPORTS_BY_NAME
from xero_pipeline.sandbox import Sandbox
from xero_pipeline_tests.sync_helpers import QUIET, evaluations, resources, step_failures

TB = dg.AssetCheckKey(asset_key("journals"), TRIAL_BALANCE_CHECK)


LEDGER = [BY_TABLE[t] for t in ("organisations", "accounts", "journals")]


def _daily_run(instance: dg.DagsterInstance, res: dict, tenant: str) -> dg.ExecuteInProcessResult:
    # What the xero_sync job runs for one tenant, cut to the trial balance's two sides:
    # the ledger objects with their checks, and the TrialBalance report.
    register_tenants(instance, [tenant])
    result = dg.materialize([*build_assets(LEDGER), build_report_asset(REPORTS_BY_NAME["trialbalance"]),
                             *build_checks(LEDGER)], instance=instance,
                            partition_key=tenant, resources=res, raise_on_error=False, run_config=QUIET)
    assert not step_failures(result), step_failures(result)
    return result


def test_the_trial_balance_is_compared_on_a_day_that_brings_new_journals(tmp_path):
    with Sandbox(tenants=1, scale=0.02, seed=23) as sb, dg.DagsterInstance.ephemeral() as instance:
        tenant = sb.tenant_ids[0]
        res = resources(sb, tmp_path)
        _daily_run(instance, res, tenant)
        sb.simulate_day()
        second = _daily_run(instance, res, tenant)
        journals = [m for m in second.get_asset_materialization_events()
                    if m.asset_key == asset_key("journals")]
        assert journals[0].step_materialization_data.materialization.metadata["rows_inserted"].value > 0, \
            "the simulated day brought no journals: the test would prove nothing"
        tb = evaluations(second)[("journals", TRIAL_BALANCE_CHECK)]
        assert tb.passed, tb.description
        assert tb.metadata["status"].value == "compared"


def test_a_check_that_cannot_be_evaluated_is_skipped_not_failed(tmp_path):
    # Journals alone: there is no TrialBalance report to compare with.
    with Sandbox(tenants=1, scale=0.01, seed=5) as sb, dg.DagsterInstance.ephemeral() as instance:
        tenant = sb.tenant_ids[0]
        register_tenants(instance, [tenant])
        result = dg.materialize([*build_assets(LEDGER), *build_checks(LEDGER)], instance=instance,
                                partition_key=tenant, resources=resources(sb, tmp_path), raise_on_error=False,
                                run_config=QUIET)
        assert result.success
        assert ("journals", TRIAL_BALANCE_CHECK) not in evaluations(result)
        record = instance.event_log_storage.get_asset_check_execution_history(TB, limit=1)[0]
        # Planned and never evaluated in a finished, successful run: the UI shows "skipped".
        assert record.status.value == "PLANNED"
        assert instance.get_run_by_id(result.run_id).status == dg.DagsterRunStatus.SUCCESS
