"""Contacts and items: the factories the seed and the daily activity share.

Contacts look like Xero's: both address types (POBOX and STREET) and all four phone
types (DEFAULT, DDI, MOBILE, FAX, empty where unknown, as Xero returns them), contact
persons for companies, ``DefaultCurrency`` for overseas contacts, and a name unique
within the organisation (Xero rejects duplicates). Items are untracked (no inventory
postings); service items are sold only and have empty PurchaseDetails, as in Xero.
"""

from __future__ import annotations

import random
from decimal import Decimal

from xero_pipeline.sandbox.books.chart import unit_amount
from xero_pipeline.sandbox.books.profiles import (
    BUSINESS_KINDS,
    BUSINESS_WORDS,
    FIRST_NAMES,
    ITEM_ADJECTIVES,
    ITEM_NOUNS,
    LAST_NAMES,
    PROFILES,
    Profile,
)
from xero_pipeline.sandbox.books.store import Record, TenantBooks

_FOREIGN_PLACES = {
    "EUR": ("Germany", ("Berlin", "BE", "10115")), "CAD": ("Canada", ("Toronto", "ON", "M5H 2N2")),
}


class ContactFactory:
    """Makes plausible, uniquely named contacts (Xero rejects duplicate contact names)."""

    def __init__(self, books: TenantBooks, profile: Profile, rng: random.Random) -> None:
        self.profile = profile
        self.rng = rng
        self.names = {c["Name"] for c in books.records("Contacts")}
        self.count = len(self.names)

    def make(self, *, customer: bool, supplier: bool, currency: str, contact_id: str) -> Record:
        rng, p = self.rng, self.profile
        company = rng.random() < 0.75
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        if company:
            base = f"{rng.choice(BUSINESS_WORDS)} {rng.choice(BUSINESS_KINDS)}"
            name = f"{base} {rng.choice(p.company_suffixes)}"
        else:
            name = f"{first} {last}"
        stem, n = name, 2
        while name in self.names:
            name, n = f"{stem} ({n})", n + 1
        self.names.add(name)
        self.count += 1
        if currency == p.currency:
            country, place = p.country, rng.choice(p.cities)
        elif currency in _FOREIGN_PLACES:
            country, place = _FOREIGN_PLACES[currency]
        else:
            other = next(x for x in PROFILES if x.currency == currency)
            country, place = other.country, rng.choice(other.cities)
        domain = "".join(ch for ch in name.lower() if ch.isalnum())[:18] + ".example.com"
        road = rng.choice(("Street", "Road", "Avenue", "Lane"))
        street = f"{rng.randint(1, 400)} {rng.choice(LAST_NAMES)} {road}"
        contact: Record = {
            "ContactID": contact_id,
            "ContactNumber": f"C{self.count:05d}",
            "AccountNumber": f"{self.count:05d}",
            "ContactStatus": "ACTIVE",
            "Name": name,
            "FirstName": first,
            "LastName": last,
            "EmailAddress": f"{first.lower()}@{domain}",
            "BankAccountDetails": "",
            "TaxNumber": "",
            "Addresses": [
                {
                    "AddressType": "POBOX",
                    "AddressLine1": f"PO Box {rng.randint(100, 9999)}",
                    "City": place[0],
                    "Region": place[1],
                    "PostalCode": place[2],
                    "Country": country,
                    "AttentionTo": first,
                },
                {
                    "AddressType": "STREET",
                    "AddressLine1": street,
                    "City": place[0],
                    "Region": place[1],
                    "PostalCode": place[2],
                    "Country": country,
                },
            ],
            "Phones": [
                {
                    "PhoneType": "DEFAULT",
                    "PhoneNumber": f"{rng.randint(2000000, 9999999)}",
                    "PhoneAreaCode": f"{rng.randint(2, 9)}",
                    "PhoneCountryCode": p.phone_country,
                },
                {"PhoneType": "DDI", "PhoneNumber": "", "PhoneAreaCode": "", "PhoneCountryCode": ""},
                {
                    "PhoneType": "MOBILE",
                    "PhoneNumber": f"{rng.randint(2000000, 9999999)}" if rng.random() < 0.6 else "",
                    "PhoneAreaCode": "21",
                    "PhoneCountryCode": p.phone_country,
                },
                {"PhoneType": "FAX", "PhoneNumber": "", "PhoneAreaCode": "", "PhoneCountryCode": ""},
            ],
            "IsSupplier": supplier,
            "IsCustomer": customer,
            "HasAttachments": False,
            "HasValidationErrors": False,
            "ContactPersons": [
                {
                    "FirstName": rng.choice(FIRST_NAMES),
                    "LastName": rng.choice(LAST_NAMES),
                    "EmailAddress": f"accounts{i or ''}@{domain}",
                    "IncludeInEmails": i == 0,
                }
                for i in range(rng.choice((0, 0, 1, 1, 2)) if company else 0)
            ],
            "Website": f"https://www.{domain}" if company else "",
        }
        if company:
            contact["CompanyNumber"] = f"{rng.randrange(10**6, 10**8)}"
        if currency != p.currency:
            contact["DefaultCurrency"] = currency
        if customer:
            contact["SalesDefaultAccountCode"] = "200"
            contact["AccountsReceivableTaxType"] = p.sales_tax if currency == p.currency else p.export_tax
        if supplier:
            contact["AccountsPayableTaxType"] = p.purchase_tax if currency == p.currency else p.import_tax
        return contact


def make_item(*, profile: Profile, rng: random.Random, index: int, item_id: str) -> Record:
    noun, per = ITEM_NOUNS[index % len(ITEM_NOUNS)]
    adjective = ITEM_ADJECTIVES[(index // len(ITEM_NOUNS)) % len(ITEM_ADJECTIVES)]
    code = f"{''.join(w[0] for w in (adjective + ' ' + noun).split()).upper()}-{index + 1:03d}"
    price = unit_amount(f"{rng.lognormvariate(0, 0.8) * 80:.4f}" if rng.random() < 0.3
                        else f"{rng.lognormvariate(0, 0.8) * 80:.2f}")
    sold_only = noun in ("Consulting", "Training", "Design work", "Support plan")
    item: Record = {
        "ItemID": item_id,
        "Code": code,
        "Name": f"{adjective} {noun}",
        "Description": f"{adjective} {noun.lower()} (per {per})",
        "IsTrackedAsInventory": False,
        "IsSold": True,
        "IsPurchased": not sold_only,
        "SalesDetails": {"UnitPrice": price, "AccountCode": "200", "TaxType": profile.sales_tax},
        "PurchaseDetails": (
            {}
            if sold_only
            else {
                "UnitPrice": unit_amount(price * Decimal("0.6")),
                "AccountCode": "310",
                "TaxType": profile.purchase_tax,
            }
        ),
    }
    if not sold_only:
        item["PurchaseDescription"] = f"{adjective} {noun.lower()} from supplier"
    return item
