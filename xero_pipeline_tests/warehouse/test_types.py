"""A field Xero adds later keeps every value, whatever kinds its values come in.

The sandbox's ``/_sandbox/fields`` control gives contacts a field the spec does not
know (``LoyaltyPoints``), sync after sync with values of changing kinds; each sync is
a Dagster run of the contacts asset into a real DuckDB file. The warehouse must store
each value exactly (never a BIGINT that rounds 12.99), never fail the merge, and when a
column cannot hold a new value, widen it, log it and record it in the metadata.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest
import requests

from xero_pipeline.registry import BY_TABLE
from xero_pipeline.sandbox import Sandbox
from xero_pipeline.sandbox.books.store import SandboxClock
from xero_pipeline.warehouse.connection import open_warehouse
from xero_pipeline_tests.conftest import Api, make_books
from xero_pipeline_tests.sync_helpers import resources, run_tenant, step_failures
from xero_pipeline_tests.truth import diff_warehouse

CONTACTS = BY_TABLE["contacts"]
FIELD, COLUMN = "LoyaltyPoints", "loyalty_points"


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(books=[make_books(SandboxClock(), 0)], limits=False) as sandbox:
        yield sandbox


def set_values(sb: Sandbox, values_json: str, *, field: str = FIELD) -> list[str]:
    """The control over HTTP, with the values as JSON text (so 12.99 is sent as written)."""
    body = f'{{"path": "Contacts", "field": "{field}", "values": {values_json}}}'
    resp = requests.post(f"{sb.url}/_sandbox/fields", data=body, timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.json()["changed"][sb.tenant_ids[0]]


def sync(instance: dg.DagsterInstance, sb: Sandbox, tmp_path: Path) -> dict[str, object]:
    """One Dagster run of the contacts asset; returns its materialization metadata."""
    result = run_tenant(instance, resources(sb, tmp_path), sb.tenant_ids[0], [CONTACTS])
    assert result.success, step_failures(result)
    event = next(e for e in result.get_asset_materialization_events() if e.asset_key.path[-1] == "contacts")
    return {k: v.value for k, v in event.step_materialization_data.materialization.metadata.items()}


def stored(tmp_path: Path, column: str = COLUMN) -> tuple[str, dict[str, object]]:
    """(the column's SQL type, contact id -> value for the rows that have one)."""
    conn = open_warehouse(tmp_path / "xero.duckdb", read_only=True)
    try:
        sql_type = conn.execute(
            "SELECT data_type FROM duckdb_columns() WHERE table_name = 'contacts' AND column_name = ?", [column]
        ).fetchone()[0]
        values = dict(conn.execute(f"SELECT contact_id, {column} FROM xero.contacts WHERE {column} IS NOT NULL").fetchall())
    finally:
        conn.close()
    return sql_type, values


def warnings(instance: dg.DagsterInstance) -> list[str]:
    return [e.user_message for run in instance.get_runs() for e in instance.all_logs(run.run_id)
            if e.user_message and e.level == 30]  # logging.WARNING


def assert_matches_truth(sb: Sandbox, tmp_path: Path) -> None:
    problems = diff_warehouse(tmp_path / "xero.duckdb", sb.ground_truth(), [CONTACTS])
    assert not problems, "\n".join(problems[:20])


def test_the_control_adds_a_field_that_reads_and_the_ground_truth_show(sb):
    ids = set_values(sb, "[0, 12.99, \"gold\"]")
    tenant = sb.tenant_ids[0]
    body = Api(sb).get(f"Contacts/{ids[1]}").text
    assert f'"{FIELD}":12.99' in body
    truth = {r["ContactID"]: r.get(FIELD) for r in sb.ground_truth()[tenant]["Contacts"]}
    assert [truth[i] for i in ids] == [0, Decimal("12.99"), "gold"]
    assert sum(v is not None for v in truth.values()) == 3
    # The changed records moved, so an If-Modified-Since read finds them.
    recent = Api(sb).get("Contacts", headers={"If-Modified-Since": "2026-11-01T00:00:00"}).json()["Contacts"]
    assert {r["ContactID"] for r in recent} == set(ids)
    bad = requests.post(f"{sb.url}/_sandbox/fields", data='{"path": "Nope", "field": "X", "values": [1]}', timeout=10)
    assert bad.status_code == 400 and "unknown collection 'Nope'" in bad.text


def test_a_new_field_first_zero_then_fractions_is_stored_exactly(sb, tmp_path, instance):
    first = set_values(sb, "[0]")
    sync(instance, sb, tmp_path)
    ids = set_values(sb, "[12.99, 1234.56]")
    sync(instance, sb, tmp_path)
    sql_type, values = stored(tmp_path)
    assert sql_type == "DECIMAL(38,10)"
    assert values == {ids[0]: Decimal("12.99"), ids[1]: Decimal("1234.56")}
    assert first == ids[:1]
    assert_matches_truth(sb, tmp_path)


def test_a_new_field_first_text_then_numbers_keeps_them_as_text(sb, tmp_path, instance):
    set_values(sb, '["gold"]')
    sync(instance, sb, tmp_path)
    # Within one sync: a whole number, a fraction, text, a fraction.
    ids = set_values(sb, '[0, 12.99, "silver", 1234.56]')
    sync(instance, sb, tmp_path)
    assert stored(tmp_path) == ("VARCHAR", dict(zip(ids, ["0", "12.99", "silver", "1234.56"])))
    set_values(sb, "[5, 6.50]")
    meta = sync(instance, sb, tmp_path)
    assert stored(tmp_path)[1] == dict(zip(ids, ["5", "6.50", "silver", "1234.56"]))
    assert meta["columns_widened"] == "none"
    assert_matches_truth(sb, tmp_path)


def test_a_number_column_that_gets_text_widens_and_says_so(sb, tmp_path, instance):
    ids = set_values(sb, "[12.99, 0]")
    meta = sync(instance, sb, tmp_path)
    assert meta["columns_widened"] == "none"
    assert stored(tmp_path)[0] == "DECIMAL(38,10)"

    set_values(sb, '["n/a"]')
    meta = sync(instance, sb, tmp_path)
    assert stored(tmp_path) == ("VARCHAR", {ids[0]: "n/a", ids[1]: "0"})
    widened = f"contacts.{COLUMN}: DECIMAL(38,10) -> VARCHAR"
    assert widened in meta["columns_widened"]
    assert any(widened in line for line in warnings(instance))
    assert_matches_truth(sb, tmp_path)

    # An object where text was: the column becomes JSON, earlier values become JSON strings.
    set_values(sb, '[{"Tier": "Gold", "Points": 12.99}]')
    meta = sync(instance, sb, tmp_path)
    sql_type, values = stored(tmp_path)
    assert sql_type == "JSON"
    assert {k: json.loads(v) for k, v in values.items()} == {ids[0]: {"Tier": "Gold", "Points": 12.99}, ids[1]: "0"}
    assert f"contacts.{COLUMN}: VARCHAR -> JSON" in meta["columns_widened"]


def test_numbers_beyond_decimal_38_10_are_kept_as_exact_text(sb, tmp_path, instance):
    set_values(sb, "[1.5]", field="Rate")
    sync(instance, sb, tmp_path)
    ids = set_values(sb, "[0.12345678901234, 123456789012345678901234567890.5]", field="Rate")
    meta = sync(instance, sb, tmp_path)
    assert stored(tmp_path, "rate") == (
        "VARCHAR", {ids[0]: "0.12345678901234", ids[1]: "123456789012345678901234567890.5"}
    )
    assert "contacts.rate: DECIMAL(38,10) -> VARCHAR" in meta["columns_widened"]


def test_amounts_either_side_of_eighteen_digits_are_stored_exactly(sb, tmp_path, instance):
    # The merge casts an amount that fits DECIMAL(18, 10) that way and a larger one
    # directly (values.cast_text_sql): both must land digit for digit.
    amounts = ["99999999.9999999999", "100000000.5", "-123456789012345678901234567.1234567891",
               "0.0000000001", "-0.5", "0"]
    ids = set_values(sb, "[" + ", ".join(amounts) + "]", field="Rate")
    sync(instance, sb, tmp_path)
    sql_type, values = stored(tmp_path, "rate")
    assert sql_type == "DECIMAL(38,10)"
    assert {values[i] for i in ids} == {Decimal(a) for a in amounts}
