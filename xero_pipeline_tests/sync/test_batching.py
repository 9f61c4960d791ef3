"""The push's pure pieces: requests within Xero's limits, keys a rerun derives again, rows
checked before anything is sent."""

from __future__ import annotations

import json

from xero_pipeline.registry import BY_TABLE, MAX_ELEMENTS
from xero_pipeline.sync.batching import batches, check_row, idempotency_key, request_body

INVOICES, CONTACTS, ITEMS = BY_TABLE["invoices"], BY_TABLE["contacts"], BY_TABLE["items"]


def test_batches_hold_at_most_50_elements_and_the_byte_limit() -> None:
    small = ["{}"] * 120
    assert [len(b) for b in batches(small, max_elements=MAX_ELEMENTS)] == [50, 50, 20]
    big = ["{" + '"x":"' + "a" * 1000 + '"}'] * 10
    parts = batches(big, max_elements=50, max_bytes=3500)
    assert [len(b) for b in parts] == [3, 3, 3, 1]
    assert all(len(request_body(INVOICES, [big[i] for i in b]).encode()) <= 3500 for b in parts)
    assert [i for b in parts for i in b] == list(range(10))  # every row once, in order


def test_the_key_is_derived_from_what_the_request_carries() -> None:
    rows = [("a", 1), ("b", 1)]
    key = idempotency_key(tenant_id="t", table="invoices", method="PUT", rows=rows)
    assert key == idempotency_key(tenant_id="t", table="invoices", method="PUT", rows=rows[::-1])
    assert len(key) <= 128
    others = {idempotency_key(tenant_id="u", table="invoices", method="PUT", rows=rows),
              idempotency_key(tenant_id="t", table="bills", method="PUT", rows=rows),
              idempotency_key(tenant_id="t", table="invoices", method="POST", rows=rows),
              idempotency_key(tenant_id="t", table="invoices", method="PUT", rows=[("a", 2), ("b", 1)])}
    assert key not in others and len(others) == 4


def test_rows_are_checked_before_sending() -> None:
    assert check_row(INVOICES, json.dumps({"Type": "ACCREC"})) == ("PUT", None)
    assert check_row(INVOICES, json.dumps({"InvoiceID": "x", "Status": "VOIDED"})) == ("POST", None)
    assert "Xero does not delete items" in check_row(ITEMS, json.dumps({"ItemID": "x", "Status": "DELETED"}))[1]
    assert check_row(CONTACTS, json.dumps({"ContactID": "x", "ContactStatus": "ARCHIVED"})) == ("POST", None)
    assert "payload is empty" in check_row(ITEMS, None)[1]
    assert "not JSON" in check_row(ITEMS, "{nope")[1]
    assert "one JSON object" in check_row(ITEMS, "[]")[1]
    assert "bytes" in check_row(ITEMS, json.dumps({"Code": "x" * 100}), max_bytes=50)[1]
