"""Asset checks: the SQL rules on hand-made tables, then every check on synced sandbox
books (all pass), then on deliberately corrupted copies (each fails, naming the tenant
and the offending keys)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import dagster as dg
import pytest

from xero_pipeline.defs.checks import (
    BALANCE_CHECK,
    ITEM_COUNT_CHECK,
    KEY_CHECK,
    TOTALS_CHECK,
    TRIAL_BALANCE_CHECK,
    build_checks,
    object_rules,
)
from xero_pipeline.defs.materializations import latest_metadata
from xero_pipeline.registry import OBJECTS, REPORTS_BY_NAME
from xero_pipeline.sandbox import Sandbox
from xero_pipeline.warehouse.check_rules import (
    check_item_count,
    check_keys,
    check_totals,
    check_trial_balance,
    fy_start,
)
from xero_pipeline.warehouse.connection import open_warehouse
from xero_pipeline.warehouse.shaping import child_shape, parent_shape
from xero_pipeline_tests.sync_helpers import (
    QUIET,
    evaluations,
    failed_checks,
    resources,
    run_checks_only,
    run_tenant,
    step_failures,
)

# ----------------------------------------------------------------------------- rules alone


def test_financial_year_start():
    assert fy_start(31, 3, date(2026, 10, 31)) == date(2026, 4, 1)
    assert fy_start(31, 3, date(2026, 3, 31)) == date(2025, 4, 1)
    assert fy_start(31, 12, date(2026, 12, 31)) == date(2026, 1, 1)
    assert fy_start(30, 6, date(2026, 7, 1)) == date(2026, 7, 1)
    assert fy_start(31, 2, date(2024, 3, 1)) == date(2024, 3, 1)  # 29 Feb 2024 ends the year


@pytest.fixture
def conn(tmp_path) -> Iterator:
    c = open_warehouse(tmp_path / "rules.duckdb")
    c.execute("CREATE SCHEMA xero")
    yield c
    c.close()


def test_key_rule_names_duplicates_and_null_keys_of_one_tenant(conn):
    conn.execute("CREATE TABLE xero.t (tenant_id VARCHAR, a VARCHAR, b INTEGER)")
    conn.execute("INSERT INTO xero.t VALUES ('t1', 'x', 1), ('t1', 'x', 1), ('t1', 'y', NULL), "
                 "('t2', 'x', 1), ('t2', 'z', 2)")
    bad = check_keys(conn, "t", ("tenant_id", "a", "b"), "t1")
    assert not bad.passed and "t1" in bad.description and "x/1" in bad.description and "y/NULL" in bad.description
    assert bad.metadata["duplicate_rows"] == 1 and bad.metadata["null_key_rows"] == 1
    assert check_keys(conn, "t", ("tenant_id", "a", "b"), "t2").passed


def test_totals_rule_follows_line_amount_types(conn):
    conn.execute("CREATE TABLE xero.docs (tenant_id VARCHAR, doc_id VARCHAR, line_amount_types VARCHAR, "
                 "sub_total DECIMAL(38,10), total_tax DECIMAL(38,10), total DECIMAL(38,10), _deleted_at TIMESTAMP)")
    conn.execute("CREATE TABLE xero.lines (tenant_id VARCHAR, doc_id VARCHAR, line_amount DECIMAL(38,10))")
    conn.execute("INSERT INTO xero.docs VALUES ('t', 'excl', 'Exclusive', 100, 15, 115, NULL), "
                 "('t', 'incl', 'Inclusive', 100, 15, 115, NULL), ('t', 'none', 'NoTax', 50, 0, 50, NULL), "
                 "('t', 'bad', 'EXCLUSIVE', 100, 15, 116, NULL)")
    conn.execute("INSERT INTO xero.lines VALUES ('t', 'excl', 60), ('t', 'excl', 40), ('t', 'incl', 115), "
                 "('t', 'none', 50), ('t', 'bad', 100)")
    finding = check_totals(conn, "docs", "doc_id", "lines", "t")
    assert not finding.passed and finding.metadata["mismatched_documents"] == 1 and "bad" in finding.description


def test_item_count_rule_allows_only_records_changed_during_the_read(conn):
    conn.execute("CREATE TABLE xero.inv (tenant_id VARCHAR, updated_date_utc TIMESTAMP)")
    conn.execute("INSERT INTO xero.inv VALUES ('t', '2026-01-01 10:00:00.400'), ('t', '2026-01-01 10:00:05'), "
                 "('t', '2026-01-01 09:00:00'), ('t', '2026-01-01 10:00:30')")
    since, started = datetime(2026, 1, 1, 10, 0, 0, 900000), datetime(2026, 1, 1, 10, 0, 20)

    def count(n: int, **kw) -> bool:
        return check_item_count(conn, "inv", "updated_date_utc", "t", item_count=n, **kw).passed

    # Window: the 10:00:00.400 row (IMS compares to the second), 10:00:05, and 10:00:30
    # (edited while paging). Xero counted 2 or 3 of those; never fewer than the 2 before the read.
    assert count(2, since=since, read_started=started) and count(3, since=since, read_started=started)
    assert not count(1, since=since, read_started=started)  # a record was lost
    assert not count(4, since=since, read_started=started)
    assert count(4, since=None, read_started=None) and not count(5, since=None, read_started=None)


def test_trial_balance_is_skipped_not_passed_until_the_report_exists(conn):
    finding = check_trial_balance(conn, "t")
    assert not finding.evaluated and not finding.passed and "report not loaded yet" in finding.description


def every_check() -> set[tuple[str, str]]:
    """(table, check) of every check: those of the object steps and those of their own."""
    names = {(spec.asset_key.path[-1], spec.name) for obj in OBJECTS for spec, _ in object_rules(obj)}
    return names | {(spec.asset_key.path[-1], spec.name) for c in build_checks() for spec in c.check_specs}


def test_every_table_has_a_key_check_and_the_books_have_theirs():
    names = every_check()
    for obj in OBJECTS:
        for shape in (parent_shape(obj), *(child_shape(obj, c) for c in obj.children)):
            assert (shape.table, KEY_CHECK) in names
    assert {("journals", BALANCE_CHECK), ("journals", TRIAL_BALANCE_CHECK), ("invoices", TOTALS_CHECK),
            ("invoices", ITEM_COUNT_CHECK), ("credit_notes", TOTALS_CHECK)} <= names


# ----------------------------------------------------------------------------- on synced books


# One worker builds the module's synced warehouse once (`make test` uses --dist loadgroup).
pytestmark = [pytest.mark.xdist_group("checks"), pytest.mark.heavy(25)]


@pytest.fixture(scope="module")
def synced(tmp_path_factory) -> Iterator[tuple]:
    """One tenant, every object, then the TrialBalance report loaded after the journals."""
    from xero_pipeline.defs.report_assets import build_report_asset

    tmp = tmp_path_factory.mktemp("checks")
    with Sandbox(tenants=1, scale=0.02, seed=17, limits=False) as sandbox, \
            dg.DagsterInstance.ephemeral() as instance:
        tenant = sandbox.tenant_ids[0]
        res = resources(sandbox, tmp)
        result = run_tenant(instance, res, tenant)
        assert not step_failures(result), step_failures(result)
        report = dg.materialize([build_report_asset(REPORTS_BY_NAME["trialbalance"])], instance=instance,
                                partition_key=tenant, resources=res, run_config=QUIET)
        assert report.success
        pristine = tmp / "pristine.duckdb"
        shutil.copyfile(tmp / "xero.duckdb", pristine)
        name = next(t["name"] for t in sandbox.info()["tenants"] if t["tenant_id"] == tenant)
        yield instance, res, tenant, tmp, pristine, name


def restore(tmp: Path, pristine: Path) -> Path:
    db = tmp / "xero.duckdb"
    Path(f"{db}.wal").unlink(missing_ok=True)
    shutil.copyfile(pristine, db)
    return db


def corrupt(db: Path, *statements: str) -> None:
    conn = open_warehouse(db)
    try:
        for sql in statements:
            conn.execute(sql)
    finally:
        conn.close()


def test_every_check_passes_on_the_sandbox_books(synced):
    instance, res, tenant, tmp, pristine, name = synced
    restore(tmp, pristine)
    result = run_checks_only(instance, res, tenant)
    found = evaluations(result)
    assert set(found) == every_check()
    assert not failed_checks(result, include_warnings=True), failed_checks(result, include_warnings=True)
    tb = found[("journals", TRIAL_BALANCE_CHECK)]
    assert tb.metadata["status"].value == "compared" and tenant in tb.description
    assert all(e.partition == tenant for e in found.values()), "evaluations are stored per tenant partition"


def test_each_key_check_fails_on_a_duplicated_row(synced):
    instance, res, tenant, tmp, pristine, name = synced
    db = restore(tmp, pristine)
    conn = open_warehouse(db)
    try:
        names = [r[0] for r in conn.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'xero' AND table_name NOT LIKE 'report%'"
        ).fetchall()]
        tables = [t for t in names if conn.execute(f"SELECT count(*) FROM xero.{t}").fetchone()[0]]
        for table in tables:  # a copy of one row per table: a duplicate key
            conn.execute(f"INSERT INTO xero.{table} SELECT * FROM xero.{table} WHERE tenant_id = ? LIMIT 1", [tenant])
    finally:
        conn.close()
    failed = failed_checks(run_checks_only(instance, res, tenant))
    key_failures = {table for table, name in failed if name == KEY_CHECK}
    assert len(tables) > 40 and key_failures == set(tables)
    assert all(tenant in failed[(t, KEY_CHECK)] and "duplicate" in failed[(t, KEY_CHECK)] for t in tables)
    # The text names the organisation beside the id, also in a run that carries no name tag.
    assert all(failed[(t, KEY_CHECK)].startswith(f"tenant {name} ({tenant}):") for t in tables)


def test_materializations_and_check_results_carry_the_organisation_name(synced):
    instance, res, tenant, tmp, pristine, name = synced
    restore(tmp, pristine)
    for table in ("invoices", "invoice_line_items", "journals", "report_trial_balance"):
        assert latest_metadata(instance, dg.AssetKey(["xero", table]), tenant)["tenant_name"] == name, table
    found = evaluations(run_checks_only(instance, res, tenant))
    assert {e.metadata["tenant_name"].value for e in found.values()} == {name}


def test_each_book_check_fails_on_its_own_corruption(synced):
    instance, res, tenant, tmp, pristine, name = synced
    db = restore(tmp, pristine)
    paged = [o for o in OBJECTS if any(s.name == ITEM_COUNT_CHECK for s, _ in object_rules(o))]
    documents = [o for o in OBJECTS if any(s.name == TOTALS_CHECK for s, _ in object_rules(o))]
    conn = open_warehouse(db)
    try:
        victims = {}
        for obj in paged:  # lose one row: fewer rows than Xero's itemCount
            pk = parent_shape(obj).key[1]
            victims[obj.table] = conn.execute(f"SELECT {pk} FROM xero.{obj.table} ORDER BY {pk} LIMIT 1").fetchone()[0]
            conn.execute(f"DELETE FROM xero.{obj.table} WHERE {pk} = ?", [victims[obj.table]])
        for obj in documents:  # a total that no longer matches its lines
            pk = parent_shape(obj).key[1]
            doc = conn.execute(f"SELECT {pk} FROM xero.{obj.table} WHERE total <> 0 AND {pk} NOT IN "
                               f"(SELECT ? UNION SELECT '') ORDER BY {pk} LIMIT 1", [victims.get(obj.table, "")]
                               ).fetchone()[0]
            victims[f"{obj.table}:total"] = doc
            conn.execute(f"UPDATE xero.{obj.table} SET total = total + 1 WHERE {pk} = ?", [doc])
        line = conn.execute("SELECT journal_id, journal_line_id FROM xero.journal_lines WHERE net_amount <> 0 "
                            "ORDER BY journal_line_id LIMIT 1").fetchone()
        conn.execute("UPDATE xero.journal_lines SET net_amount = net_amount + 0.01 WHERE journal_line_id = ?",
                     [line[1]])
    finally:
        conn.close()
    failed = failed_checks(run_checks_only(instance, res, tenant))
    for obj in paged:
        text = failed[(obj.table, ITEM_COUNT_CHECK)]
        assert tenant in text and "records were lost" in text
    for obj in documents:
        text = failed[(obj.table, TOTALS_CHECK)]
        assert tenant in text and victims[f"{obj.table}:total"] in text
    assert line[0] in failed[("journals", BALANCE_CHECK)]
    assert tenant in failed[("journals", TRIAL_BALANCE_CHECK)]
    assert not {k for k in failed if k[1] == KEY_CHECK}


def test_trial_balance_check_fails_when_the_report_disagrees(synced):
    instance, res, tenant, tmp, pristine, name = synced
    db = restore(tmp, pristine)
    conn = open_warehouse(db)
    try:
        account = conn.execute("SELECT account_id FROM xero.report_trial_balance WHERE column_label = 'YTD Debit' "
                               "AND value > 0 ORDER BY report_date DESC, account_id LIMIT 1").fetchone()[0]
        conn.execute("UPDATE xero.report_trial_balance SET value = value + 5 WHERE account_id = ? "
                     "AND column_label = 'YTD Debit' AND value > 0", [account])
    finally:
        conn.close()
    failed = failed_checks(run_checks_only(instance, res, tenant))
    assert set(failed) == {("journals", TRIAL_BALANCE_CHECK)}
    assert account in failed[("journals", TRIAL_BALANCE_CHECK)] and tenant in failed[("journals", TRIAL_BALANCE_CHECK)]
    restore(tmp, pristine)
    corrupt(db, "DROP TABLE xero.report_trial_balance")
    result = run_checks_only(instance, res, tenant)
    assert result.success and ("journals", TRIAL_BALANCE_CHECK) not in evaluations(result)  # skipped
