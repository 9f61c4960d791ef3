"""Write-back end to end, per writable object: outbox rows -> push -> the records in the
sandbox -> their Xero ids in writeback.results -> the next sync shows them in the warehouse.

One sandbox, warehouse and Dagster instance for the module: each object's case creates
its records in one push and updates (voids, deletes, archives...) them in a second.
"""

from __future__ import annotations

import json
import uuid
from contextlib import closing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from xero_pipeline.cli.push import push_tenants
from xero_pipeline.defs.resources import WarehouseResource, XeroResource
from xero_pipeline.registry import BY_TABLE, WRITABLE, XeroObject
from xero_pipeline.sandbox import Sandbox
from xero_pipeline.sandbox.books.ledger import trial_balance
from xero_pipeline.sandbox.books.store import TenantBooks
from xero_pipeline.warehouse.connection import open_warehouse
from xero_pipeline.warehouse.shaping import snake
from xero_pipeline_tests.resource_helpers import xero_resource

pytestmark = pytest.mark.xdist_group("push")


@dataclass
class World:
    sandbox: Sandbox
    tenant_id: str
    books: TenantBooks
    instance: dg.DagsterInstance
    xero: XeroResource
    warehouse: WarehouseResource
    path: Path

    def outbox(self, obj: XeroObject, rows: list[tuple[str, Any]], tenant_id: str | None = None) -> None:
        with closing(open_warehouse(self.path)) as conn:
            conn.executemany(f"INSERT INTO writeback.{obj.table} (tenant_id, request_id, payload) VALUES (?, ?, ?)",
                             [(tenant_id or self.tenant_id, rid, p if isinstance(p, str) or p is None
                               else json.dumps(p)) for rid, p in rows])

    def push(self, obj: XeroObject) -> None:
        push_tenants(instance=self.instance, xero=self.xero, warehouse=self.warehouse, objects=[obj],
                     echo=lambda _: None)

    def query(self, sql: str, *params: object) -> list[tuple]:
        with closing(open_warehouse(self.path, read_only=True)) as conn:
            return conn.execute(sql, list(params)).fetchall()

    def results(self, obj: XeroObject, request_ids: list[str]) -> dict[str, tuple]:
        rows = self.query("SELECT request_id, status, xero_id, validation_errors, attempt FROM writeback.results "
                          f"WHERE object = ? AND request_id IN ({','.join('?' * len(request_ids))})",
                          obj.table, *request_ids)
        assert len(rows) == len({r[0] for r in rows}), "a row has more than one outcome"
        return {r[0]: r[1:] for r in rows}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("push")
    with Sandbox(tenants=1, scale=0.02, seed=31, limits=False) as sb, dg.DagsterInstance.ephemeral() as instance:
        xero = xero_resource(sb, tmp, rate_window_seconds=1.0)
        warehouse = WarehouseResource(database=str(tmp / "xero.duckdb"))
        w = World(sb, sb.tenant_ids[0], sb.books[sb.tenant_ids[0]], instance, xero, warehouse, tmp / "xero.duckdb")
        # An empty push makes the outboxes, as it would on a user's first run.
        push_tenants(instance=instance, xero=xero, warehouse=warehouse, objects=WRITABLE, echo=lambda _: None)
        yield w


def _contact(b: TenantBooks) -> str:
    return next(c["ContactID"] for c in b.records("Contacts") if c["ContactStatus"] == "ACTIVE")


def _bank(b: TenantBooks) -> str:
    return next(a["Code"] for a in b.records("Accounts") if a["Type"] == "BANK" and a["Status"] == "ACTIVE")


def _open_invoice(b: TenantBooks) -> str:
    base = b.base_currency
    return next(i["InvoiceID"] for i in b.records("Invoices")
                if i["Status"] == "AUTHORISED" and i["AmountDue"] > 5 and i["CurrencyCode"] == base)


def _lines(code: str = "200") -> list[dict]:
    return [{"Description": "Write-back test", "Quantity": 2, "UnitAmount": 45.5, "AccountCode": code}]


@dataclass(frozen=True)
class Case:
    """Creates (payloads from the books), then updates of the created records by their ids."""

    creates: Callable[[TenantBooks], list[dict]]
    updates: list[dict]  # applied to the created records in order (one per create)
    after: list[tuple[str, str]]  # (field, value) each record shows in the sandbox after its update


