"""The typed path makes exactly the rows the reference shaper makes, value text by value text.

Every object of the registry is read from a sandbox over HTTP as Xero's JSON text and
shaped both ways: ``TypedShaper`` from each record's text, ``RecordShaper`` from the
record parsed as the client always parsed it (``json.loads`` with ``Decimal``). The rows
are compared as the spool writes them, each value as its JSON text (so ``115.00`` and
``115.0`` differ). Then records built to break the Structs: each must still make the
reference's rows, and columns learned or widened on the way must agree.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from xero_pipeline.registry import BY_TABLE, OBJECTS, XeroObject
from xero_pipeline.sandbox import Sandbox
from xero_pipeline.warehouse.shaping import RecordShaper, ShapedRecord, text_hash
from xero_pipeline.warehouse.typed import TypedShaper
from xero_pipeline.warehouse.values import to_json_bytes
from xero_pipeline.xero.decoding import RawBody, decode_page
from xero_pipeline.xero.paging import Pager
from xero_pipeline_tests.conftest import Api

pytestmark = pytest.mark.xdist_group("typed")
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _texts(shaped: ShapedRecord) -> dict[str, list[dict[str, str]]]:
    """Every row as the spool writes it, each value's JSON text kept (numbers unparsed)."""
    def text(row: dict[str, Any]) -> dict[str, Any]:
        return json.loads(to_json_bytes(row), parse_float=str, parse_int=str)
    return {"": [text(shaped.parent)], **{t: [text(r) for r in rows] for t, rows in shaped.children.items()}}


class Both:
    """One object's records shaped both ways, side by side."""

    def __init__(self, obj: XeroObject) -> None:
        self.reference = RecordShaper(obj, tenant_id="t1", synced_at=NOW)
        self.typed = TypedShaper(RecordShaper(obj, tenant_id="t1", synced_at=NOW))
        self.seq = 0

    def shape(self, text: bytes | Any) -> dict[str, list[dict[str, str]]]:
        """Shape ``text`` both ways; the rows must be the same, and are returned."""
        self.seq += 1
        record = json.loads(bytes(text), parse_float=Decimal)
        want = _texts(self.reference.shape(record, self.seq, digest=text_hash(text)))
        got = _texts(self.typed.shape(text, self.seq))
        assert got == want
        assert self.columns(self.typed.shaper) == self.columns(self.reference)
        return got

    @staticmethod
    def columns(shaper: RecordShaper) -> dict[str, dict[str, str]]:
        return {s.table: {c.name: c.kind for c in s.columns.values()} for s in shaper.shapes()}


@pytest.fixture(scope="module")
def pages() -> Iterator[dict[str, list[bytes]]]:
    """Every page of every object of a seeded tenant, as the bytes the sandbox sent."""
    with Sandbox(tenants=1, scale=0.05, seed=11, limits=False) as sb:
        api = Api(sb)
        out: dict[str, list[bytes]] = {}
        for obj in OBJECTS:
            pager, out[obj.table] = Pager(obj), []
            while not pager.done:
                resp = api.get(obj.path, **pager.params())
                resp.raise_for_status()
                pager.advance(resp.json()[obj.envelope], resp.json().get("pagination"))
                out[obj.table].append(resp.content)
        yield out


@pytest.mark.parametrize("table", [o.table for o in OBJECTS])
def test_every_object_makes_the_reference_rows_on_the_typed_path(pages, table):
    obj = BY_TABLE[table]
    both = Both(obj)
    records = 0
    for content in pages[table]:
        body = decode_page(content, envelope=obj.envelope)
        assert isinstance(body, RawBody)
        for text in body.records:
            both.shape(text)
            records += 1
    assert records, f"the sandbox serves no {table}"
    # The typed path is taken, not only fallen back from: at most a record per child
    # table falls back while the shapes learn what the spec lacks.
    assert both.typed.typed >= records - len(obj.children) - 1, (both.typed.typed, both.typed.fallbacks)


