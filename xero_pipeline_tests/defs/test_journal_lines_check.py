"""The journals balance check fails a journal that lost all its lines: Xero posts every
journal with lines, so an empty one is a lost write, not a balanced journal."""

from __future__ import annotations

import dagster as dg

from xero_pipeline.defs.checks import BALANCE_CHECK
from xero_pipeline.registry import BY_TABLE
from xero_pipeline.sandbox import Sandbox
from xero_pipeline.warehouse.connection import open_warehouse
from xero_pipeline_tests import sync_helpers as runs

JOURNALS = [BY_TABLE["journals"]]


def test_a_journal_without_lines_fails_the_balance_check(tmp_path):
    with Sandbox(tenants=1, scale=0.02, seed=17, limits=False) as sandbox, \
            dg.DagsterInstance.ephemeral() as instance:
        tenant = sandbox.tenant_ids[0]
        res = runs.resources(sandbox, tmp_path)
        result = runs.run_tenant(instance, res, tenant, JOURNALS)
        assert not runs.step_failures(result), runs.step_failures(result)
        assert runs.evaluations(result)[("journals", BALANCE_CHECK)].passed

        conn = open_warehouse(tmp_path / "xero.duckdb")
        try:
            journal, number = conn.execute(
                "SELECT journal_id, journal_number FROM xero.journals WHERE tenant_id = ? "
                "ORDER BY journal_number LIMIT 1 OFFSET 3", [tenant]).fetchone()
            for table in ("journal_line_tracking", "journal_lines"):
                conn.execute(f"DELETE FROM xero.{table} WHERE journal_id = ?", [journal])
        finally:
            conn.close()

        failed = runs.failed_checks(runs.run_checks_only(instance, res, tenant, JOURNALS))
        text = failed[("journals", BALANCE_CHECK)]
        assert tenant in text and journal in text and "no lines" in text, text
        assert f"{journal}/{number}" in text