_U = uuid.uuid4().hex[:6]
CASES: dict[str, Case] = {
    "contacts": Case(lambda b: [{"Name": f"Write-back Customer {_U}"}], [{"ContactStatus": "ARCHIVED"}],
                     [("ContactStatus", "ARCHIVED")]),
    "invoices": Case(
        lambda b: [{"Type": "ACCREC", "Contact": {"ContactID": _contact(b)}, "Status": "AUTHORISED",
                    "LineItems": _lines()},
                   {"Type": "ACCPAY", "Contact": {"ContactID": _contact(b)}, "InvoiceNumber": f"BILL-{_U}",
                    "LineItems": _lines("429")}],
        [{"Status": "VOIDED"}, {"Status": "DELETED"}], [("Status", "VOIDED"), ("Status", "DELETED")]),
    "credit_notes": Case(
        lambda b: [{"Type": "ACCRECCREDIT", "Contact": {"ContactID": _contact(b)}, "Status": "AUTHORISED",
                    "LineItems": _lines()}], [{"Status": "VOIDED"}], [("Status", "VOIDED")]),
    "payments": Case(
        lambda b: [{"Invoice": {"InvoiceID": _open_invoice(b)}, "Account": {"Code": _bank(b)}, "Amount": "5.00",
                    "Date": "2026-10-30"}], [{"Status": "DELETED"}], [("Status", "DELETED")]),
    "items": Case(lambda b: [{"Code": f"WB-{_U}", "Name": "Write-back widget",
                              "SalesDetails": {"UnitPrice": "12.5000", "AccountCode": "200"}}],
                  [{"Name": "Renamed widget"}], [("Name", "Renamed widget")]),
    "bank_transactions": Case(
        lambda b: [{"Type": "SPEND", "Contact": {"ContactID": _contact(b)}, "BankAccount": {"Code": _bank(b)},
                    "LineItems": _lines("429")}], [{"Status": "DELETED"}], [("Status", "DELETED")]),
    "manual_journals": Case(
        lambda b: [{"Narration": f"Payroll {_U}", "Status": "POSTED",
                    "JournalLines": [{"AccountCode": "429", "LineAmount": "250.00"},
                                     {"AccountCode": "200", "LineAmount": "-250.00"}]}],
        [{"Status": "VOIDED"}], [("Status", "VOIDED")]),
    "purchase_orders": Case(
        lambda b: [{"Contact": {"ContactID": _contact(b)}, "LineItems": _lines("429")}],
        [{"Status": "DELETED"}], [("Status", "DELETED")]),
    "quotes": Case(
        lambda b: [{"Contact": {"ContactID": _contact(b)}, "Date": "2026-10-28", "LineItems": _lines()}],
        [{"Status": "SENT"}], [("Status", "SENT")]),
}


def test_every_writable_object_has_a_case() -> None:
    assert set(CASES) == {o.table for o in WRITABLE}


@pytest.mark.parametrize("table", sorted(CASES))
def test_create_then_update_lands_in_xero_results_and_warehouse(world: World, table: str) -> None:
    obj, case = BY_TABLE[table], CASES[table]
    creates = case.creates(world.books)
    ids = [f"{table}-create-{i}" for i in range(len(creates))]
    world.outbox(obj, list(zip(ids, creates, strict=True)))
    world.push(obj)
    outcome = world.results(obj, ids)
    assert {r[0] for r in outcome.values()} == {"written"}, outcome
    xero_ids = [outcome[i][1] for i in ids]
    for xid in xero_ids:
        assert world.books.get(obj.path, xid) is not None  # the record's own id, not the envelope's
    pk = snake(obj.primary_key)
    synced = {r[0] for r in world.query(f"SELECT {pk} FROM xero.{table} WHERE {pk} IN ({','.join('?' * len(ids))})",
                                        *xero_ids)}
    assert synced == set(xero_ids)

    updates = [f"{table}-update-{i}" for i in range(len(case.updates))]
    world.outbox(obj, [(rid, dict(u, **{obj.primary_key: xid}))
                       for rid, u, xid in zip(updates, case.updates, xero_ids, strict=True)])
    world.push(obj)
    outcome = world.results(obj, updates)
    assert {r[0] for r in outcome.values()} == {"written"}, outcome
    for xid, (field, value) in zip(xero_ids, case.after, strict=True):
        assert world.books.get(obj.path, xid)[field] == value
        column = snake(field)
        assert world.query(f"SELECT {column} FROM xero.{table} WHERE {pk} = ?", xid) == [(value,)]
    assert sum(trial_balance(world.books).values()) == 0


