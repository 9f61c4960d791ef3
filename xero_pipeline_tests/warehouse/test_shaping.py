"""Row shaping: names, types, child rows and new fields, without Dagster or HTTP."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from xero_pipeline.registry import BY_TABLE
from xero_pipeline.warehouse.shaping import RecordShaper, parent_shape, snake
from xero_pipeline.xero.dates import ims_header, parse_date, parse_instant, parse_iso, to_ms_date


def test_snake_case_follows_xero_names():
    assert snake("InvoiceID") == "invoice_id"
    assert snake("UpdatedDateUTC") == "updated_date_utc"
    assert snake("UpdatedDateUTCString") == "updated_date_utc_string"
    assert snake("CISDeduction") == "cis_deduction"
    assert snake("BankAccountNumber") == "bank_account_number"


def test_ms_dates_parse_to_utc_and_back():
    assert parse_instant("/Date(1539993600000+0000)/") == datetime(2018, 10, 20, tzinfo=UTC)
    assert parse_instant("/Date(1439434356790)/") == datetime(2015, 8, 13, 2, 52, 36, 790000, tzinfo=UTC)
    assert parse_date("/Date(1539993600000+0000)/") == date(2018, 10, 20)
    assert to_ms_date(date(2018, 10, 20)) == "/Date(1539993600000+0000)/"
    assert parse_iso("2019-12-07T18:46:19.5165400") == datetime(2019, 12, 7, 18, 46, 19, 516540, tzinfo=UTC)
    assert parse_iso("2020-02-06T12:17:43.202-08:00") == datetime(2020, 2, 6, 20, 17, 43, 202000, tzinfo=UTC)
    assert ims_header(datetime(2026, 1, 2, 3, 4, 5, 999000, tzinfo=UTC)) == "2026-01-02T03:04:05"


def _invoice() -> dict:
    return {
        "InvoiceID": "inv-1",
        "Type": "ACCREC",
        "Contact": {"ContactID": "c-1", "Name": "Acme"},
        "Date": "/Date(1539993600000+0000)/",
        "UpdatedDateUTC": "/Date(1539993600123+0000)/",
        "Total": Decimal("115.00"),
        "CurrencyRate": Decimal("1.234567"),
        "SentToContact": True,
        "LineItems": [
            {"LineItemID": "li-1", "Quantity": Decimal("2.0000"), "UnitAmount": Decimal("50.1234"),
             "Tracking": [{"Name": "Region", "Option": "North"}]},
            {"LineItemID": "li-2", "Quantity": Decimal("1"), "UnitAmount": Decimal("0.10")},
        ],
        "ShinyNewField": "hello",
    }


def test_parent_row_types_and_flattened_ids():
    shaper = RecordShaper(BY_TABLE["invoices"], tenant_id="t1", synced_at=datetime(2026, 1, 1, tzinfo=UTC))
    shaped = shaper.shape(_invoice(), seq=1)
    row = shaped.parent
    assert row["tenant_id"] == "t1" and row["invoice_id"] == "inv-1"
    assert row["date"] == "2018-10-20"
    assert row["updated_date_utc"] == "2018-10-20 00:00:00.123000"
    assert row["total"] == "115.00" and row["currency_rate"] == "1.234567"  # exact, as text
    assert row["contact"] == {"ContactID": "c-1", "Name": "Acme"}
    assert row["contact_id"] == "c-1"
    assert "line_items" not in row  # a child table, not a JSON column
    assert row["shiny_new_field"] == "hello"
    assert [c.name for c in shaper.parent.added] == ["shiny_new_field"]
    kinds = {c.name: c.sql_type for c in parent_shape(BY_TABLE["invoices"]).columns.values()}
    assert kinds["date"] == "DATE" and kinds["updated_date_utc"] == "TIMESTAMP"
    assert kinds["total"].startswith("DECIMAL") and kinds["contact"] == "JSON"


def test_child_rows_carry_tenant_parent_and_tracking():
    shaper = RecordShaper(BY_TABLE["invoices"], tenant_id="t1", synced_at=datetime(2026, 1, 1, tzinfo=UTC))
    lines = shaper.shape(_invoice(), seq=1).children["invoice_line_items"]
    assert [(r["tenant_id"], r["invoice_id"], r["line_item_id"], r["_position"]) for r in lines] == [
        ("t1", "inv-1", "li-1", 0),
        ("t1", "inv-1", "li-2", 1),
    ]
    assert lines[0]["unit_amount"] == "50.1234"
    assert lines[0]["tracking"] == [{"Name": "Region", "Option": "North"}]


def test_hash_tells_changed_records_from_unchanged():
    shaper = RecordShaper(BY_TABLE["invoices"], tenant_id="t1", synced_at=datetime(2026, 1, 1, tzinfo=UTC))
    a = shaper.shape(_invoice(), 1).parent["_hash"]
    changed = _invoice()
    changed["Total"] = Decimal("116.00")
    assert shaper.shape(_invoice(), 2).parent["_hash"] == a
    assert shaper.shape(changed, 3).parent["_hash"] != a


@pytest.mark.parametrize("extra", [
    {},  # ASCII only: orjson writes the text
    {"Name": "Café \"Ünïcode\"\n"},  # non-ASCII: json.dumps escapes it
    {"Note": "bell\x07 and del\x7f"},  # DEL: ASCII that json.dumps escapes and orjson does not
    {"Line\u2028": "\u2029"},  # a key json.dumps escapes
    {"Nested": {"n": 2**70}},  # beyond 64 bits: orjson refuses
])
def test_digests_and_spool_text_are_what_json_dumps_writes(extra):
    # record_hash and the spool take fast encoders; the digest text must stay what
    # json.dumps writes, or every stored _hash would stop matching after an upgrade, and
    # the spool text must stay the same JSON value.
    import hashlib
    import json

    from xero_pipeline.warehouse.shaping import record_hash
    from xero_pipeline.warehouse.values import json_default, to_json_bytes

    record = {**_invoice(), "Big": Decimal("12345678901234567.123456789"), "Empty": None,
              "Nested": {"b": [1, 2.5, True], "a": Decimal("0.10")}, "Tab": "a\tb\\c/", **extra}
    expected = json.dumps(record, default=str, sort_keys=True, separators=(",", ":"))
    assert record_hash(record) == hashlib.blake2b(expected.encode(), digest_size=16).hexdigest()
    standard = json.dumps(record, default=json_default, separators=(",", ":"))
    assert json.loads(to_json_bytes(record)) == json.loads(standard)


def test_a_date_column_converts_the_same_on_every_sight_and_misfits_every_time():
    # Calendar dates are remembered per text: a bad one must still misfit on its second
    # sight (so the column widens in the load that sees it), and a good one must convert
    # the same after the memo has been emptied.
    from xero_pipeline.warehouse.values import CONVERTERS, Misfit

    convert = CONVERTERS["msdate"]
    for _ in range(2):
        with pytest.raises(Misfit):
            convert("/Date(not a date)/")
        assert convert("/Date(1539993600000+0000)/") == "2018-10-20"
        assert convert("2019-08") == "2019-08-01"  # Budgets' periods
        assert convert("") is None and convert(None) is None
    for n in range(60_000):  # past the memo's size, where it is emptied
        convert(f"/Date({n * 86_400_000}+0000)/")
    assert convert("/Date(1539993600000+0000)/") == "2018-10-20"
    assert convert(f"/Date({59_999 * 86_400_000}+0000)/") == "2134-04-10"