def _invoice(**changes: str) -> bytes:
    """An invoice's JSON text; each change replaces one field's JSON text (None-like
    ``"-"`` removes it), so numbers are written exactly as a case needs them."""
    fields = {
        "Type": '"ACCREC"', "InvoiceID": '"inv-1"', "InvoiceNumber": '"INV-1"', "Reference": '"PO 1"',
        "Contact": '{"ContactID":"c-1","Name":"Acme","Balance":115.00}',
        "Date": '"\\/Date(1539993600000+0000)\\/"', "DueDate": '"\\/Date(1540598400000+0000)\\/"',
        "UpdatedDateUTC": '"\\/Date(1539993600123+0000)\\/"', "Status": '"AUTHORISED"',
        "SubTotal": "100.00", "TotalTax": "15.00", "Total": "115.00", "CurrencyRate": "1.000000",
        "SentToContact": "true", "Payments": "[]",
        "LineItems": '[{"LineItemID":"li-1","Description":"Chair","Quantity":2.0000,"UnitAmount":50.1234,'
                     '"LineAmount":100.25,"Tracking":[{"Name":"Region","Option":"North"}]},'
                     '{"LineItemID":"li-2","Quantity":1,"UnitAmount":0.10}]',
    }
    for name, text in changes.items():
        if text == "-":
            fields.pop(name, None)
        else:
            fields[name] = text
    return ("{" + ",".join(f'"{k}":{v}' for k, v in fields.items()) + "}").encode()


@pytest.mark.parametrize("number", [
    "0", "-0", "0.0", "-0.00", "1.5", "115.00", "-12.5", "0.000001", "0.0000001", "0.00000000", "1e5", "1E-2",
    "1234567890123456789012345678", "12345678901234567890123456789", "1.1234567890", "1.12345678901",
    "1.00000000000", "123456789012345678901234567890123456789012", '"12.5"', '"NaN"', '" 12.5"', '"1_000"',
    '""', "true", "null", '{"Amount":1}',
])
def test_a_money_field_holds_what_the_reference_holds(number):
    both = Both(BY_TABLE["invoices"])
    both.shape(_invoice())
    both.shape(_invoice(Total=number))
    both.shape(_invoice(InvoiceID='"inv-2"'))  # and the next record, whatever the column became


CASES = {
    "unknown field": {"ShinyNewField": '"hello"'},
    "unknown nested field": {"LineItems": '[{"LineItemID":"li-1","Quantity":1,"Colour":"red"}]'},
    "nulls everywhere": {"Total": "null", "Date": "null", "Contact": "null", "SentToContact": "null",
                         "Reference": "null", "UpdatedDateUTC": "null"},
    "a write-only field": {"ValidationErrors": '[{"Message":"x"}]', "HasErrors": "false"},
    "non-ASCII text": {"Reference": '"Caf\u00e9 \u2615 \u65e5\u672c"',  # as UTF-8
                       "InvoiceNumber": '"\\u00e9t\\u00e9 \\/ \\"q\\""'},  # as JSON escapes
    "control characters": {"Reference": '"a\\nb\\tc\\u0001\\u007f"'},
    "empty date strings": {"DueDate": '""', "Date": '""'},
    "a date that is no date": {"DueDate": '"next Tuesday"'},
    "an ISO date": {"DueDate": '"2026-01-02T00:00:00"'},
    "child array missing": {"LineItems": "-"},
    "child array null": {"LineItems": "null"},
    "child array empty": {"LineItems": "[]"},
    "nested array missing": {"LineItems": '[{"LineItemID":"li-1","Quantity":1}]'},
    "nested array null": {"LineItems": '[{"LineItemID":"li-1","Tracking":null}]'},
    "a boolean as text": {"SentToContact": '"true"'},
    "a number in a string column": {"Reference": "12.50"},
    "an object in a string column": {"Reference": '{"a":1}'},
    "a JSON column with precise numbers": {"Contact": '{"ContactID":"c-1","Balance":0.1234567890123456789,'
                                                      '"Big":123456789012345678901234567890,"Exp":1e400}'},
    "a JSON column that is a string": {"Contact": '"Acme"'},
    "duplicate keys": {"Status": '"DRAFT","Status":"PAID"'},
}


@pytest.mark.parametrize("case", list(CASES))
def test_records_that_break_the_structs_still_make_the_reference_rows(case):
    both = Both(BY_TABLE["invoices"])
    both.shape(_invoice())
    both.shape(_invoice(**CASES[case]))
    both.shape(_invoice(InvoiceID='"inv-2"', **CASES[case]))
    both.shape(_invoice(InvoiceID='"inv-3"'))