def test_validation_failures_verbatim_and_the_rest_of_the_batch_lands(world: World) -> None:
    obj = BY_TABLE["invoices"]
    good = {"Type": "ACCREC", "Contact": {"ContactID": _contact(world.books)}, "LineItems": _lines()}
    bad = dict(good, LineItems=_lines("999"))
    world.outbox(obj, [("mixed-1", good), ("mixed-2", bad), ("mixed-3", good)])
    world.push(obj)
    out = world.results(obj, ["mixed-1", "mixed-2", "mixed-3"])
    assert [out[k][0] for k in ("mixed-1", "mixed-2", "mixed-3")] == ["written", "invalid", "written"]
    assert json.loads(out["mixed-2"][2]) == [
        "Account code '999' has been removed as it does not match a recognised account."]
    assert out["mixed-2"][1] is None

    # Sent once: a second push leaves the refused row alone until the user fixes it and sets retry.
    world.push(obj)
    assert world.query("SELECT count(*) FROM writeback.results WHERE request_id = 'mixed-2'") == [(1,)]
    with closing(open_warehouse(world.path)) as conn:
        conn.execute("UPDATE writeback.invoices SET payload = ?, retry = true WHERE request_id = 'mixed-2'",
                     [json.dumps(good)])
    world.push(obj)
    attempts = world.query("SELECT attempt, status FROM writeback.results WHERE request_id = 'mixed-2' ORDER BY 1")
    assert attempts == [(1, "invalid"), (2, "written")]
    assert world.query("SELECT retry FROM writeback.invoices WHERE request_id = 'mixed-2'") == [(False,)]


def test_bad_rows_each_get_a_clear_outcome_and_lose_nothing(world: World) -> None:
    obj = BY_TABLE["contacts"]
    world.outbox(obj, [("bad-empty", None), ("bad-list", "[1, 2]")])
    world.outbox(obj, [("bad-tenant", {"Name": f"Nobody {_U}"})], tenant_id="00000000-aaaa-4bbb-8ccc-000000000000")
    world.outbox(obj, [("fine", {"Name": f"Somebody {_U}"})])
    world.push(obj)
    out = world.results(obj, ["bad-empty", "bad-list", "bad-tenant", "fine"])
    assert {k: v[0] for k, v in out.items()} == {"bad-empty": "rejected", "bad-list": "rejected",
                                                 "bad-tenant": "rejected", "fine": "written"}
    messages = dict(world.query("SELECT request_id, message FROM writeback.results WHERE status = 'rejected'"))
    assert "payload is empty" in messages["bad-empty"]
    assert "one JSON object" in messages["bad-list"]
    assert "not connected" in messages["bad-tenant"]


@pytest.mark.parametrize("fault", ["500", "504", "reset"])
def test_an_answer_lost_after_the_write_is_retried_with_the_same_key(world: World, fault: str) -> None:
    """Xero wrote the request but the answer never arrived: the client's retry sends the
    same key and bytes, and Xero's cache answers it instead of writing a second copy."""
    obj = BY_TABLE["invoices"]
    reference = f"lost answer {fault} {_U}"
    replays = world.sandbox.api.idempotency.replays
    world.outbox(obj, [(f"lost-{fault}", {"Type": "ACCREC", "Contact": {"ContactID": _contact(world.books)},
                                          "Reference": reference, "LineItems": _lines()})])
    world.sandbox.inject(fault, tenant_id=world.tenant_id, path="Invoices")
    world.push(obj)
    copies = [i["InvoiceID"] for i in world.books.records("Invoices") if i["Reference"] == reference]
    assert len(copies) == 1
    assert world.sandbox.api.idempotency.replays == replays + 1
    assert world.results(obj, [f"lost-{fault}"])[f"lost-{fault}"][:2] == ("written", copies[0])


def test_a_push_stopped_by_the_days_budget_leaves_its_rows_pending(world: World) -> None:
    """Refused before sending (the calls left of the tenant's day are reserved): nothing is
    left in flight, and the next push sends the rows."""
    obj = BY_TABLE["manual_journals"]
    lines = [{"AccountCode": "429", "LineAmount": "10.00"}, {"AccountCode": "200", "LineAmount": "-10.00"}]
    world.outbox(obj, [("budget-1", {"Narration": f"Budget {_U}", "JournalLines": lines})])
    thrifty = xero_resource(world.sandbox, world.path.parent, rate_window_seconds=1.0, reserve_daily_calls=10_000)
    thrifty.get_client().days.saw(world.tenant_id, 5_000)  # what Xero's last answer said was left today
    reports, _ = push_tenants(instance=world.instance, xero=thrifty, warehouse=world.warehouse, objects=[obj],
                              echo=lambda _: None)
    assert world.tenant_id in reports[0].stopped
    assert world.results(obj, ["budget-1"]) == {}
    assert world.query("SELECT count(*) FROM writeback.requests WHERE answered_at IS NULL") == [(0,)]
    world.push(obj)
    assert world.results(obj, ["budget-1"])["budget-1"][0] == "written"


def test_a_tenants_push_also_refuses_rows_of_tenants_not_connected(world: World) -> None:
    obj = BY_TABLE["items"]
    stranger = "11111111-aaaa-4bbb-8ccc-000000000000"
    world.outbox(obj, [("stranger-item", {"Code": f"S-{_U}"})], tenant_id=stranger)
    push_tenants(instance=world.instance, xero=world.xero, warehouse=world.warehouse, tenant_id=world.tenant_id,
                 objects=[obj], refresh=False, echo=lambda _: None)
    assert world.results(obj, ["stranger-item"])["stranger-item"][0] == "rejected"
