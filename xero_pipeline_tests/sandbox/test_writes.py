"""The sandbox's writes over HTTP: Xero's per-element answers, its status rules, the
ledger kept balanced, and its Idempotency-Key semantics."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

import pytest
import requests

from xero_pipeline.sandbox import Sandbox
from xero_pipeline.sandbox.books.ledger import trial_balance
from xero_pipeline_tests.conftest import access_token

pytestmark = pytest.mark.xdist_group("sandbox_writes")


class Writer:
    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.tenant_id = sb.tenant_ids[0]
        self.books = sb.books[self.tenant_id]
        self.headers = {"Authorization": f"Bearer {access_token(sb)}", "xero-tenant-id": self.tenant_id,
                        "Accept": "application/json"}

    def send(self, method: str, path: str, elements: list[dict], *, key: str | None = None,
             summarize: bool = False) -> requests.Response:
        headers = dict(self.headers, **({"Idempotency-Key": key} if key else {}))
        return requests.request(method, f"{self.sb.api_url}/{path}", headers=headers, timeout=30,
                                params={"summarizeErrors": str(summarize).lower()},
                                data=json.dumps({path.split("/")[0]: elements}))

    def ok(self, method: str, path: str, elements: list[dict], **kw: object) -> list[dict]:
        resp = self.send(method, path, elements, **kw)
        assert resp.status_code == 200, resp.text[:500]
        return json.loads(resp.content, parse_float=Decimal)[path.split("/")[0]]

    def contact_id(self) -> str:
        return next(c["ContactID"] for c in self.books.records("Contacts") if c["ContactStatus"] == "ACTIVE")

    def balanced(self) -> bool:
        return sum(trial_balance(self.books).values()) == 0


@pytest.fixture(scope="module")
def writer() -> Iterator[Writer]:
    with Sandbox(tenants=1, scale=0.02, seed=23, limits=False) as sb:
        yield Writer(sb)


def _invoice(contact_id: str, **fields: object) -> dict:
    return {"Type": "ACCREC", "Contact": {"ContactID": contact_id}, "Date": "2026-10-20",
            "LineItems": [{"Description": "Consulting", "Quantity": 2, "UnitAmount": "150.00",
                           "AccountCode": "200"}], **fields}


def test_a_batch_lands_except_the_refused_element_which_carries_xeros_messages(writer: Writer) -> None:
    before = len(writer.books.records("Invoices"))
    out = writer.ok("PUT", "Invoices", [
        _invoice(writer.contact_id(), Status="AUTHORISED"),
        _invoice(writer.contact_id(), LineItems=[{"Description": "x", "UnitAmount": 1, "AccountCode": "999"}]),
        _invoice(writer.contact_id()),
    ])
    assert [e["StatusAttributeString"] for e in out] == ["OK", "ERROR", "OK"]
    assert out[1]["ValidationErrors"] == [
        {"Message": "Account code '999' has been removed as it does not match a recognised account."}]
    assert out[1]["InvoiceID"] == "00000000-0000-0000-0000-000000000000"
    assert len(writer.books.records("Invoices")) == before + 2
    stored = writer.books.get("Invoices", out[0]["InvoiceID"])
    assert stored["Status"] == "AUTHORISED" and stored["Total"] == Decimal("345.00")  # 15% GST on 300
    assert out[2]["Status"] == "DRAFT"  # Xero's default status
    assert writer.balanced()


def test_summarize_errors_true_answers_400_validation_exception(writer: Writer) -> None:
    resp = writer.send("PUT", "Invoices", [{"Type": "ACCREC", "LineItems": []}], summarize=True)
    assert resp.status_code == 400
    body = resp.json()
    assert (body["ErrorNumber"], body["Type"]) == (10, "ValidationException")
    assert body["Elements"][0]["ValidationErrors"][0]["Message"].startswith("The Contact must contain")


def test_status_rules_void_delete_and_paid(writer: Writer) -> None:
    draft, authorised = writer.ok("PUT", "Invoices", [_invoice(writer.contact_id()),
                                                      _invoice(writer.contact_id(), Status="AUTHORISED")])
    assert writer.ok("POST", f"Invoices/{draft['InvoiceID']}", [{"Status": "VOIDED"}])[0]["ValidationErrors"] == [
        {"Message": "Invoice not of valid status for modification"}]
    assert writer.ok("POST", "Invoices", [{"InvoiceID": draft["InvoiceID"], "Status": "DELETED"}])[0]["Status"] == \
        "DELETED"
    bank = next(a for a in writer.books.records("Accounts") if a["Type"] == "BANK")
    paid = writer.ok("PUT", "Payments", [{"Invoice": {"InvoiceID": authorised["InvoiceID"]},
                                          "Account": {"Code": bank["Code"]}, "Date": "2026-10-25",
                                          "Amount": str(authorised["Total"])}])
    assert paid[0]["StatusAttributeString"] == "OK"
    assert writer.books.get("Invoices", authorised["InvoiceID"])["Status"] == "PAID"
    edit = writer.ok("POST", "Invoices", [{"InvoiceID": authorised["InvoiceID"], "Reference": "changed"}])
    assert edit[0]["ValidationErrors"] == [{"Message": "Invoice not of valid status for modification"}]
    # Deleting the payment puts the invoice back to AUTHORISED, where a void is allowed.
    writer.ok("POST", "Payments", [{"PaymentID": paid[0]["PaymentID"], "Status": "DELETED"}])
    voided = writer.ok("POST", "Invoices", [{"InvoiceID": authorised["InvoiceID"], "Status": "VOIDED"}])
    assert voided[0]["Status"] == "VOIDED"
    assert writer.balanced()


def test_manual_journal_must_balance_and_posts_when_posted(writer: Writer) -> None:
    lines = [{"AccountCode": "200", "LineAmount": "-100.00"}, {"AccountCode": "400", "LineAmount": "10.00"}]
    refused = writer.ok("PUT", "ManualJournals", [{"Narration": "Payroll", "JournalLines": lines}])
    assert refused[0]["ValidationErrors"] == [{"Message": "The total debits (10.00) must equal total credits (-100.00)"}]
    lines[1]["LineAmount"] = "100.00"
    journals = len(writer.books.records("Journals"))
    posted = writer.ok("PUT", "ManualJournals", [{"Narration": "Payroll", "Status": "POSTED", "JournalLines": lines}])
    assert posted[0]["Status"] == "POSTED" and len(writer.books.records("Journals")) == journals + 1
    assert writer.balanced()


def test_same_key_same_request_replays_without_a_second_record(writer: Writer) -> None:
    element = [{"Name": "Idempotent Imports Ltd"}]
    first = writer.send("PUT", "Contacts", element, key="contacts-once")
    again = writer.send("PUT", "Contacts", element, key="contacts-once")
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert [c["Name"] for c in writer.books.records("Contacts")].count("Idempotent Imports Ltd") == 1


def test_same_key_different_body_is_400_with_xeros_message(writer: Writer) -> None:
    writer.ok("PUT", "Contacts", [{"Name": "Keyed Once Ltd"}], key="reused-key")
    resp = writer.send("PUT", "Contacts", [{"Name": "Keyed Twice Ltd"}], key="reused-key")
    assert resp.status_code == 400
    assert resp.json()["Message"] == "Idempotency Key reused-key is used with a different request"
    assert not any(c["Name"] == "Keyed Twice Ltd" for c in writer.books.records("Contacts"))


def test_errors_are_cached_too(writer: Writer) -> None:
    refused = writer.send("PUT", "Contacts", [{"Name": ""}], key="an-error")
    assert writer.send("PUT", "Contacts", [{"Name": ""}], key="an-error").content == refused.content


def test_writes_count_against_the_rate_limits() -> None:
    with Sandbox(tenants=1, scale=0.02, seed=29, limits=True) as sb:
        w = Writer(sb)
        resp = w.send("PUT", "Contacts", [{"Name": "Counted Ltd"}])
        assert int(resp.headers["X-MinLimit-Remaining"]) == 59
        assert int(resp.headers["X-DayLimit-Remaining"]) == 4999


def test_read_only_objects_cannot_be_written(writer: Writer) -> None:
    assert writer.send("PUT", "Journals", [{}]).status_code == 404


def test_editing_an_authorised_invoice_reposts_its_journal(writer: Writer) -> None:
    [inv] = writer.ok("PUT", "Invoices", [_invoice(writer.contact_id(), Status="AUTHORISED")])
    journals = len(writer.books.records("Journals"))
    [edited] = writer.ok("POST", "Invoices", [{"InvoiceID": inv["InvoiceID"], "LineAmountTypes": "Inclusive",
                                               "Reference": "re-taxed"}])
    assert edited["StatusAttributeString"] == "OK" and edited["Reference"] == "re-taxed"
    assert edited["Total"] == Decimal("300.00") and edited["AmountDue"] == Decimal("300.00")  # GST now inside
    assert edited["TotalTax"] == Decimal("39.13") and edited["LineItems"][0]["TaxAmount"] == Decimal("39.13")
    assert len(writer.books.records("Journals")) == journals + 2  # the reversal and the new posting
    assert writer.balanced()


def test_a_refused_element_changes_nothing(writer: Writer) -> None:
    [txn] = writer.ok("PUT", "BankTransactions", [{
        "Type": "SPEND", "Contact": {"ContactID": writer.contact_id()},
        "BankAccount": {"Code": next(a["Code"] for a in writer.books.records("Accounts") if a["Type"] == "BANK")},
        "LineItems": [{"Description": "Fuel", "UnitAmount": "80.00", "AccountCode": "429"}]}])
    before = json.dumps(writer.books.get("BankTransactions", txn["BankTransactionID"]), default=str, sort_keys=True)
    [refused] = writer.ok("POST", "BankTransactions", [{"BankTransactionID": txn["BankTransactionID"],
                                                        "LineAmountTypes": "NoTax", "Date": "not a date"}])
    assert refused["ValidationErrors"] == [{"Message": "Date 'not a date' is not a valid date"}]
    after = json.dumps(writer.books.get("BankTransactions", txn["BankTransactionID"]), default=str, sort_keys=True)
    assert after == before
    [voided] = writer.ok("POST", "BankTransactions", [{"BankTransactionID": txn["BankTransactionID"],
                                                       "Status": "VOIDED"}])
    assert voided["ValidationErrors"] == [{"Message": "BankTransaction not of valid status for modification"}]
    [untaxed] = writer.ok("POST", "BankTransactions", [{"BankTransactionID": txn["BankTransactionID"],
                                                        "LineAmountTypes": "NoTax"}])
    assert (untaxed["TotalTax"], untaxed["Total"]) == (Decimal("0.00"), Decimal("80.00"))
    assert writer.balanced()
