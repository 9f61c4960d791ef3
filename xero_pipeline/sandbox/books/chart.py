"""Read-side helpers over one tenant's settings: the chart of accounts, tax rates,
tracking options and exchange rates, looked up the way the bookkeeping code needs them.

``Chart`` is rebuilt from the records (it holds no state of its own), so the seed, the
daily activity and the reports always agree with what the HTTP layer serves.

Conventions shared by the data half of the sandbox:

* Exchange rates are Xero's ``CurrencyRate``: units of the document's currency per one
  unit of base currency, 6 dp. A base amount is ``foreign / rate`` rounded to 2 dp.
  Rates are a deterministic function of the currency and the day (a slow drift around
  a fixed level), so payments of foreign documents realise currency gains and losses.
* Tracking options named ``Campaign …`` are short-lived codes that the simulated
  bookkeeper never puts on a transaction; Xero refuses to delete an option that is in
  use, so only these are ever hard-deleted.
"""

from __future__ import annotations

import math
import random
import uuid
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from xero_pipeline.sandbox.books.profiles import PROFILES, USD_VALUE, Profile
from xero_pipeline.sandbox.books.store import Record, TenantBooks

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
UNIT = Decimal("0.0001")
RATE = Decimal("0.000001")
ONE_RATE = Decimal("1.000000")
SPARE_OPTION_PREFIX = "Campaign "

BALANCE_SHEET_CLASSES = ("ASSET", "LIABILITY", "EQUITY")


def money(value: Decimal | int | str) -> Decimal:
    """Xero rounds every money amount half away from zero to the cent."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def unit_amount(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(UNIT, rounding=ROUND_HALF_UP)


def new_id(rng: random.Random) -> str:
    """A version-4 UUID drawn from the tenant's generator, so a seed reproduces it."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def exchange_rate(base: str, currency: str, day: date) -> Decimal:
    """Units of ``currency`` per unit of ``base`` on ``day`` (Xero's CurrencyRate)."""
    if currency == base:
        return ONE_RATE
    level = USD_VALUE[base] / USD_VALUE[currency]
    # A deterministic phase per currency pair; Python's hash() is salted per process.
    phase = sum(map(ord, base + currency)) % 17
    drift = 1 + 0.035 * math.sin(day.toordinal() / 29.0 + phase) + 0.01 * math.sin(day.toordinal() / 5.3)
    return Decimal(level * drift).quantize(RATE, rounding=ROUND_HALF_UP)


def to_base(amount: Decimal, rate: Decimal) -> Decimal:
    return amount if rate == ONE_RATE else money(amount / rate)


def profile_of(org: Record) -> Profile:
    for p in PROFILES:
        if p.code == org.get("Version") and p.currency == org["BaseCurrency"]:
            return p
    return PROFILES[0]


def account_ref(account: Record) -> dict:
    """How documents embed an account (Payments, BankTransactions...)."""
    return {"AccountID": account["AccountID"], "Code": account["Code"], "Name": account["Name"]}


class Chart:
    """Lookups over one tenant's accounts, tax rates and tracking categories."""

    def __init__(self, books: TenantBooks) -> None:
        self.books = books
        self.org: Record = books.records("Organisation")[0]
        self.profile = profile_of(self.org)
        self.base: str = self.org["BaseCurrency"]
        self.accounts = books.records("Accounts")
        self.by_code = {a["Code"]: a for a in self.accounts}
        self.by_id = {a["AccountID"]: a for a in self.accounts}
        self.taxes = {t["TaxType"]: t for t in books.records("TaxRates")}
        system = {a.get("SystemAccount"): a for a in self.accounts if a.get("SystemAccount")}
        self.receivable = system["DEBTORS"]
        self.payable = system["CREDITORS"]
        self.tax_account = system["GST"]
        self.fx_gains = system["REALISEDCURRENCYGAIN"]
        self.unpaid_claims = system["UNPAIDEXPCLM"]
        self.retained = system["RETAINEDEARNINGS"]
        self.income_in_advance = self.by_code["835"]
        self.prepaid = self.by_code["620"]
        active = [a for a in self.accounts if a["Status"] == "ACTIVE"]
        self.banks = [a for a in active if a["Type"] == "BANK"]
        self.revenue = [a for a in active if a["Type"] in ("REVENUE", "SALES") and not a.get("SystemAccount")]
        self.expenses = [
            a for a in active
            if a["Type"] in ("EXPENSE", "OVERHEADS", "DIRECTCOSTS") and not a.get("SystemAccount")
        ]
        self.currencies = [c["Code"] for c in books.records("Currencies")]
        self._tracking: list[list[dict]] = []
        for cat in books.records("TrackingCategories"):
            if cat["Status"] != "ACTIVE":
                continue
            options = [
                {"Name": cat["Name"], "Option": o["Name"], "TrackingCategoryID": cat["TrackingCategoryID"],
                 "TrackingOptionID": o["TrackingOptionID"]}
                for o in cat["Options"]
                if o["Status"] == "ACTIVE" and not o["Name"].startswith(SPARE_OPTION_PREFIX)
            ]
            if options:
                self._tracking.append(options)

    def tax(self, tax_type: str) -> Record:
        return self.taxes[tax_type]

    def tax_rate(self, tax_type: str) -> Decimal:
        return self.taxes[tax_type]["EffectiveRate"]

    def rate(self, currency: str, day: date) -> Decimal:
        return exchange_rate(self.base, currency, day)

    def tracking_for(self, rng: random.Random) -> list[dict]:
        """Tracking on a transaction line: most lines carry one or both categories.

        The dicts are shared by every line that uses the option; records are read-only
        to everything but the bookkeeping code, which never edits them in place.
        """
        out = []
        for options in self._tracking:
            if rng.random() < 0.6:
                out.append(rng.choice(options))
        return out

    def main_bank(self) -> Record:
        return self.banks[0]

    def bank_for(self, rng: random.Random) -> Record:
        """Most money moves through the main account; some through savings or the card."""
        return self.banks[0] if rng.random() < 0.8 or len(self.banks) == 1 else rng.choice(self.banks[1:])
