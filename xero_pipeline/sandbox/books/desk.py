"""The bookkeeper's desk: the context every change to a tenant's books goes through.

A ``Desk`` carries the tenant's books, a random generator, a clock and the chart
lookups. The seed hands it a history clock (the 18 months before the sandbox clock's start); the daily
activity hands it the sandbox clock. Everything that changes a record calls
``save`` (which stamps UpdatedDateUTC with the desk's now) and everything that
touches the ledger calls ``post``/``reverse``, so records and journals never disagree.

Money rules (Xero's, per line then summed):

* ``LineAmount = round(Quantity * UnitAmount * (1 - DiscountRate/100), 2)``;
  UnitAmount keeps 4 dp, every other amount 2 dp.
* Tax is computed per line and rounded to 2 dp: on ``Exclusive`` documents it is
  ``LineAmount * rate``, on ``Inclusive`` ones ``LineAmount * rate / (1 + rate)``
  (the line amount already contains it), on ``NoTax`` ones zero.
* ``Total = SubTotal + TotalTax``; SubTotal is the sum of line amounts net of tax.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

from xero_pipeline.sandbox.books import ledger
from xero_pipeline.sandbox.books.chart import ZERO, Chart, money, new_id, unit_amount
from xero_pipeline.sandbox.books.store import Record, TenantBooks

_QUANTITIES = ("1", "1", "1", "1", "1", "1", "2", "2", "3", "4", "5", "10", "0.5", "1.5", "2.25", "12")
_NUMBERED = re.compile(r"^([A-Z]+-)(\d+)$")


class Desk:
    def __init__(
        self,
        books: TenantBooks,
        *,
        rng: random.Random,
        now: Callable[[], datetime] | None = None,
        chart: Chart | None = None,
    ) -> None:
        self.books = books
        self.rng = rng
        self._now = now or books.clock.now
        self.chart = chart or Chart(books)
        self._counters: dict[str, int] = {}
        self._contact_refs: dict[str, dict] = {}

    # --- time, ids, persistence -------------------------------------------------------

    def now(self) -> datetime:
        return self._now()

    def id(self) -> str:
        return new_id(self.rng)

    def save(self, path: str, record: Record) -> Record:
        return self.books.put(path, record, at=self.now())

    def next_number(self, prefix: str, path: str, field: str) -> str:
        """Xero's sequential document numbers (INV-0001, CN-0001, PO-0001, QU-0001)."""
        if prefix not in self._counters:
            top = 0
            for rec in self.books.records(path):
                m = _NUMBERED.match(rec.get(field) or "")
                if m and m.group(1) == prefix:
                    top = max(top, int(m.group(2)))
            self._counters[prefix] = top
        self._counters[prefix] += 1
        return f"{prefix}{self._counters[prefix]:04d}"

    def post(self, *, key: str, source_type: str, source_id: str, journal_date: date,
             reference: str, postings: list[ledger.Posting]) -> Record | None:
        return ledger.post(
            self.books, key=key, source_type=source_type, source_id=source_id,
            journal_date=journal_date, reference=reference or "", postings=postings,
            created=self.now(), rng=self.rng,
        )

    def reverse(self, key: str) -> Record | None:
        return ledger.reverse(self.books, key=key, created=self.now(), rng=self.rng)

    def contact_ref(self, contact: Record) -> dict:
        """How documents embed their contact; shared per contact (read-only)."""
        ref = self._contact_refs.get(contact["ContactID"])
        if ref is None or ref["Name"] != contact["Name"]:
            ref = {"ContactID": contact["ContactID"], "Name": contact["Name"]}
            self._contact_refs[contact["ContactID"]] = ref
        return ref

    # --- lines and totals -------------------------------------------------------------

    def random_unit(self, *, median: float = 90.0) -> Decimal:
        value = self.rng.lognormvariate(0, 1.0) * median
        if self.rng.random() < 0.8:  # most prices are whole cents, some carry 4 dp
            return unit_amount(f"{value:.2f}")
        return unit_amount(f"{value:.4f}")

    def line(
        self,
        *,
        account: Record,
        description: str,
        tax_type: str,
        line_amount_types: str,
        quantity: Decimal | None = None,
        unit: Decimal | None = None,
        item: Record | None = None,
        discount: Decimal | None = None,
        tracking: list | None = None,
    ) -> dict:
        quantity = Decimal(self.rng.choice(_QUANTITIES)) if quantity is None else quantity
        unit = self.random_unit() if unit is None else unit
        ln: dict = {"LineItemID": self.id(), "Description": description, "Quantity": quantity,
                    "UnitAmount": unit}
        if item is not None:
            ln["ItemCode"] = item["Code"]
            ln["Item"] = {"ItemID": item["ItemID"], "Name": item["Name"], "Code": item["Code"]}
        ln["AccountCode"] = account["Code"]
        ln["AccountID"] = account["AccountID"]
        ln["TaxType"] = tax_type
        if discount:
            ln["DiscountRate"] = discount
        ln["Tracking"] = self.chart.tracking_for(self.rng) if tracking is None else tracking
        self.price_line(ln, line_amount_types)
        return ln

    def price_line(self, ln: dict, line_amount_types: str) -> None:
        """(Re)compute LineAmount and TaxAmount after Quantity/UnitAmount/TaxType change."""
        gross = ln["Quantity"] * ln["UnitAmount"]
        if ln.get("DiscountRate"):
            gross = gross * (100 - ln["DiscountRate"]) / 100
        amount = money(gross)
        rate = self.chart.tax_rate(ln["TaxType"]) if line_amount_types.upper() != "NOTAX" else ZERO
        if line_amount_types.upper() == "INCLUSIVE":
            tax = money(amount * rate / (100 + rate))
        else:
            tax = money(amount * rate / 100)
        ln["LineAmount"] = amount
        ln["TaxAmount"] = tax

    @staticmethod
    def set_totals(doc: Record, *, with_discount: bool = False) -> None:
        lines = doc["LineItems"]
        amounts = sum((ln["LineAmount"] for ln in lines), ZERO)
        tax = sum((ln.get("TaxAmount", ZERO) for ln in lines), ZERO)
        inclusive = doc["LineAmountTypes"].upper() == "INCLUSIVE"
        doc["SubTotal"] = amounts - tax if inclusive else amounts
        doc["TotalTax"] = tax
        doc["Total"] = doc["SubTotal"] + tax
        if with_discount:
            doc["TotalDiscount"] = sum(
                (money(ln["Quantity"] * ln["UnitAmount"]) - ln["LineAmount"]
                 for ln in lines if ln.get("DiscountRate")), ZERO)

    def document_postings(self, doc: Record, *, sign: int, control: Record,
                          control_description: str = "") -> list[ledger.Posting]:
        return ledger.document_postings(
            lines=doc["LineItems"], taxes=self.chart.taxes,
            amounts_include_tax=doc["LineAmountTypes"].upper() == "INCLUSIVE",
            rate=doc.get("CurrencyRate") or Decimal(1), sign=sign, control=control,
            control_total=doc["Total"], tax_account=self.chart.tax_account,
            accounts=self.chart.by_code, control_description=control_description,
        )
