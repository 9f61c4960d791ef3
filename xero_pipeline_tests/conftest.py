"""Shared fixtures: sandboxes on loopback, small hand-made books with known contents, and
a Dagster instance.

The hand-made books (``make_books``) pin down exactly the records a test reasons about
(timestamps to the millisecond, archived and deleted states, 4 dp unit prices); the
seeded sandboxes check the same behaviour on realistic data. ``sandbox`` here is one
seeded tenant of the test's own, for tests that sync it, change its books or spend its
tokens.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import dagster as dg
import pytest
import requests

from xero_pipeline.sandbox import Sandbox
from xero_pipeline.sandbox.books.store import SandboxClock, TenantBooks
from xero_pipeline_tests import lake_mode, postgres_server

SHM = "/dev/shm"
SHM_NEEDED = 8 * 2**30  # the suite's files at their largest, with room to spare


def pytest_configure(config: pytest.Config) -> None:
    """Temporary folders in RAM when the machine has room there (tmpfs is a real
    filesystem, so DuckDB files, locks and WALs behave as on disk, without the fsync of
    every commit and Dagster event). A small /dev/shm (Docker's default 64 MB) or none
    keeps pytest's default. Workers of pytest-xdist inherit the choice."""
    config.addinivalue_line("markers", "heavy(seconds): a long test, started first (its usual seconds)")
    config.addinivalue_line("markers", "bench_smoke: a slow smoke test of make bench, run by make bench-smoke")
    if config.option.basetemp or hasattr(config, "workerinput"):
        return
    if os.path.isdir(SHM) and os.access(SHM, os.W_OK) and shutil.disk_usage(SHM).free > SHM_NEEDED:
        config.option.basetemp = tempfile.mkdtemp(prefix="xero-tests-", dir=SHM)
        config._xero_shm_basetemp = config.option.basetemp  # removed by pytest_unconfigure


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest tests first (``@pytest.mark.heavy(seconds)``, heaviest first), the rest in
    their order. pytest-xdist hands tests out in collection order, so a long test collected
    last ran alone at the end while the other workers idled (on CI the 20-kill crash test
    did, and ran past its timeout at 10 minutes). A module in an xdist_group takes the
    mark at module level (``pytestmark``), so its tests stay together."""
    def weight(item: pytest.Item) -> float:
        mark = item.get_closest_marker("heavy")
        return float(mark.args[0]) if mark and mark.args else 0.0

    items.sort(key=lambda item: -weight(item))  # stable: equal weights keep their order


def pytest_unconfigure(config: pytest.Config) -> None:
    made = getattr(config, "_xero_shm_basetemp", None)
    if made:
        shutil.rmtree(made, ignore_errors=True)


T0 = datetime(2026, 10, 1, 12, 0, 0, tzinfo=UTC)
PRECISE = datetime(2026, 10, 2, 12, 0, 0, 600_000, tzinfo=UTC)
N_INVOICES = 250
N_CONTACTS = 30
N_JOURNALS = 250
N_QUOTES = 130


def _id(tenant: int, kind: str, n: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"fixture/{tenant}/{kind}/{n}"))


def make_books(clock: SandboxClock, tenant: int = 0) -> TenantBooks:
    """A small organisation: every IMS record is updated a whole number of minutes after T0."""
    tid = _id(tenant, "tenant", 0)
    books = TenantBooks(tenant_id=tid, name=f"Fixture Org {tenant}", base_currency="NZD", clock=clock)

    def put(path: str, rec: dict, updated: datetime | None = None) -> None:
        if updated is not None:
            rec["UpdatedDateUTC"] = updated
        books.put(path, rec, touch=False)

    put("Organisation", {"OrganisationID": tid, "Name": books.name, "BaseCurrency": "NZD",
                         "OrganisationStatus": "ACTIVE", "CreatedDateUTC": T0 - timedelta(days=400),
                         "PeriodLockDate": date(2026, 3, 31)})
    put("Accounts", {"AccountID": _id(tenant, "acct", 1), "Code": "200", "Name": "Sales", "Type": "REVENUE",
                     "Status": "ACTIVE"}, T0)
    # Updated 600 ms past a whole second: IMS is accurate to the second.
    put("Accounts", {"AccountID": _id(tenant, "acct", 2), "Code": "090", "Name": "Bank", "Type": "BANK",
                     "Status": "ACTIVE"}, PRECISE)
    for i in range(N_CONTACTS):
        put("Contacts", {"ContactID": _id(tenant, "contact", i), "Name": f"Contact {i:03d}",
                         "ContactStatus": "ARCHIVED" if i % 10 == 9 else "ACTIVE", "IsCustomer": i % 2 == 0,
                         "Addresses": [{"AddressType": "POBOX", "City": "Wellington"}]},
            T0 + timedelta(minutes=i))
    for i in range(N_INVOICES):
        contact = i % N_CONTACTS
        put("Invoices", {
            "InvoiceID": _id(tenant, "invoice", i), "InvoiceNumber": f"INV-{i:04d}",
            "Type": "ACCREC" if i % 3 else "ACCPAY",
            "Status": ["AUTHORISED", "PAID", "DRAFT", "VOIDED"][i % 4],
            "Contact": {"ContactID": _id(tenant, "contact", contact), "Name": f"Contact {contact:03d}"},
            "Date": date(2026, 1, 1) + timedelta(days=i), "DueDate": date(2026, 2, 1) + timedelta(days=i),
            "LineAmountTypes": "Exclusive",
            "LineItems": [{"LineItemID": _id(tenant, "line", i), "Description": "Widget",
                           "Quantity": Decimal("3.0000"), "UnitAmount": Decimal("10.1250"),
                           "LineAmount": Decimal("30.38"), "AccountCode": "200",
                           "TaxAmount": Decimal("4.56")}],
            "Payments": [{"PaymentID": _id(tenant, "payment", i), "Amount": Decimal("1.00")}]
            if i % 4 == 1 else [],
            "SubTotal": Decimal("30.38"), "TotalTax": Decimal("4.56"), "Total": Decimal("34.94"),
            "AmountDue": Decimal("34.94"), "AmountPaid": Decimal("0.00"), "CurrencyCode": "NZD",
            "CurrencyRate": Decimal("1.000000"),
        }, T0 + timedelta(minutes=i))
    for i in range(N_JOURNALS):
        put("Journals", {"JournalID": _id(tenant, "journal", i), "JournalNumber": i + 1,
                         "JournalDate": date(2026, 1, 1), "CreatedDateUTC": T0 + timedelta(minutes=i),
                         "SourceID": _id(tenant, "invoice", i), "SourceType": "ACCREC",
                         "JournalLines": [{"JournalLineID": _id(tenant, "jl", i), "AccountCode": "200",
                                           "NetAmount": Decimal("-30.38"), "GrossAmount": Decimal("-34.94"),
                                           "TaxAmount": Decimal("-4.56")}]})
    for i in range(N_QUOTES):
        put("Quotes", {"QuoteID": _id(tenant, "quote", i), "QuoteNumber": f"QU-{i:04d}", "Status": "DRAFT",
                       "Contact": {"ContactID": _id(tenant, "contact", 0), "Name": "Contact 000"},
                       "Date": date(2026, 3, 1), "LineItems": [{"LineItemID": _id(tenant, "qline", i),
                                                                "UnitAmount": Decimal("2.5050")}]},
            T0 + timedelta(minutes=i))
    put("Items", {"ItemID": _id(tenant, "item", 1), "Code": "W1", "Name": "Widget",
                  "SalesDetails": {"UnitPrice": Decimal("10.1250"), "AccountCode": "200"},
                  "PurchaseDetails": {"UnitPrice": Decimal("4.0049")}}, T0)
    put("TrackingCategories", {
        "TrackingCategoryID": _id(tenant, "tc", 1), "Name": "Region", "Status": "ACTIVE",
        "Options": [{"TrackingOptionID": _id(tenant, "to", 1), "Name": "North", "Status": "ACTIVE"},
                    {"TrackingOptionID": _id(tenant, "to", 2), "Name": "South", "Status": "ARCHIVED"}]})
    put("TrackingCategories", {"TrackingCategoryID": _id(tenant, "tc", 2), "Name": "Old",
                               "Status": "ARCHIVED", "Options": []})
    for i, status in enumerate(["AUTHORISED", "DELETED", "AUTHORISED"]):
        put("BankTransfers", {"BankTransferID": _id(tenant, "bt", i), "Amount": Decimal("100.00"),
                              "Date": date(2026, 4, 1), "Status": status,
                              "CreatedDateUTC": T0 + timedelta(minutes=i)})
    for i in range(3):
        put("LinkedTransactions", {"LinkedTransactionID": _id(tenant, "lt", i), "Status": "APPROVED",
                                   "SourceTransactionID": _id(tenant, "invoice", i)}, T0)
    put("Currencies", {"Code": "NZD", "Description": "New Zealand Dollar"})
    return books


@pytest.fixture(scope="module")
def fixture_sandbox() -> Iterator[Sandbox]:
    """Two hand-made tenants, limits off: for exact assertions about paging and filters."""
    clock = SandboxClock()
    with Sandbox(books=[make_books(clock, 0), make_books(clock, 1)], limits=False) as sb:
        yield sb


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """One seeded tenant at a small scale, limits off, started afresh for each test."""
    with Sandbox(tenants=1, scale=0.02, seed=11, limits=False) as sb:
        yield sb


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    """A Dagster instance of the test's own, in memory: tests that run in this process need
    no files for it (a quarter of a sync's CPU went to SQLite event storage), and the
    tests of processes that share an instance give them a DAGSTER_HOME on disk."""
    with dg.DagsterInstance.ephemeral() as inst:
        yield inst


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[str]:
    """One throw-away PostgreSQL server per test worker, started by the first test that needs
    it (~2 s). Missing binaries fail the test with what to install: never a skip."""
    try:
        with postgres_server.postgres_server() as url:
            yield url
    except postgres_server.PostgresMissing as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session", autouse=True)
def lake_warehouse(request: pytest.FixtureRequest) -> Iterator[None]:
    """With XERO_TEST_WAREHOUSE=ducklake, every test's warehouse file is a DuckLake (lake_mode)."""
    if not lake_mode.wanted():
        yield
        return
    with lake_mode.redirected(request.getfixturevalue("postgres_cluster")):
        yield


@pytest.fixture
def postgres_url(postgres_cluster: str) -> str:
    """A fresh, empty database of the test's own on the worker's server."""
    return postgres_server.create_database(postgres_cluster, f"t_{uuid.uuid4().hex[:16]}")


def access_token(sb: Sandbox, refresh_token: str | None = None) -> str:
    resp = requests.post(f"{sb.url}/connect/token", data={
        "grant_type": "refresh_token", "refresh_token": refresh_token or sb.new_refresh_token(),
        "client_id": sb.client_id, "client_secret": sb.client_secret})
    resp.raise_for_status()
    return resp.json()["access_token"]


class Api:
    """A minimal Xero client for tests: JSON, bearer token, tenant header."""

    def __init__(self, sb: Sandbox, tenant_id: str | None = None, token: str | None = None) -> None:
        self.sb = sb
        self.tenant_id = tenant_id or sb.tenant_ids[0]
        self.token = token or access_token(sb)
        self.session = requests.Session()

    def get(self, path: str, *, headers: dict | None = None, **params: object) -> requests.Response:
        h = {"Authorization": f"Bearer {self.token}", "xero-tenant-id": self.tenant_id,
             "Accept": "application/json", **(headers or {})}
        return self.session.get(f"{self.sb.api_url}/{path}", params=params, headers=h, timeout=30)


@pytest.fixture(scope="module")
def api(fixture_sandbox: Sandbox) -> Api:
    return Api(fixture_sandbox)
