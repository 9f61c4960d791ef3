"""Reading one element of a write request: dates, amounts, and the records it refers to.

Every problem is an ``Invalid`` carrying Xero's validation messages; the element is then
answered with ``StatusAttributeString: ERROR`` and nothing of it is written. Messages
quoted from the spec's examples are Xero's own; the others are assumptions (see the
package docstring).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from xero_pipeline.sandbox.books.chart import ZERO, money, unit_amount
from xero_pipeline.sandbox.books.desk import Desk
from xero_pipeline.sandbox.books.store import Record

_MSDATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
CONTACT_REQUIRED = ("The Contact must contain at least 1 of the following elements to identify the contact: "
                    "Name, ContactID, ContactNumber")
NOT_FOUND = "The document with the supplied id was not found for this endpoint."


class Invalid(ValueError):
    """An element Xero would refuse, with the messages of its ValidationErrors."""

    def __init__(self, *messages: str) -> None:
        super().__init__("; ".join(messages))
        self.messages = list(messages)


def day(value: Any, name: str, default: date | None = None) -> date:
    """A calendar date as Xero takes it: ISO (``2026-11-05``, ``2026-11-05T00:00:00``) or ``/Date(ms)/``."""
    if value in (None, ""):
        if default is None:
            raise Invalid(f"{name} is required")
        return default
    text = str(value).strip()
    found = _MSDATE.match(text)
    try:
        if found:
            return datetime.fromtimestamp(int(found.group(1)) / 1000, UTC).date()
        return date.fromisoformat(text[:10])
    except ValueError:
        raise Invalid(f"{name} '{text}' is not a valid date") from None


def decimal(value: Any, name: str, default: Decimal | None = None) -> Decimal:
    if value is None or value == "":
        if default is None:
            raise Invalid(f"{name} is required")
        return default
    try:
        out = Decimal(str(value))
    except InvalidOperation:
        raise Invalid(f"{name} '{value}' is not a number") from None
    if not out.is_finite():
        raise Invalid(f"{name} '{value}' is not a number")
    return out


def text(element: Record, name: str, default: str = "") -> str:
    value = element.get(name, default)
    return "" if value is None else str(value)


def contact(desk: Desk, ref: Any) -> Record:
    """The contact an element names; Xero creates one for a Name it does not know."""
    if not isinstance(ref, dict) or not any(ref.get(k) for k in ("ContactID", "Name", "ContactNumber")):
        raise Invalid(CONTACT_REQUIRED)
    books = desk.books
    if ref.get("ContactID"):
        found = books.get("Contacts", str(ref["ContactID"]).lower())
        if found is None:
            raise Invalid(f"The contact with ContactID {ref['ContactID']} could not be found")
        return found
    for c in books.records("Contacts"):
        if ref.get("ContactNumber") and c.get("ContactNumber") == ref["ContactNumber"]:
            return c
        if ref.get("Name") and c["Name"] == ref["Name"] and c.get("ContactStatus") == "ACTIVE":
            return c
    if not ref.get("Name"):
        raise Invalid(f"The contact with ContactNumber {ref['ContactNumber']} could not be found")
    made = {"ContactID": desk.id(), "Name": str(ref["Name"]), "ContactStatus": "ACTIVE", "Addresses": [],
            "Phones": [], "ContactPersons": [], "IsSupplier": False, "IsCustomer": False,
            "HasAttachments": False, "HasValidationErrors": False}
    return desk.save("Contacts", made)


def account_by_code(desk: Desk, code: Any) -> Record:
    account = desk.chart.by_code.get(str(code)) if code not in (None, "") else None
    if account is None or account["Status"] != "ACTIVE":
        # The spec's example answer (PUT /ManualJournals) for a code the chart does not have.
        raise Invalid(f"Account code '{code}' has been removed as it does not match a recognised account.")
    return account


def account(desk: Desk, ref: Any, name: str) -> Record:
    """An ``Account``/``BankAccount`` reference: by AccountID or Code."""
    if not isinstance(ref, dict) or not (ref.get("AccountID") or ref.get("Code")):
        raise Invalid(f"{name} must have an AccountID or a Code")
    if ref.get("AccountID"):
        found = desk.chart.by_id.get(str(ref["AccountID"]).lower())
        if found is None:
            raise Invalid(f"The {name} with AccountID {ref['AccountID']} could not be found")
        return found
    return account_by_code(desk, ref["Code"])


def line_amount_types(element: Record, default: str = "Exclusive", *, upper: bool = False) -> str:
    raw = text(element, "LineAmountTypes", default) or default
    for known in ("Exclusive", "Inclusive", "NoTax"):
        if raw.lower() == known.lower():
            return known.upper() if upper else known
    raise Invalid(f"LineAmountTypes '{raw}' is not one of Exclusive, Inclusive, NoTax")


def lines(desk: Desk, raw: Any, *, amounts: str, default_tax: str, field: str = "LineItems",
          need_account: bool = True) -> list[dict]:
    """Line items priced as Xero prices them (``Desk.price_line``): the sender's LineAmount
    and TaxAmount are recomputed, never trusted."""
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
        raise Invalid(f"{field} must be a list of line items")
    out, problems = [], []
    for given in raw:
        try:
            out.append(_line(desk, given, amounts=amounts, default_tax=default_tax, need_account=need_account))
        except Invalid as e:
            problems.extend(m for m in e.messages if m not in problems)
    if problems:
        raise Invalid(*problems)
    return out


def _line(desk: Desk, given: dict, *, amounts: str, default_tax: str, need_account: bool) -> dict:
    ch = desk.chart
    item = None
    if given.get("ItemCode"):
        item = next((i for i in desk.books.records("Items") if i["Code"] == given["ItemCode"]), None)
        if item is None:
            raise Invalid(f"Item code '{given['ItemCode']}' is not valid")
    code = given.get("AccountCode") or (item or {}).get("SalesDetails", {}).get("AccountCode")
    acct = account_by_code(desk, code) if code or need_account else None
    if acct is None and need_account:
        raise Invalid("Account code must be specified")
    tax_type = str(given.get("TaxType") or (acct or {}).get("TaxType") or default_tax)
    if tax_type not in ch.taxes:
        raise Invalid(f"The TaxType code '{tax_type}' does not exist or cannot be used for this type of transaction.")
    default_unit = (item or {}).get("SalesDetails", {}).get("UnitPrice", ZERO)
    ln: dict = {"LineItemID": desk.id(), "Description": text(given, "Description", (item or {}).get("Description", "")),
                "Quantity": unit_amount(decimal(given.get("Quantity"), "Quantity", Decimal(1))),
                "UnitAmount": unit_amount(decimal(given.get("UnitAmount"), "UnitAmount", default_unit))}
    if item is not None:
        ln["ItemCode"] = item["Code"]
        ln["Item"] = {"ItemID": item["ItemID"], "Name": item["Name"], "Code": item["Code"]}
    if acct is not None:
        ln["AccountCode"], ln["AccountID"] = acct["Code"], acct["AccountID"]
    ln["TaxType"] = tax_type
    if given.get("DiscountRate") not in (None, ""):
        ln["DiscountRate"] = money(decimal(given["DiscountRate"], "DiscountRate"))
    ln["Tracking"] = []
    desk.price_line(ln, amounts)
    return ln
