"""Accounting reads against hand-made books: envelopes, paging, IMS, filters, formats, errors."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
import requests

from xero_pipeline.sandbox import Sandbox
from xero_pipeline_tests.conftest import N_CONTACTS, N_INVOICES, N_JOURNALS, N_QUOTES, Api, _id

MSDATE = re.compile(r"/Date\(-?\d+\+0000\)/")


def parsed(resp: requests.Response) -> dict:
    assert resp.status_code == 200, resp.text[:300]
    return json.loads(resp.content, parse_float=Decimal)


def test_envelope_and_headers(api: Api) -> None:
    resp = api.get("Invoices", page=1)
    body = parsed(resp)
    assert list(body)[:4] == ["Id", "Status", "ProviderName", "DateTimeUTC"]
    assert body["Status"] == "OK" and resp.headers["Xero-Correlation-Id"] == body["Id"]
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
    assert re.fullmatch(r"/Date\(\d+\)/", body["DateTimeUTC"])  # the envelope's date has no offset
    assert b'"\\/Date(' in resp.content  # Xero escapes the slashes
    inv = body["Invoices"][0]
    assert MSDATE.fullmatch(inv["Date"]) and MSDATE.fullmatch(inv["UpdatedDateUTC"])
    assert inv["Date"] == "/Date(1767225600000+0000)/"  # 2026-01-01: a date is midnight UTC
    line = inv["LineItems"][0]
    assert str(line["Quantity"]) == "3.0000" and str(inv["CurrencyRate"]) == "1.000000"  # exact numbers


def test_paths_are_case_insensitive_and_unknown_is_404(api: Api) -> None:
    assert parsed(api.get("invoices", page=1))["Invoices"]
    assert parsed(api.get("ORGANISATION"))["Organisations"][0]["Name"] == "Fixture Org 0"
    assert api.get("NoSuchThing").status_code == 404
    assert api.get("Invoices/00000000-0000-0000-0000-000000000000").status_code == 404
    assert api.get("Invoices/x/History").status_code == 404


def test_paging_and_pagination_object(api: Api) -> None:
    body = parsed(api.get("Invoices", page=2))
    assert body["pagination"] == {"page": 2, "pageSize": 100, "pageCount": 3, "itemCount": N_INVOICES}
    assert len(body["Invoices"]) == 100
    assert len(parsed(api.get("Invoices", page=3))["Invoices"]) == N_INVOICES - 200
    big = parsed(api.get("Invoices", page=1, pageSize=5000))  # clamped to Xero's maximum
    assert big["pagination"]["pageSize"] == 1000 and len(big["Invoices"]) == N_INVOICES
    past = parsed(api.get("Invoices", page=9, pageSize=50))
    assert past["Invoices"] == [] and past["pagination"]["pageCount"] == 5
    seen = [i["InvoiceID"] for p in (1, 2, 3) for i in parsed(api.get("Invoices", page=p))["Invoices"]]
    assert len(set(seen)) == N_INVOICES


def test_unpaged_documents_omit_line_items(api: Api) -> None:
    body = parsed(api.get("Invoices"))
    assert "pagination" not in body and len(body["Invoices"]) == N_INVOICES
    paid = next(i for i in body["Invoices"] if i["InvoiceNumber"] == "INV-0001")
    assert paid["LineItems"] == [] and "Payments" not in paid and "AmountPaid" in paid
    paged = next(i for i in parsed(api.get("Invoices", page=1))["Invoices"]
                 if i["InvoiceNumber"] == "INV-0001")
    assert paged["LineItems"] and paged["Payments"]
    single = parsed(api.get(f"Invoices/{paid['InvoiceID']}"))["Invoices"]
    assert len(single) == 1 and single[0]["LineItems"]
    assert parsed(api.get("Invoices/INV-0001"))["Invoices"][0]["InvoiceID"] == paid["InvoiceID"]


def test_pagination_object_only_on_page_size_endpoints(api: Api) -> None:
    assert "pagination" in parsed(api.get("Contacts", page=1))
    for path in ("Quotes", "LinkedTransactions", "Accounts", "Items"):
        assert "pagination" not in parsed(api.get(path, page=1)), path


def test_page_only_endpoints(api: Api) -> None:
    first = parsed(api.get("Quotes", page=1, pageSize=10))["Quotes"]
    assert len(first) == 100 and first[0]["LineItems"]  # pageSize ignored, lines included
    assert len(parsed(api.get("Quotes", page=2))["Quotes"]) == N_QUOTES - 100
    unpaged = parsed(api.get("Quotes"))["Quotes"]
    assert len(unpaged) == N_QUOTES and unpaged[0]["LineItems"] == []


def test_unpaged_endpoints_ignore_page(api: Api) -> None:
    assert len(parsed(api.get("Contacts"))["Contacts"]) == N_CONTACTS - 3  # 3 archived hidden
    assert len(parsed(api.get("Accounts", page=5))["Accounts"]) == 2


def test_journals_offset_is_exclusive_and_ordered(api: Api) -> None:
    first = parsed(api.get("Journals"))["Journals"]
    assert [j["JournalNumber"] for j in first] == list(range(1, 101))
    nxt = parsed(api.get("Journals", offset=100))["Journals"]
    assert [j["JournalNumber"] for j in nxt] == list(range(101, 201))
    tail = parsed(api.get("Journals", offset=N_JOURNALS - 5))["Journals"]
    assert [j["JournalNumber"] for j in tail] == list(range(N_JOURNALS - 4, N_JOURNALS + 1))
    assert parsed(api.get("Journals", offset=N_JOURNALS))["Journals"] == []
    assert first[0]["SourceID"] and first[0]["JournalLines"]
    # IMS on CreatedDateUTC (journal i was created at T0 + i minutes), then offset.
    ims = parsed(api.get("Journals", headers={"If-Modified-Since": "2026-10-01T14:00:00"}))["Journals"]
    assert ims[0]["JournalNumber"] == 121 and len(ims) == 100
    single = parsed(api.get(f"Journals/{first[0]['JournalID']}"))["Journals"][0]
    assert "SourceID" not in single and "SourceType" not in single  # Xero drops them here


@pytest.mark.parametrize("value,found", [
    ("2026-10-02T12:00:00", True),
    ("2026-10-02T12:00:01", False),
    ("2026-10-02T12:00:00Z", True),
    ("2026-10-02T12:00:00.900", True),  # truncated to the second, like the record
    ("2026-10-02T12:00:00.999999+00:00", True),
    ("2026-10-02T12:00:01.000+00:00", False),
    ("2026-10-02T04:00:00-08:00", True),
    ("2026-10-02T04:00:01-08:00", False),
    ("Fri, 02 Oct 2026 12:00:00 GMT", True),
    ("Fri, 02 Oct 2026 12:00:01 GMT", False),
])
def test_if_modified_since_accurate_to_the_second(api: Api, value: str, found: bool) -> None:
    accounts = parsed(api.get("Accounts", headers={"If-Modified-Since": value}))["Accounts"]
    assert [a["Code"] for a in accounts] == (["090"] if found else [])


def test_if_modified_since_filters_paged_reads_and_bad_value_is_400(api: Api) -> None:
    body = parsed(api.get("Invoices", page=1, headers={"If-Modified-Since": "2026-10-01T15:00:00"}))
    assert body["pagination"]["itemCount"] == N_INVOICES - 180
    assert body["Invoices"][0]["InvoiceNumber"] == "INV-0180"  # default order: UpdatedDateUTC ascending
    bad = api.get("Invoices", headers={"If-Modified-Since": "yesterday"})
    assert bad.status_code == 400 and set(bad.json()) == {"ErrorNumber", "Type", "Message"}
    # Endpoints without IMS ignore the header.
    assert len(parsed(api.get("TrackingCategories", headers={"If-Modified-Since": "2030-01-01"}))
               ["TrackingCategories"]) == 1


def test_include_archived_and_deleted(api: Api) -> None:
    for flag in ("true", "True", "TRUE"):
        contacts = parsed(api.get("Contacts", includeArchived=flag))["Contacts"]
        assert len(contacts) == N_CONTACTS
    assert all(c["ContactStatus"] == "ACTIVE" for c in parsed(api.get("Contacts"))["Contacts"])
    tracking = parsed(api.get("TrackingCategories"))["TrackingCategories"]
    assert [t["Name"] for t in tracking] == ["Region"]
    assert [o["Name"] for o in tracking[0]["Options"]] == ["North"]
    tracking = parsed(api.get("TrackingCategories", includeArchived="true"))["TrackingCategories"]
    assert [t["Name"] for t in tracking] == ["Region", "Old"] and len(tracking[0]["Options"]) == 2
    assert len(parsed(api.get("BankTransfers"))["BankTransfers"]) == 2
    assert len(parsed(api.get("BankTransfers", includeDeleted="True"))["BankTransfers"]) == 3
    assert len(parsed(api.get("Contacts", includeDeleted="true"))["Contacts"]) == N_CONTACTS - 3


def test_unitdp(api: Api) -> None:
    line = parsed(api.get("Invoices", page=1))["Invoices"][0]["LineItems"][0]
    assert str(line["UnitAmount"]) == "10.13"  # 10.1250 rounded half-up
    line = parsed(api.get("Invoices", page=1, unitdp=4))["Invoices"][0]["LineItems"][0]
    assert str(line["UnitAmount"]) == "10.1250"
    item = parsed(api.get("Items"))["Items"][0]
    prices = (str(item["SalesDetails"]["UnitPrice"]), str(item["PurchaseDetails"]["UnitPrice"]))
    assert prices == ("10.13", "4.00")
    item = parsed(api.get("Items", unitdp=4))["Items"][0]
    assert str(item["PurchaseDetails"]["UnitPrice"]) == "4.0049"
    quote = parsed(api.get("Quotes", page=1, unitdp=4))["Quotes"][0]  # Quotes do not take unitdp
    assert str(quote["LineItems"][0]["UnitAmount"]) == "2.51"
    single = parsed(api.get(f"Invoices/{_id(0, 'invoice', 0)}", unitdp=4))["Invoices"][0]
    assert str(single["LineItems"][0]["UnitAmount"]) == "10.1250"


def test_order(api: Api) -> None:
    names = [c["Name"] for c in parsed(api.get("Contacts", order="Name DESC"))["Contacts"]]
    assert names == sorted(names, reverse=True)
    invs = parsed(api.get("Invoices", page=1, pageSize=1000, order="Contact.Name ASC, InvoiceNumber DESC"))
    keys = [(i["Contact"]["Name"], i["InvoiceNumber"]) for i in invs["Invoices"]]
    assert keys == sorted(keys, key=lambda k: (k[0], [-ord(c) for c in k[1]]))
    assert api.get("Invoices", order="Nope").status_code == 400
    assert api.get("Invoices", order="Total SIDEWAYS").status_code == 400
    # Without order: UpdatedDateUTC for IMS endpoints, insertion order for the rest.
    transfers = parsed(api.get("BankTransfers", includeDeleted="true"))["BankTransfers"]
    assert [t["BankTransferID"] for t in transfers] == [_id(0, "bt", i) for i in range(3)]


@pytest.mark.parametrize("where,count", [
    ('Status == "AUTHORISED"', N_INVOICES // 4 + 1),
    ('Status != "AUTHORISED"', N_INVOICES - N_INVOICES // 4 - 1),
    (f'Contact.ContactID == Guid("{_id(0, "contact", 3).upper()}")', 9),
    ('Date >= DateTime(2026, 09, 01)', N_INVOICES - 243),
    ('Date < DateTime(2026, 01, 03)', 2),
    ('Type == "ACCPAY" AND Status == "AUTHORISED"', 21),
    ('Status == "PAID" OR Status == "VOIDED"', N_INVOICES // 2),
    ('(Status == "PAID" || Status == "VOIDED") && Type == "ACCREC"', 83),
    ('Contact.Name.StartsWith("Contact 00")', 90),
    ('AmountDue > 34.93 AND AmountDue <= 34.94', N_INVOICES),
])
def test_where(api: Api, where: str, count: int) -> None:
    body = parsed(api.get("Invoices", page=1, pageSize=1000, where=where))
    assert body["pagination"]["itemCount"] == count


def test_where_on_booleans_and_errors(api: Api) -> None:
    assert len(parsed(api.get("Contacts", where="IsCustomer == true"))["Contacts"]) == 15
    assert len(parsed(api.get("Contacts", where="IsCustomer==False"))["Contacts"]) == 12
    for bad in ('Status = = "X"', 'Nope == 1', 'Date >= "2020-01-01"', 'Status == "A" XOR 1', 'Status =='):
        resp = api.get("Invoices", where=bad)
        assert resp.status_code == 400, bad
        assert resp.json()["Type"] == "QueryParseException" and resp.json()["Message"]


def test_csv_filters_on_invoices(api: Api) -> None:
    ids = [_id(0, "invoice", i) for i in (1, 2, 3)]
    got = parsed(api.get("Invoices", IDs=",".join(ids)))["Invoices"]
    assert sorted(i["InvoiceID"] for i in got) == sorted(ids)
    assert len(parsed(api.get("Invoices", Statuses="PAID,VOIDED"))["Invoices"]) == N_INVOICES // 2
    assert len(parsed(api.get("Invoices", ContactIDs=_id(0, "contact", 5)))["Invoices"]) == 9
    got = parsed(api.get("Invoices", InvoiceNumbers="INV-0007,INV-0009"))["Invoices"]
    assert sorted(i["InvoiceNumber"] for i in got) == ["INV-0007", "INV-0009"]


def test_xml_without_accept(fixture_sandbox: Sandbox, api: Api) -> None:
    resp = api.get("Invoices", page=1, headers={"Accept": "*/*"})
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/xml")
    root = ET.fromstring(resp.content)
    assert root.tag == "Response" and root.findtext("Status") == "OK" and root.findtext("Id")
    invoices = root.find("Invoices")
    assert len(invoices) == 100 and invoices[0].tag == "Invoice"
    assert invoices[0].find("LineItems/LineItem/UnitAmount").text == "10.13"
    assert root.findtext("pagination/itemCount") == str(N_INVOICES)
    tracking = ET.fromstring(api.get("TrackingCategories", headers={"Accept": "text/xml"}).content)
    assert tracking.find("TrackingCategories/TrackingCategory/Options/Option/Name").text == "North"


def test_401_problem_shapes(fixture_sandbox: Sandbox, api: Api) -> None:
    url = f"{fixture_sandbox.api_url}/Invoices"
    tenant = {"xero-tenant-id": api.tenant_id, "Accept": "application/json"}
    for headers in (tenant, {**tenant, "Authorization": "Bearer nonsense"}):
        resp = requests.get(url, headers=headers, timeout=10)
        body = resp.json()
        assert resp.status_code == 401
        assert set(body) == {"Type", "Title", "Status", "Detail", "Instance", "Extensions"}
        assert (body["Type"], body["Title"], body["Status"], body["Detail"], body["Extensions"]) == \
            (None, "Unauthorized", 401, "AuthenticationUnsuccessful", {})


def test_403_for_missing_unknown_or_disconnected_tenant(fixture_sandbox: Sandbox, api: Api) -> None:
    for tenant in ("", "00000000-0000-0000-0000-000000000000"):
        resp = api.get("Invoices", headers={"xero-tenant-id": tenant})
        assert resp.status_code == 403
        assert resp.json()["Title"] == "Forbidden" and resp.json()["Detail"] == "AuthenticationUnsuccessful"
    assert api.get("Invoices", headers={"xero-tenant-id": api.tenant_id.upper()}).status_code == 200
    other = fixture_sandbox.tenant_ids[1]
    fixture_sandbox.disconnect_tenant(other)
    try:
        assert api.get("Invoices", headers={"xero-tenant-id": other}).status_code == 403
    finally:
        fixture_sandbox.connect_tenant(other)
    assert api.get("Invoices", headers={"xero-tenant-id": other}).status_code == 200


def test_tenants_are_isolated(fixture_sandbox: Sandbox, api: Api) -> None:
    a = parsed(api.get("Organisation"))["Organisations"][0]["OrganisationID"]
    b = parsed(api.get("Organisation", headers={"xero-tenant-id": fixture_sandbox.tenant_ids[1]}))
    assert a != b["Organisations"][0]["OrganisationID"]


def test_every_registry_object_is_served(api: Api) -> None:
    from xero_pipeline.registry import OBJECTS

    for obj in OBJECTS:
        body = parsed(api.get(obj.path))
        assert isinstance(body[obj.envelope], list), obj.path


def test_changes_show_up_in_ims_reads(fixture_sandbox: Sandbox, api: Api) -> None:
    books = fixture_sandbox.books[api.tenant_id]
    since = fixture_sandbox.clock.now().replace(microsecond=0)
    rec = dict(books.get("Contacts", _id(0, "contact", 0)))
    rec["Name"] = "Renamed"
    books.put("Contacts", rec)
    got = parsed(api.get("Contacts", headers={"If-Modified-Since": since.isoformat()}))["Contacts"]
    assert [c["Name"] for c in got] == ["Renamed"]
    assert parsed(api.get("Contacts", order="Name"))["Contacts"][-1]["Name"] == "Renamed"
