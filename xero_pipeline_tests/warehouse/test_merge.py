"""The merge into DuckDB: upserts, child replacement, snapshots, new columns, atomicity.

A real DuckDB file in a temporary folder; records are built by hand so each test says
exactly what Xero sent.
"""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from xero_pipeline.registry import BY_TABLE
from xero_pipeline.warehouse.connection import open_warehouse
from xero_pipeline.warehouse.merge import merge
from xero_pipeline.warehouse.shaping import RecordShaper
from xero_pipeline.warehouse.spool import Spool

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def invoice(n: int, *, total: str = "10.00", lines: int = 2, **extra) -> dict:
    return {
        "InvoiceID": f"inv-{n}",
        "Type": "ACCREC",
        "Status": "AUTHORISED",
        "Total": Decimal(total),
        "Contact": {"ContactID": "c-1", "Name": "Acme"},
        "UpdatedDateUTC": "/Date(1761955200000+0000)/",
        "LineItems": [
            {"LineItemID": f"li-{n}-{i}", "Quantity": Decimal("1.0000"), "UnitAmount": Decimal("5.0000")}
            for i in range(lines)
        ],
        **extra,
    }


def load(db, records, *, table="invoices", tenant="t1", snapshot=False):
    spool = Spool(RecordShaper(BY_TABLE[table], tenant_id=tenant, synced_at=NOW))
    try:
        spool.add(records)
        spool.close()
        conn = open_warehouse(db)
        try:
            return merge(conn, spool, snapshot=snapshot, now=NOW)
        finally:
            conn.close()
    finally:
        spool.discard()


def rows(db, sql):
    conn = open_warehouse(db, read_only=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.fixture
def db(tmp_path):
    return tmp_path / "w.duckdb"


def test_first_load_inserts_parents_and_children_with_exact_decimals(db):
    stats = load(db, [invoice(1, total="1234.56"), invoice(2)])
    assert (stats.inserted, stats.updated, stats.row_count) == (2, 0, 2)
    assert rows(db, "SELECT invoice_id, total, contact_id FROM xero.invoices ORDER BY 1") == [
        ("inv-1", Decimal("1234.56"), "c-1"),
        ("inv-2", Decimal("10.00"), "c-1"),
    ]
    assert rows(db, "SELECT count(*) FROM xero.invoice_line_items")[0][0] == 4
    assert rows(db, "SELECT typeof(total), typeof(updated_date_utc) FROM xero.invoices LIMIT 1") == [
        ("DECIMAL(38,10)", "TIMESTAMP")
    ]


def test_reloading_the_same_delta_changes_nothing(db):
    load(db, [invoice(1), invoice(2)])
    before = rows(db, "SELECT * FROM xero.invoices ORDER BY invoice_id")
    stats = load(db, [invoice(1), invoice(2)])
    assert (stats.inserted, stats.updated, stats.unchanged) == (0, 0, 2)
    assert rows(db, "SELECT * FROM xero.invoices ORDER BY invoice_id") == before


def test_a_changed_parent_has_its_children_replaced(db):
    load(db, [invoice(1, lines=3), invoice(2, lines=2)])
    stats = load(db, [invoice(1, total="99.00", lines=1)])
    assert (stats.inserted, stats.updated) == (0, 1)
    assert rows(db, "SELECT invoice_id, count(*) FROM xero.invoice_line_items GROUP BY 1 ORDER BY 1") == [
        ("inv-1", 1),
        ("inv-2", 2),
    ]
    # An empty delta is not a wipe.
    load(db, [])
    assert rows(db, "SELECT count(*) FROM xero.invoices")[0][0] == 2


def test_a_repeated_record_keeps_its_latest_copy(db):
    stats = load(db, [invoice(1, total="1.00", lines=1), invoice(1, total="2.00", lines=2)])
    assert stats.inserted == 1
    assert rows(db, "SELECT total FROM xero.invoices") == [(Decimal("2.00"),)]
    assert rows(db, "SELECT count(*) FROM xero.invoice_line_items")[0][0] == 2


def test_tenants_never_touch_each_other(db):
    load(db, [invoice(1)], tenant="t1")
    load(db, [invoice(1, total="5.00")], tenant="t2")
    assert rows(db, "SELECT tenant_id, total FROM xero.invoices ORDER BY 1") == [
        ("t1", Decimal("10.00")),
        ("t2", Decimal("5.00")),
    ]
    load(db, [], tenant="t2", snapshot=True)
    assert rows(db, "SELECT tenant_id, _deleted_at IS NULL FROM xero.invoices ORDER BY 1") == [
        ("t1", True),
        ("t2", False),
    ]


def test_a_snapshot_marks_vanished_rows_deleted_and_revives_them(db):
    items = [{"ItemID": f"it-{i}", "Code": f"C{i}", "Name": f"Item {i}"} for i in range(3)]
    load(db, items, table="items", snapshot=True)
    stats = load(db, items[:2], table="items", snapshot=True)
    assert stats.deleted == 1 and stats.row_count == 2
    assert rows(db, "SELECT item_id FROM xero.items WHERE _deleted_at IS NOT NULL") == [("it-2",)]
    load(db, items, table="items", snapshot=True)
    assert rows(db, "SELECT count(*) FROM xero.items WHERE _deleted_at IS NULL")[0][0] == 3


def test_a_new_field_from_xero_adds_a_column(db):
    load(db, [invoice(1)])
    stats = load(db, [invoice(2, BrandNewFlag=True)])
    assert stats.new_columns == ["invoices.brand_new_flag"]
    assert rows(db, "SELECT invoice_id, brand_new_flag FROM xero.invoices ORDER BY 1") == [
        ("inv-1", None),
        ("inv-2", True),
    ]


def test_a_failed_load_leaves_the_warehouse_as_it_was(db, monkeypatch):
    load(db, [invoice(1), invoice(2)])
    before = rows(db, "SELECT * FROM xero.invoice_line_items ORDER BY line_item_id")
    import xero_pipeline.warehouse.merge as wh

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(wh, "_replace_children", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        load(db, [invoice(1, total="50.00", lines=1)])
    assert rows(db, "SELECT total FROM xero.invoices WHERE invoice_id = 'inv-1'") == [(Decimal("10.00"),)]
    assert rows(db, "SELECT * FROM xero.invoice_line_items ORDER BY line_item_id") == before


def test_asking_for_a_missing_table_inside_a_transaction_leaves_it_usable(tmp_path):
    # table_exists asks DuckDB for the one table by name; a missing one is an error that
    # must not abort the merge transaction it is asked in.
    from xero_pipeline.warehouse.tables import column_types, table_exists

    conn = open_warehouse(tmp_path / "w.duckdb")
    try:
        conn.execute("CREATE SCHEMA xero")
        conn.execute("BEGIN")
        conn.execute("CREATE TABLE xero.present (a INTEGER, b VARCHAR)")
        assert not table_exists(conn, "absent") and column_types(conn, "absent") == []
        assert table_exists(conn, "present")
        assert column_types(conn, "present") == [("a", "INTEGER"), ("b", "VARCHAR")]
        conn.execute("INSERT INTO xero.present VALUES (1, 'x')")
        conn.execute("COMMIT")
        assert conn.execute("SELECT count(*) FROM xero.present").fetchone()[0] == 1
    finally:
        conn.close()