def test_a_child_that_is_no_object_fails_on_both_paths_alike():
    text = _invoice(LineItems='["li-1"]')
    with pytest.raises(AttributeError):
        RecordShaper(BY_TABLE["invoices"], tenant_id="t1", synced_at=NOW).shape(
            json.loads(text, parse_float=Decimal), 1)
    with pytest.raises(AttributeError):
        TypedShaper(RecordShaper(BY_TABLE["invoices"], tenant_id="t1", synced_at=NOW)).shape(text, 1)


def test_huge_integers_widen_an_integer_column_as_the_reference_does():
    both = Both(BY_TABLE["journals"])
    journal = '{"JournalID":"j-1","JournalNumber":%s,"JournalLines":[]}'
    both.shape((journal % "1").encode())
    both.shape((journal % "9223372036854775807").encode())
    both.shape((journal % "9223372036854775808").encode())  # beyond BIGINT: the column widens
    assert both.typed.shaper.parent.columns["journal_number"].kind == "decimal"
    both.shape((journal % "12").encode())


def test_a_learned_column_is_typed_from_the_next_record_on():
    both = Both(BY_TABLE["invoices"])
    both.shape(_invoice(ShinyNewField='"hello"'))
    assert both.typed.fallbacks == 1
    both.shape(_invoice(InvoiceID='"inv-2"', ShinyNewField='"again"'))
    assert both.typed.fallbacks == 1 and both.typed.typed == 1
    assert both.typed.shaper.parent.columns["shiny_new_field"].kind == "string"


def test_a_widened_column_is_typed_as_its_new_kind():
    both = Both(BY_TABLE["invoices"])
    both.shape(_invoice(Total='"NaN"'))  # the column widens to text
    assert both.typed.shaper.parent.columns["total"].kind == "string"
    both.shape(_invoice(InvoiceID='"inv-2"', Total='"115.00"'))
    assert both.typed.typed == 1
    # A number for a text column: the reference's text of it.
    both.shape(_invoice(InvoiceID='"inv-3"', Total="115.00"))


def test_a_record_without_its_key_fails_as_it_does_on_the_reference_path():
    typed = TypedShaper(RecordShaper(BY_TABLE["invoices"], tenant_id="t1", synced_at=NOW))
    for key in ("-", '""', "null"):  # missing, empty, null
        with pytest.raises(ValueError, match="has no InvoiceID"):
            typed.shape(_invoice(InvoiceID=key), 1)


def test_both_paths_digest_the_record_text_as_sent():
    both = Both(BY_TABLE["invoices"])
    plain = both.shape(_invoice())[""][0]["_hash"]
    fallen = both.shape(_invoice(ShinyNewField='"x"'))  # the reference path, for this record
    assert both.typed.fallbacks == 1
    assert plain == text_hash(_invoice())
    assert fallen[""][0]["_hash"] == text_hash(_invoice(ShinyNewField='"x"'))


def test_a_null_field_the_spec_lacks_is_taken_as_null_until_it_holds_a_value():
    # The reference ignores such a field; were the Struct to refuse it, every record
    # carrying it would take the slower reference path for good.
    both = Both(BY_TABLE["invoices"])
    lines = '[{"LineItemID":"li-1","Quantity":1,"Gone":null}]'
    both.shape(_invoice(Nothing="null", LineItems=lines))
    assert both.typed.fallbacks == 1
    both.shape(_invoice(InvoiceID='"inv-2"', Nothing="null", LineItems=lines))
    assert both.typed.fallbacks == 1 and both.typed.typed == 1
    both.shape(_invoice(InvoiceID='"inv-3"', Nothing='"now a value"'))  # learned as a column
    assert both.typed.fallbacks == 2 and "nothing" in both.typed.shaper.parent.columns
    both.shape(_invoice(InvoiceID='"inv-4"', Nothing='"again"', LineItems=lines.replace("null", '"x"')))
    both.shape(_invoice(InvoiceID='"inv-5"', Nothing="null", LineItems=lines))
    assert both.typed.typed == 2
