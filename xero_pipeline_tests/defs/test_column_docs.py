"""What the UI shows of each table's columns: every column of a synced table, report and
``xero.tenants`` carries a description (Xero's own for Xero's fields, ours for the rest)."""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import pytest

from xero_pipeline.defs.materializations import latest_metadata
from xero_pipeline.defs.report_assets import build_report_asset
from xero_pipeline.defs.tenants_asset import xero_tenants
from xero_pipeline.registry import BY_TABLE, REPORTS_BY_NAME
from xero_pipeline.sandbox import Sandbox
from xero_pipeline_tests.sync_helpers import QUIET, resources, run_tenant, step_failures


@pytest.fixture(scope="module")
def synced(tmp_path_factory) -> Iterator[tuple[dg.DagsterInstance, str]]:
    tmp = tmp_path_factory.mktemp("column_docs")
    with Sandbox(tenants=1, scale=0.01, seed=3, limits=False) as sandbox, dg.DagsterInstance.ephemeral() as instance:
        tenant = sandbox.tenant_ids[0]
        res = resources(sandbox, tmp)
        result = run_tenant(instance, res, tenant, [BY_TABLE["invoices"]])
        assert not step_failures(result), step_failures(result)
        report = dg.materialize([build_report_asset(REPORTS_BY_NAME["trialbalance"])], instance=instance,
                                partition_key=tenant, resources=res, run_config=QUIET)
        assert report.success
        assert dg.materialize([xero_tenants], instance=instance, resources=res, run_config=QUIET).success
        yield instance, tenant


def columns(instance: dg.DagsterInstance, table: str, partition: str | None) -> dict[str, str | None]:
    key = dg.AssetKey(["xero", table])
    if partition is None:
        event = instance.get_latest_materialization_event(key)
        schema = event.asset_materialization.metadata["dagster/column_schema"].value
    else:
        schema = latest_metadata(instance, key, partition)["dagster/column_schema"]
    return {c.name: c.description for c in schema.columns}


@pytest.mark.parametrize("table", ["invoices", "invoice_line_items", "invoice_line_item_tracking",
                                   "report_trial_balance"])
def test_every_column_of_a_synced_table_is_described(synced, table):
    instance, tenant = synced
    described = columns(instance, table, tenant)
    assert described and all(described.values()), [c for c, text in described.items() if not text]
    assert "partition key" in described["tenant_id"]


def test_xero_fields_carry_xeros_words_and_our_columns_ours(synced):
    instance, tenant = synced
    invoices = columns(instance, "invoices", tenant)
    assert invoices["amount_due"] == "Amount remaining to be paid on invoice"  # the spec's text
    assert "alpha numeric code identifying invoice" in invoices["invoice_number"]
    assert "UTC" in invoices["_synced_at"] and "_deleted_at IS NULL" in invoices["_deleted_at"]
    assert "changed" in invoices["_hash"]
    assert "ContactID" in invoices["contact_id"]
    lines = columns(instance, "invoice_line_items", tenant)
    assert "xero.invoices.invoice_id" in lines["invoice_id"] and "position" in lines["_position"]
    assert "Xero tenant name" in columns(instance, "tenants", None)["tenant_name"]  # Xero's identity spec
