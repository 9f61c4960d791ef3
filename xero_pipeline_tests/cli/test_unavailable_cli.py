"""`xero-pipeline sync` for a tenant of a 2026 app (journals and classic expenses refused):
exit 0, the refused objects listed with the reason, everything else equal to Xero, the
tenant healthy, and the next day's sync asks Xero nothing about the refused endpoints."""

from __future__ import annotations

from datetime import UTC, date, datetime

import dagster as dg
import pytest

from xero_pipeline.defs.health_rules import assess
from xero_pipeline.defs.tenant_records import gather_facts
from xero_pipeline.registry import OBJECTS
from xero_pipeline.sandbox import AppProfile, Sandbox
from xero_pipeline_tests.resource_helpers import FAST_PACING, assert_matches_truth, cli_env, run_cli

REFUSED = ("Journals", "ExpenseClaims", "Receipts")
# An app created after 2 March 2026 (granular scopes only: no classic expenses) without
# Xero's Advanced tier (no journals), as most of our users' apps are.
APP_2026 = AppProfile(plan="core", app_created=date(2026, 6, 1), journals=False)
REFUSED_TABLES = {"journals": "accounting.journals.read", "expense_claims": "accounting.classicexpenses.read",
                  "receipts": "accounting.classicexpenses.read"}


def calls_to(sandbox: Sandbox, endpoint: str) -> int:
    return sum(per.get(endpoint, 0) for per in sandbox.stats()["calls"].values())


@pytest.mark.heavy(30)
def test_a_2026_app_syncs_with_exit_0_and_lists_what_is_not_available(tmp_path):
    with Sandbox(tenants=1, scale=0.02, seed=3, limits=False, profile=APP_2026) as sandbox:
        tenant = sandbox.tenant_ids[0]
        env = cli_env(sandbox, tmp_path, **FAST_PACING)
        result = run_cli("sync", env=env)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        lines = result.stdout.splitlines()
        for table, scope in REFUSED_TABLES.items():
            said = [line for line in lines if line.split()[:1] == [table]]
            assert said and "not available" in said[0] and scope in said[0], result.stdout
        assert "3 not available" in result.stdout
        # Without journals the ledger is rebuilt from documents, but Xero withholds the classic
        # expense claims and receipts too: the reconciliation says so, as a warning, not a failure.
        rebuilt = [line for line in lines if "rebuilt_ledger_matches_trial_balance" in line]
        assert rebuilt and all("(warning)" in line and "withholds expense_claims, receipts" in line
                               for line in rebuilt), rebuilt
        assert_matches_truth(sandbox, tmp_path, [o for o in OBJECTS if o.table not in REFUSED_TABLES])

        with dg.DagsterInstance.from_config(str(tmp_path / "dagster_home")) as instance:
            health = assess(gather_facts(instance, tenant), now=datetime.now(UTC))
        assert health.passed, health.description
        assert "journals" in health.description and "not available" in health.description

        # The next sync (the refused objects and one that is served, to keep it short).
        sandbox.reset_stats()
        again = run_cli("sync", "--select", "invoices,journals,expense_claims,receipts", env=env)
        assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
        assert calls_to(sandbox, "Invoices") > 0
        for endpoint in REFUSED:
            assert calls_to(sandbox, endpoint) == 0, endpoint
        assert "journals" in again.stdout and "not available" in again.stdout
