"""The weekly reconciliation read: what Xero changes without a timestamp reaches the warehouse.

Against the sandbox: contacts flip IsSupplier, invoices are marked sent or have their
due date moved, and an account and a user are deleted outright, none of which moves
UpdatedDateUTC. An incremental sync cannot see them; the reconciliation read, due once
a period per (tenant, object), does.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg

from xero_pipeline.registry import BY_TABLE
from xero_pipeline.sandbox import Sandbox
from xero_pipeline.sync.reconcile import reconcile_slot, reconciliation_due
from xero_pipeline.warehouse.connection import open_warehouse
from xero_pipeline_tests.sync_helpers import resources, run_tenant, step_failures
from xero_pipeline_tests.truth import diff_warehouse

OBJECTS = [BY_TABLE[t] for t in ("organisations", "accounts", "users", "contacts", "invoices")]
IMS_TABLES = ("accounts", "users", "contacts", "invoices")


def _sync(instance, res, tenant) -> dict[str, str]:
    result = run_tenant(instance, res, tenant, OBJECTS)
    assert not step_failures(result), step_failures(result)
    return {m.asset_key.path[-1]: m.step_materialization_data.materialization.metadata["sync_mode"].value
            for m in result.get_asset_materialization_events()
            if "sync_mode" in m.step_materialization_data.materialization.metadata}


def _age_full_reads(db, days: int) -> None:
    """As if the last whole read of every object was ``days`` ago."""
    conn = open_warehouse(db)
    try:
        conn.execute("UPDATE pipeline.sync_state SET full_read_at = full_read_at - to_days(?)", [days])
    finally:
        conn.close()


def test_silent_changes_and_hard_deletes_are_caught_by_the_reconciliation_read(tmp_path):
    with Sandbox(tenants=1, scale=0.02, seed=29) as sb, dg.DagsterInstance.ephemeral() as instance:
        tenant = sb.tenant_ids[0]
        res = resources(sb, tmp_path)
        db = tmp_path / "xero.duckdb"
        _sync(instance, res, tenant)
        changed = sb.change_silently()[tenant]
        assert changed["Accounts"] and changed["Users"] and changed["Contacts"] and changed["Invoices"]

        modes = _sync(instance, res, tenant)
        assert {modes[t] for t in IMS_TABLES} == {"incremental"}
        stale = diff_warehouse(db, sb.ground_truth(tenant_id=tenant), objects=OBJECTS)
        assert stale, "an incremental sync should not see changes Xero does not timestamp"

        _age_full_reads(db, 8)  # a week has passed since anything was read whole
        modes = _sync(instance, res, tenant)
        assert {modes[t] for t in IMS_TABLES} == {"reconcile"}
        assert diff_warehouse(db, sb.ground_truth(tenant_id=tenant), objects=OBJECTS) == []
        conn = open_warehouse(db)
        try:
            gone = conn.execute("SELECT account_id FROM xero.accounts WHERE _deleted_at IS NOT NULL").fetchall()
        finally:
            conn.close()
        assert {r[0] for r in gone} == set(changed["Accounts"])

        assert {_sync(instance, res, tenant)[t] for t in IMS_TABLES} == {"incremental"}  # not again for a week


def test_reconciliation_reads_are_spread_across_the_days_of_the_period():
    tenants = [f"tenant-{i}" for i in range(20)]
    tables = ["accounts", "contacts", "invoices", "payments", "credit_notes", "bank_transactions"]
    start = datetime(2026, 12, 1, 2, tzinfo=UTC)
    last = {(t, o): start - timedelta(days=1) for t in tenants for o in tables}
    per_day = []
    for day in range(21):
        now = start + timedelta(days=day)
        due = [k for k, when in last.items()
               if reconciliation_due(tenant_id=k[0], table=k[1], last_full_read=when, now=now, every_days=7)]
        for k in due:
            last[k] = now
        per_day.append(len(due))
    # After the first week, each pair is read whole exactly once a week...
    assert sum(per_day[7:14]) == len(last) and sum(per_day[14:21]) == len(last)
    # ...and no single day carries much more than its share.
    assert max(per_day[7:]) <= 2 * len(last) / 7
    assert len({reconcile_slot(t, o, 7) for t in tenants for o in tables}) == 7


def test_zero_days_switches_the_reconciliation_off():
    now = datetime(2026, 12, 4, tzinfo=UTC)
    assert not reconciliation_due(tenant_id="t", table="contacts", last_full_read=None, now=now, every_days=0)
    assert reconciliation_due(tenant_id="t", table="contacts", last_full_read=now - timedelta(days=8), now=now,
                              every_days=7)
