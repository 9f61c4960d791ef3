"""Set-up records of a demo organisation: the Organisation itself, chart of accounts,
tax rates, currencies, tracking categories, users, branding themes and payment services
(contacts and items come from ``parties``).

Assumptions where the fact sheet is silent:

* ``OrganisationID`` equals the tenant id that /connections reports, so both join.
* The chart follows Xero's demo company (090 bank … 960 retained earnings); account
  820 holds the GST/VAT/sales tax and carries SystemAccount GST in every region.
* A UK organisation has ``Version`` UK but ``CountryCode`` GB, as in Xero.
* ``PeriodLockDate`` is the end of the month six months before the clock's start, and the
  end-of-year lock date is the last financial year end before it.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

from xero_pipeline.sandbox.books.chart import new_id
from xero_pipeline.sandbox.books.profiles import CURRENCY_NAMES, Profile
from xero_pipeline.sandbox.books.store import Record, TenantBooks

# (code, name, type, system account, status)
_ACCOUNTS: tuple[tuple[str, str, str, str, str], ...] = (
    ("090", "Business Bank Account", "BANK", "", "ACTIVE"),
    ("091", "Business Savings Account", "BANK", "", "ACTIVE"),
    ("092", "Company Credit Card", "BANK", "", "ACTIVE"),
    ("093", "Old Cheque Account", "BANK", "", "ARCHIVED"),
    ("200", "Sales", "REVENUE", "", "ACTIVE"),
    ("260", "Other Revenue", "REVENUE", "", "ACTIVE"),
    ("270", "Interest Income", "OTHERINCOME", "", "ACTIVE"),
    ("310", "Cost of Goods Sold", "DIRECTCOSTS", "", "ACTIVE"),
    ("400", "Advertising", "EXPENSE", "", "ACTIVE"),
    ("402", "Marketing (old)", "EXPENSE", "", "ARCHIVED"),
    ("404", "Bank Fees", "EXPENSE", "", "ACTIVE"),
    ("408", "Cleaning", "EXPENSE", "", "ACTIVE"),
    ("412", "Consulting & Accounting", "EXPENSE", "", "ACTIVE"),
    ("416", "Depreciation", "DEPRECIATN", "", "ACTIVE"),
    ("420", "Entertainment", "EXPENSE", "", "ACTIVE"),
    ("425", "Freight & Courier", "EXPENSE", "", "ACTIVE"),
    ("429", "General Expenses", "EXPENSE", "", "ACTIVE"),
    ("433", "Insurance", "EXPENSE", "", "ACTIVE"),
    ("437", "Interest Expense", "EXPENSE", "", "ACTIVE"),
    ("445", "Light, Power, Heating", "EXPENSE", "", "ACTIVE"),
    ("449", "Motor Vehicle Expenses", "EXPENSE", "", "ACTIVE"),
    ("453", "Office Expenses", "EXPENSE", "", "ACTIVE"),
    ("461", "Printing & Stationery", "EXPENSE", "", "ACTIVE"),
    ("469", "Rent", "OVERHEADS", "", "ACTIVE"),
    ("473", "Repairs and Maintenance", "EXPENSE", "", "ACTIVE"),
    ("477", "Wages and Salaries", "EXPENSE", "", "ACTIVE"),
    ("485", "Subscriptions", "EXPENSE", "", "ACTIVE"),
    ("489", "Telephone & Internet", "EXPENSE", "", "ACTIVE"),
    ("493", "Travel - National", "EXPENSE", "", "ACTIVE"),
    ("494", "Travel - International", "EXPENSE", "", "ACTIVE"),
    ("497", "Bank Revaluations", "EXPENSE", "BANKCURRENCYGAIN", "ACTIVE"),
    ("498", "Unrealised Currency Gains", "EXPENSE", "UNREALISEDCURRENCYGAIN", "ACTIVE"),
    ("499", "Realised Currency Gains", "EXPENSE", "REALISEDCURRENCYGAIN", "ACTIVE"),
    ("610", "Accounts Receivable", "CURRENT", "DEBTORS", "ACTIVE"),
    ("620", "Prepayments", "CURRENT", "", "ACTIVE"),
    ("630", "Inventory", "INVENTORY", "", "ACTIVE"),
    ("710", "Office Equipment", "FIXED", "", "ACTIVE"),
    ("711", "Less Accumulated Depreciation on Office Equipment", "FIXED", "", "ACTIVE"),
    ("715", "Furniture (disposed)", "FIXED", "", "ARCHIVED"),
    ("720", "Computer Equipment", "FIXED", "", "ACTIVE"),
    ("721", "Less Accumulated Depreciation on Computer Equipment", "FIXED", "", "ACTIVE"),
    ("800", "Accounts Payable", "CURRLIAB", "CREDITORS", "ACTIVE"),
    ("801", "Unpaid Expense Claims", "CURRLIAB", "UNPAIDEXPCLM", "ACTIVE"),
    ("820", "{tax}", "CURRLIAB", "GST", "ACTIVE"),
    ("825", "Employee Tax Payable", "CURRLIAB", "", "ACTIVE"),
    ("830", "Income Tax Payable", "CURRLIAB", "", "ACTIVE"),
    ("835", "Revenue Received in Advance", "CURRLIAB", "", "ACTIVE"),
    ("840", "Historical Adjustment", "CURRLIAB", "HISTORICAL", "ACTIVE"),
    ("860", "Rounding", "CURRLIAB", "ROUNDING", "ACTIVE"),
    ("877", "Tracking Transfers", "CURRLIAB", "TRACKINGTRANSFERS", "ACTIVE"),
    ("900", "Loan", "TERMLIAB", "", "ACTIVE"),
    ("960", "Retained Earnings", "EQUITY", "RETAINEDEARNINGS", "ACTIVE"),
    ("970", "Owner A Funds Introduced", "EQUITY", "", "ACTIVE"),
    ("980", "Owner A Drawings", "EQUITY", "", "ACTIVE"),
)
_CLASS = {"BANK": "ASSET", "CURRENT": "ASSET", "FIXED": "ASSET", "INVENTORY": "ASSET", "NONCURRENT": "ASSET",
          "PREPAYMENT": "ASSET", "CURRLIAB": "LIABILITY", "LIABILITY": "LIABILITY", "TERMLIAB": "LIABILITY",
          "PAYG": "LIABILITY", "EQUITY": "EQUITY", "REVENUE": "REVENUE", "SALES": "REVENUE",
          "OTHERINCOME": "REVENUE", "EXPENSE": "EXPENSE", "DIRECTCOSTS": "EXPENSE", "OVERHEADS": "EXPENSE",
          "DEPRECIATN": "EXPENSE"}
_COUNTRY_CODE = {"UK": "GB"}


def _last_day_of_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def lock_dates(profile: Profile, *, today: date) -> tuple[date, date]:
    period_lock = _last_day_of_month(today.replace(day=1) - timedelta(days=160))
    fy_day, fy_month = profile.fy_end
    year_end = date(period_lock.year, fy_month, fy_day)
    if year_end > period_lock:
        year_end = date(period_lock.year - 1, fy_month, fy_day)
    return period_lock, year_end


def bank_number(profile: Profile, rng: random.Random) -> str:
    n = rng.randrange
    return {
        "NZ": f"02-{n(1000, 9999)}-{n(1000000, 9999999):07d}-00",
        "UK": f"{n(10, 99)}-{n(10, 99)}-{n(10, 99)} {n(10000000, 99999999)}",
        "AU": f"{n(100, 999)}-{n(100, 999)} {n(10000000, 99999999)}",
        "US": f"0210000{n(10, 99)} {n(100000000, 999999999)}",
    }[profile.code]


def create_settings(books: TenantBooks, *, profile: Profile, rng: random.Random, at: datetime) -> None:
    """Organisation, accounts, tax rates, currencies, tracking, users, themes, services."""
    period_lock, year_end = lock_dates(profile, today=books.clock.start.date())
    city = profile.cities[0]
    books.put(
        "Organisation",
        {
            "OrganisationID": books.tenant_id,
            "APIKey": new_id(rng).replace("-", "")[:30].upper(),
            "Name": books.name,
            "LegalName": books.name.replace("Demo Company", "Demo Company Limited"),
            "PaysTax": True,
            "Version": profile.code,
            "OrganisationType": "COMPANY",
            "BaseCurrency": profile.currency,
            "CountryCode": _COUNTRY_CODE.get(profile.code, profile.code),
            "IsDemoCompany": True,
            "OrganisationStatus": "ACTIVE",
            "RegistrationNumber": f"{rng.randrange(10**6, 10**7)}",
            "TaxNumber": profile.tax_number,
            "FinancialYearEndDay": profile.fy_end[0],
            "FinancialYearEndMonth": profile.fy_end[1],
            "SalesTaxBasis": profile.sales_tax_basis,
            "SalesTaxPeriod": profile.sales_tax_period,
            "DefaultSalesTax": "Tax Exclusive",
            "DefaultPurchasesTax": "Tax Exclusive",
            "PeriodLockDate": period_lock,
            "EndOfYearLockDate": year_end,
            "CreatedDateUTC": at,
            "OrganisationEntityType": "COMPANY",
            "Timezone": profile.timezone,
            "ShortCode": "!" + new_id(rng)[:5],
            "Edition": "BUSINESS",
            "Class": "PREMIUM",
            "LineOfBusiness": "Professional services and supplies",
            "Addresses": [
                {
                    "AddressType": "STREET",
                    "AddressLine1": "23 Main Street",
                    "City": city[0],
                    "Region": city[1],
                    "PostalCode": city[2],
                    "Country": profile.country,
                }
            ],
            "Phones": [
                {
                    "PhoneType": "OFFICE",
                    "PhoneNumber": f"{rng.randrange(1000000, 9999999)}",
                    "PhoneAreaCode": "4",
                    "PhoneCountryCode": profile.phone_country,
                }
            ],
            "ExternalLinks": [{"LinkType": "Website", "Url": "https://www.example.com"}],
            "PaymentTerms": {
                "Bills": {"Day": 20, "Type": "OFFOLLOWINGMONTH"},
                "Sales": {"Day": 20, "Type": "OFFOLLOWINGMONTH"},
            },
        },
    )
    stamp = at
    for code, name, kind, system, status in _ACCOUNTS:
        stamp += timedelta(seconds=rng.randint(1, 20))
        cls = _CLASS[kind]
        tax = (profile.sales_tax if cls == "REVENUE" else profile.purchase_tax if cls == "EXPENSE"
               else profile.exempt_tax)
        account: Record = {
            "AccountID": new_id(rng), "Code": code, "Name": name.format(tax=profile.tax_label),
            "Status": status, "Type": kind, "TaxType": tax, "Class": cls,
            "EnablePaymentsToAccount": False, "ShowInExpenseClaims": cls == "EXPENSE" and not system,
            "ReportingCode": f"{cls[:3]}", "ReportingCodeName": cls.title(), "HasAttachments": False,
            "AddToWatchlist": code in ("090", "200", "610", "800"),
        }
        if system:
            account["SystemAccount"] = system
        if kind == "BANK":
            account["BankAccountNumber"] = bank_number(profile, rng)
            account["BankAccountType"] = "CREDITCARD" if code == "092" else "BANK"
            account["CurrencyCode"] = profile.currency
        account["Description"] = f"{account['Name']} ({cls.lower()})"
        books.put("Accounts", account, at=stamp)
    for spec in profile.taxes:
        rate = spec.rate.quantize(Decimal("0.0001"))
        books.put(
            "TaxRates",
            {
                "Name": spec.name,
                "TaxType": spec.tax_type,
                "ReportTaxType": spec.report_tax_type,
                "CanApplyToAssets": spec.expenses,
                "CanApplyToEquity": spec.expenses,
                "CanApplyToExpenses": spec.expenses,
                "CanApplyToLiabilities": spec.expenses,
                "CanApplyToRevenue": spec.revenue,
                "DisplayTaxRate": rate,
                "EffectiveRate": rate,
                "Status": spec.status,
                "TaxComponents": [
                    {
                        "Name": n,
                        "Rate": Decimal(r).quantize(Decimal("0.0001")),
                        "IsCompound": False,
                        "IsNonRecoverable": False,
                    }
                    for n, r in spec.components
                ],
            },
        )
    for code in (profile.currency, *profile.foreign):
        books.put("Currencies", {"Code": code, "Description": CURRENCY_NAMES[code]})
    _tracking(books, rng)
    _people_and_branding(books, profile=profile, rng=rng, at=at)


def _tracking(books: TenantBooks, rng: random.Random) -> None:
    layout = (
        (
            "Region",
            "ACTIVE",
            (
                ("North", "ACTIVE"),
                ("South", "ACTIVE"),
                ("East", "ACTIVE"),
                ("West", "ACTIVE"),
                ("Central", "ARCHIVED"),
                ("Campaign Spring", "ACTIVE"),
                ("Campaign Winter", "ACTIVE"),
            ),
        ),
        (
            "Department",
            "ACTIVE",
            (
                ("Sales", "ACTIVE"),
                ("Operations", "ACTIVE"),
                ("Admin", "ACTIVE"),
                ("Marketing", "ACTIVE"),
                ("Campaign Launch", "ACTIVE"),
            ),
        ),
        ("Project (2025)", "ARCHIVED", (("Alpha", "ACTIVE"), ("Beta", "ACTIVE"))),
    )
    for name, status, options in layout:
        cid = new_id(rng)
        books.put("TrackingCategories", {
            "TrackingCategoryID": cid, "Name": name, "Status": status,
            "Options": [{"TrackingOptionID": new_id(rng), "Name": o, "Status": s, "TrackingCategoryID": cid}
                        for o, s in options],
        })


def _people_and_branding(books: TenantBooks, *, profile: Profile, rng: random.Random, at: datetime) -> None:
    roles = (("Sam", "Owner", True, "STANDARD"), ("Kim", "Accountant", False, "FINANCIALADVISER"),
             ("Alex", "Clerk", False, "STANDARD"), ("Jo", "Sales", False, "INVOICEONLY"),
             ("Pat", "Auditor", False, "READONLY"))
    for i, (first, last, subscriber, role) in enumerate(roles):
        books.put("Users", {
            "UserID": new_id(rng), "EmailAddress": f"{first.lower()}.{last.lower()}@example.com",
            "FirstName": first, "LastName": last, "IsSubscriber": subscriber, "OrganisationRole": role,
        }, at=at + timedelta(days=i * 20, minutes=i))
    for i, name in enumerate(("Standard", "Special Projects", "Very orange invoice!")):
        theme: Record = {"BrandingThemeID": new_id(rng), "Name": name, "SortOrder": i, "Type": "INVOICE",
                         "CreatedDateUTC": at + timedelta(days=i * 40)}
        if i == 1:
            theme["LogoUrl"] = "https://in.xero.com/logo?id=" + theme["BrandingThemeID"]
        books.put("BrandingThemes", theme)
    for name, text in (("Card payments", "Pay by card"), ("Direct debit", "Set up direct debit")):
        books.put("PaymentServices", {
            "PaymentServiceID": new_id(rng), "PaymentServiceName": name,
            "PaymentServiceUrl": "https://pay.example.com/xero?invoice=[INVOICENUMBER]&amount=[AMOUNTDUE]"
                                 "&currency=[CURRENCY]&org=[SHORTCODE]",
            "PaymentServiceType": "Custom", "PayNowText": text,
        })
