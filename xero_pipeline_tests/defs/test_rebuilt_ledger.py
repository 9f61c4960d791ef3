"""The general ledger rebuilt from documents, reconciled with Xero's reports and journals.

Both demo organisations (the NZ one books in foreign currencies too) are synced over
HTTP from the sandbox into DuckDB with the two ledger reports, the rebuilt ledger's view
and its checks, as a daily run does. Without journals (the app is not on Xero's
Advanced tier) the rebuild must equal Xero's TrialBalance at every month end and its
ProfitAndLoss every month; with journals it must equal them by account and month.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest

from xero_pipeline.defs.rebuild_checks import (
    REBUILT_JOURNALS_CHECK,
    REBUILT_PROFIT_AND_LOSS_CHECK,
    REBUILT_TRIAL_BALANCE_CHECK,
    build_rebuilt_ledger_checks,
)
from xero_pipeline.defs.report_assets import build_report_asset
from xero_pipeline.defs.resources import WarehouseResource
from xero_pipeline.defs.view_assets import REBUILT_FOR_KEY, build_rebuilt_view_asset, build_view_assets
from xero_pipeline.registry import BY_TABLE, REPORTS_BY_NAME
from xero_pipeline.sandbox import Sandbox
from xero_pipeline.sandbox.identity.profile import AppProfile
from xero_pipeline.warehouse.connection import open_warehouse
from xero_pipeline.warehouse.views import LEDGER_VIEWS, create_view
from xero_pipeline_tests.sync_helpers import QUIET, evaluations, resources, run_tenant, step_failures

pytestmark = [pytest.mark.xdist_group("rebuilt_ledger"), pytest.mark.heavy(40)]

# The chart, the tax rates, every document the ledger is rebuilt from, and the journals.
OBJECTS = [BY_TABLE[t] for t in (
    "organisations", "accounts", "tax_rates", "invoices", "credit_notes", "payments", "bank_transactions",
    "bank_transfers", "overpayments", "prepayments", "manual_journals", "expense_claims", "receipts", "journals")]
TB, PL, JOURNALS = ("report_trial_balance", REBUILT_TRIAL_BALANCE_CHECK), (
    "report_profit_and_loss", REBUILT_PROFIT_AND_LOSS_CHECK), ("journals", REBUILT_JOURNALS_CHECK)


def _ledger_run_parts() -> list:
    return [build_report_asset(REPORTS_BY_NAME["trialbalance"]), build_report_asset(REPORTS_BY_NAME["profitandloss"]),
            build_rebuilt_view_asset(), build_rebuilt_ledger_checks()]


def _sync(sb: Sandbox, instance: dg.DagsterInstance, tmp: Path) -> dict[str, dg.ExecuteInProcessResult]:
    res = resources(sb, tmp)
    results = {}
    for tenant in sb.tenant_ids:
        results[tenant] = run_tenant(instance, res, tenant, OBJECTS, extra=_ledger_run_parts())
        assert not step_failures(results[tenant]), step_failures(results[tenant])
    return results


def _rows(db: Path, sql: str, params=()) -> list[tuple]:
    conn = open_warehouse(db, read_only=True)
    try:
        return conn.execute(sql, list(params)).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def refused(tmp_path_factory) -> Iterator[tuple[Sandbox, dg.DagsterInstance, Path, dict]]:
    """Both demo organisations synced by an app Xero refuses journals (no Advanced tier)."""
    tmp = tmp_path_factory.mktemp("refused")
    with Sandbox(tenants=2, scale=0.02, seed=7, limits=False, profile=AppProfile(journals=False)) as sb, \
            dg.DagsterInstance.ephemeral() as instance:
        results = _sync(sb, instance, tmp)
        conn = open_warehouse(tmp / "xero.duckdb")
        try:
            for view in LEDGER_VIEWS:
                create_view(conn, view)
        finally:
            conn.close()
        yield sb, instance, tmp, results


def test_without_journals_the_rebuilt_ledger_equals_xeros_trial_balance_and_profit_and_loss(refused):
    sb, _, tmp, results = refused
    db = tmp / "xero.duckdb"
    for tenant in sb.tenant_ids:
        checks = evaluations(results[tenant])
        for key in (TB, PL):
            assert checks[key].passed, checks[key].description
            assert checks[key].metadata["status"].value == "compared"
        assert JOURNALS not in checks  # no journals to compare with: skipped, not failed
        # Through the views users query: the trial balance at every report date is Xero's.
        report = _rows(db, "SELECT report_date, account_id, sum(CASE column_label WHEN 'YTD Debit' THEN value "
                           "ELSE -value END) FROM xero.report_trial_balance WHERE tenant_id = ? AND account_id "
                           "IS NOT NULL AND column_label IN ('YTD Debit', 'YTD Credit') GROUP BY ALL "
                           "HAVING sum(CASE column_label WHEN 'YTD Debit' THEN value ELSE -value END) <> 0", [tenant])
        views = _rows(db, "SELECT month_end, account_id, balance FROM ledger.trial_balance WHERE tenant_id = ? "
                          "AND balance <> 0 AND month_end IN (SELECT report_date FROM xero.report_trial_balance "
                          "WHERE tenant_id = ?)", [tenant, tenant])
        assert sorted(views) == sorted(report) and len({r[0] for r in report}) == 12
    assert _rows(db, "SELECT DISTINCT ledger_source FROM ledger.ledger_source") == [("documents",)]
    assert "accounting.journals.read" in _rows(db, "SELECT any_value(reason) FROM ledger.ledger_source")[0][0]
    assert _rows(db, "SELECT DISTINCT ledger_source FROM ledger.general_ledger") == [("documents",)]
    # What makes the comparison worth having: payments of foreign documents realised currency
    # gains, voided and deleted documents were reversed, and every family of document posted.
    fx, reversals = _rows(db, "SELECT count(*) FILTER (WHERE line_id LIKE '%:fx'), count(*) FILTER (WHERE "
                              "is_reversal) FROM ledger.document_journal_lines")[0]
    assert fx > 0 and reversals > 0
    families = {r[0] for r in _rows(db, "SELECT DISTINCT source_type FROM ledger.document_journal_lines")}
    assert {"ACCREC", "ACCPAY", "ACCRECCREDIT", "ACCRECPAYMENT", "ACCPAYPAYMENT", "CASHREC", "CASHPAID",
            "TRANSFER", "AROVERPAYMENT", "ARPREPAYMENT", "MANJOURNAL", "EXPCLAIM", "EXPPAYMENT"} <= families


def test_a_corrupted_document_fails_the_checks_naming_the_account_and_month(refused, tmp_path):
    sb, instance, tmp, _ = refused
    shutil.copy(tmp / "xero.duckdb", tmp_path / "xero.duckdb")
    tenant = sb.tenant_ids[0]
    conn = open_warehouse(tmp_path / "xero.duckdb")
    try:
        # A sales invoice inside the reports' months whose line is recoded to another revenue account.
        invoice, line, old, new, month_end = conn.execute(
            "SELECT i.invoice_id, l.line_item_id, l.account_id, "
            "  (SELECT min(a.account_id) FROM xero.accounts a WHERE a.tenant_id = i.tenant_id "
            "   AND a.class = 'REVENUE' AND a.account_id <> l.account_id AND a.system_account IS NULL), "
            "  last_day(i.date) "
            "FROM xero.invoices i JOIN xero.invoice_line_items l USING (tenant_id, invoice_id) "
            "WHERE i.tenant_id = ? AND i.type = 'ACCREC' AND i.status = 'PAID' AND i.currency_code = "
            "  (SELECT base_currency FROM xero.organisations WHERE tenant_id = ?) AND l.line_amount > 0 "
            "  AND i.date > (SELECT min(period_start) FROM xero.report_profit_and_loss WHERE tenant_id = ?) "
            "ORDER BY i.date, l.line_item_id LIMIT 1", [tenant, tenant, tenant]).fetchone()
        conn.execute("UPDATE xero.invoice_line_items SET account_id = ?, account_code = (SELECT code FROM "
                     "xero.accounts WHERE tenant_id = ? AND account_id = ?) WHERE tenant_id = ? AND line_item_id = ?",
                     [new, tenant, new, tenant, line])
        names = dict(conn.execute("SELECT account_id, code || ' ' || name FROM xero.accounts WHERE tenant_id = ?",
                                  [tenant]).fetchall())
    finally:
        conn.close()
    res = {**resources(sb, tmp), "warehouse": WarehouseResource(database=str(tmp_path / "xero.duckdb"))}
    result = dg.materialize(_ledger_run_parts(), instance=instance, tags={"dagster/partition": tenant},
                            resources=res, raise_on_error=False, run_config=QUIET,
                            selection=dg.AssetSelection.all_asset_checks())
    checks = evaluations(result)
    for key in (TB, PL):
        check = checks[key]
        assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR, invoice
        # "2026-03-31 200 Sales: rebuilt -100.00, report -120.00, off by 20.00"
        for account in (old, new):
            assert f"{month_end} {names[account]}: rebuilt " in check.description, (account, check.description)
        assert "off by" in check.description
    assert Decimal(checks[TB].metadata["differences"].value) > 0


@pytest.fixture
def served(tmp_path) -> Iterator[tuple[Sandbox, Path, dict]]:
    """Both demo organisations synced by an app Xero serves journals (the Advanced tier)."""
    with Sandbox(tenants=2, scale=0.02, seed=11, limits=False) as sb, dg.DagsterInstance.ephemeral() as instance:
        yield sb, tmp_path, _sync(sb, instance, tmp_path)


def test_with_journals_the_rebuilt_ledger_equals_them_by_account_and_month(served, monkeypatch):
    sb, tmp, results = served
    for tenant in sb.tenant_ids:
        checks = evaluations(results[tenant])
        for key in (JOURNALS, TB, PL):
            assert checks[key].passed, checks[key].description
            assert checks[key].metadata["status"].value == "compared"
    # The views read journals by default, the rebuild when XERO_LEDGER_SOURCE says so: the same balances.
    db = tmp / "xero.duckdb"
    warehouse = {"warehouse": WarehouseResource(database=str(db))}
    balances = {}
    for setting, source in (("auto", "journals"), ("documents", "documents")):
        monkeypatch.setenv("XERO_LEDGER_SOURCE", setting)
        result = dg.materialize(build_view_assets(), resources=warehouse, run_config=QUIET, raise_on_error=False)
        assert result.success, step_failures(result)
        assert _rows(db, "SELECT DISTINCT ledger_source FROM ledger.ledger_source") == [(source,)]
        assert _rows(db, "SELECT DISTINCT ledger_source FROM ledger.general_ledger") == [(source,)]
        # The UI says so too, on each ledger-line view's materialization.
        meta = next(m.metadata for m in result.asset_materializations_for_node("ledger_views_refresh")
                    if m.asset_key == dg.AssetKey(["ledger", "trial_balance"]))
        assert all((tenant in meta[REBUILT_FOR_KEY].value) == (source == "documents") for tenant in sb.tenant_ids)
        balances[source] = _rows(db, "SELECT tenant_id, month_end, account_id, balance FROM ledger.trial_balance "
                                     "WHERE balance <> 0")
    assert sorted(balances["documents"]) == sorted(balances["journals"]) and balances["journals"]
    monkeypatch.setenv("XERO_LEDGER_SOURCE", "rebuilt")
    result = dg.materialize(build_view_assets(), resources=warehouse, run_config=QUIET, raise_on_error=False)
    failures = [_causes(e.step_failure_data.error) for e in result.all_events if e.is_step_failure]
    assert failures and all("XERO_LEDGER_SOURCE must be auto" in text for text in failures), failures


def _causes(error) -> str:
    """An error's message with those of the errors that caused it."""
    texts = []
    while error is not None:
        texts.append(error.message)
        error = error.cause
    return " <- ".join(texts)
