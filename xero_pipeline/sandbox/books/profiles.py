"""Country profiles for the demo organisations: what differs between a NZ, UK, AU and
US Xero file (currency, tax regime, financial year, address formats), as plain data.

Tax types follow Xero's own codes per region: NZ and UK use OUTPUT2/INPUT2, AU uses
OUTPUT/INPUT, and US organisations get custom codes TAX001… because US sales tax is
configured per jurisdiction. Custom rates that an organisation adds itself are also
named TAX00n, which is how the archived historical rate of each profile is coded.
US purchases carry no recoverable tax (sales tax is a cost to the buyer), so US bills
use the exempt rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class TaxSpec:
    tax_type: str
    name: str
    report_tax_type: str
    components: tuple[tuple[str, str], ...]  # (component name, rate as text)
    revenue: bool = True
    expenses: bool = True
    status: str = "ACTIVE"

    @property
    def rate(self) -> Decimal:
        return sum((Decimal(r) for _, r in self.components), Decimal(0))


@dataclass(frozen=True)
class Profile:
    code: str  # ISO country code, also Xero's Version
    org_name: str
    currency: str
    country: str
    timezone: str
    fy_end: tuple[int, int]  # (day, month)
    tax_label: str  # GST, VAT, Sales Tax
    sales_tax: str  # default tax type on income lines
    purchase_tax: str  # default tax type on expense lines
    exempt_tax: str  # no tax (balance sheet lines, exempt supplies)
    taxes: tuple[TaxSpec, ...]
    foreign: tuple[str, ...]  # currencies enabled besides the base one
    cities: tuple[tuple[str, str, str], ...]  # (city, region, postcode)
    phone_country: str
    company_suffixes: tuple[str, ...]
    tax_number: str
    sales_tax_basis: str
    sales_tax_period: str
    export_tax: str  # sales to foreign customers are zero-rated exports
    import_tax: str  # bills from foreign suppliers
    alt_sales_tax: str  # a second rate some sales lines use


_NZ = Profile(
    "NZ", "Demo Company (NZ)", "NZD", "New Zealand", "NEWZEALANDSTANDARDTIME", (31, 3),
    "GST", "OUTPUT2", "INPUT2", "NONE",
    (
        TaxSpec("OUTPUT2", "15% GST on Income", "OUTPUT", (("GST", "15"),), expenses=False),
        TaxSpec("INPUT2", "15% GST on Expenses", "INPUT", (("GST", "15"),), revenue=False),
        TaxSpec("ZERORATED", "Zero Rated", "OUTPUT", (("GST", "0"),), expenses=False),
        TaxSpec("GSTONIMPORTS", "GST on Imports", "GSTONIMPORTS", (("GST", "0"),), revenue=False),
        TaxSpec("NONE", "No GST", "NONE", (("GST", "0"),)),
        TaxSpec("TAX001", "12.5% GST on Income (pre-2010)", "OUTPUT", (("GST", "12.5"),),
                expenses=False, status="ARCHIVED"),
    ),
    ("AUD", "USD", "GBP"),
    (("Wellington", "Wellington", "6011"), ("Auckland", "Auckland", "1010"),
     ("Christchurch", "Canterbury", "8011"), ("Hamilton", "Waikato", "3204"),
     ("Dunedin", "Otago", "9016"), ("Nelson", "Nelson", "7010")),
    "64", ("Limited", "Ltd", "Group", "& Co", "Trading", "Holdings"),
    "071-138-054", "PAYMENTS", "TWOMONTHS", "ZERORATED", "GSTONIMPORTS", "ZERORATED",
)

_UK = Profile(
    "UK", "Demo Company (UK)", "GBP", "United Kingdom", "GMTSTANDARDTIME", (31, 12),
    "VAT", "OUTPUT2", "INPUT2", "NONE",
    (
        TaxSpec("OUTPUT2", "20% (VAT on Income)", "OUTPUT", (("VAT", "20"),), expenses=False),
        TaxSpec("INPUT2", "20% (VAT on Expenses)", "INPUT", (("VAT", "20"),), revenue=False),
        TaxSpec("RROUTPUT", "5% (VAT on Income)", "OUTPUT", (("VAT", "5"),), expenses=False),
        TaxSpec("RRINPUT", "5% (VAT on Expenses)", "INPUT", (("VAT", "5"),), revenue=False),
        TaxSpec("ZERORATEDOUTPUT", "Zero Rated Income", "OUTPUT", (("VAT", "0"),), expenses=False),
        TaxSpec("ZERORATEDINPUT", "Zero Rated Expenses", "INPUT", (("VAT", "0"),), revenue=False),
        TaxSpec("EXEMPTOUTPUT", "Exempt Income", "EXEMPTOUTPUT", (("VAT", "0"),), expenses=False),
        TaxSpec("NONE", "No VAT", "NONE", (("VAT", "0"),)),
        TaxSpec("TAX001", "17.5% (VAT on Income) pre-2011", "OUTPUT", (("VAT", "17.5"),),
                expenses=False, status="ARCHIVED"),
    ),
    ("EUR", "USD"),
    (("London", "Greater London", "EC1A 1BB"), ("Manchester", "Greater Manchester", "M1 1AE"),
     ("Bristol", "Bristol", "BS1 4DJ"), ("Leeds", "West Yorkshire", "LS1 4AP"),
     ("Edinburgh", "Midlothian", "EH1 1YZ"), ("Birmingham", "West Midlands", "B1 1BB")),
    "44", ("Ltd", "plc", "LLP", "& Sons", "Trading", "Group"),
    "GB 123 4567 89", "ACCRUAL", "QUARTERLY1", "ZERORATEDOUTPUT", "ZERORATEDINPUT", "RROUTPUT",
)

_AU = Profile(
    "AU", "Demo Company (AU)", "AUD", "Australia", "AUSEASTERNSTANDARDTIME", (30, 6),
    "GST", "OUTPUT", "INPUT", "BASEXCLUDED",
    (
        TaxSpec("OUTPUT", "GST on Income", "OUTPUT", (("GST", "10"),), expenses=False),
        TaxSpec("INPUT", "GST on Expenses", "INPUT", (("GST", "10"),), revenue=False),
        TaxSpec("EXEMPTOUTPUT", "GST Free Income", "EXEMPTOUTPUT", (("GST", "0"),), expenses=False),
        TaxSpec("EXEMPTEXPENSES", "GST Free Expenses", "EXEMPTEXPENSES", (("GST", "0"),), revenue=False),
        TaxSpec("BASEXCLUDED", "BAS Excluded", "BASEXCLUDED", (("GST", "0"),)),
        TaxSpec("TAX001", "GST on Imports (legacy)", "GSTONIMPORTS", (("GST", "10"),),
                revenue=False, status="ARCHIVED"),
    ),
    ("NZD", "USD"),
    (("Sydney", "NSW", "2000"), ("Melbourne", "VIC", "3000"), ("Brisbane", "QLD", "4000"),
     ("Perth", "WA", "6000"), ("Adelaide", "SA", "5000"), ("Hobart", "TAS", "7000")),
    "61", ("Pty Ltd", "Pty Limited", "Group", "& Co", "Trust", "Holdings"),
    "53 004 085 616", "ACCRUALS", "QUARTERLY", "EXEMPTOUTPUT", "EXEMPTEXPENSES", "EXEMPTOUTPUT",
)

_US = Profile(
    "US", "Demo Company (US)", "USD", "United States", "EASTERNSTANDARDTIME", (31, 12),
    "Sales Tax", "TAX001", "NONE", "NONE",
    (
        TaxSpec("TAX001", "Tax on Sales (New York City)", "OUTPUT",
                (("State", "4"), ("City", "4.5"), ("MCTD", "0.375")), expenses=False),
        TaxSpec("TAX002", "Tax on Sales (California)", "OUTPUT", (("State", "7.25"),), expenses=False),
        TaxSpec("NONE", "Tax Exempt", "NONE", (("Exempt", "0"),)),
        TaxSpec("TAX003", "Tax on Sales (NYC, 2019 rate)", "OUTPUT",
                (("State", "4"), ("City", "4.5")), expenses=False, status="ARCHIVED"),
    ),
    ("CAD", "EUR", "GBP"),
    (("New York", "NY", "10001"), ("San Francisco", "CA", "94105"), ("Austin", "TX", "73301"),
     ("Chicago", "IL", "60601"), ("Seattle", "WA", "98101"), ("Boston", "MA", "02108")),
    "1", ("Inc", "LLC", "Corp", "& Co", "Group", "Partners"),
    "12-3456789", "ACCRUAL", "MONTHLY", "NONE", "NONE", "TAX002",
)

PROFILES: tuple[Profile, ...] = (_NZ, _UK, _AU, _US)

CURRENCY_NAMES = {
    "NZD": "New Zealand Dollar", "GBP": "British Pound", "AUD": "Australian Dollar",
    "USD": "United States Dollar", "EUR": "Euro", "CAD": "Canadian Dollar",
}
# Rough value of one unit in USD; exchange rates are derived from these and drift daily.
USD_VALUE = {
    "USD": 1.0, "NZD": 0.60, "AUD": 0.66, "GBP": 1.27, "EUR": 1.08, "CAD": 0.73,
}

FIRST_NAMES = (
    "Aroha", "Ben", "Chloe", "Daniel", "Emma", "Finn", "Grace", "Hemi", "Isla", "Jack",
    "Kiri", "Liam", "Mia", "Noah", "Olivia", "Priya", "Quinn", "Ruby", "Sam", "Tama",
    "Una", "Victor", "Wiremu", "Xavier", "Yasmin", "Zoe", "Amelia", "Oscar", "Leo", "Ella",
)
LAST_NAMES = (
    "Anderson", "Brown", "Campbell", "Davies", "Edwards", "Fletcher", "Green", "Harris",
    "Ihaka", "Jones", "King", "Lewis", "Martin", "Ngata", "O'Connor", "Patel", "Quigley",
    "Robinson", "Smith", "Taylor", "Upton", "Walker", "Williams", "Young", "Zhang", "Chen",
    "Nguyen", "Murphy", "Kelly", "Wilson",
)
BUSINESS_WORDS = (
    "Bayside", "Summit", "Harbour", "Kiwi", "Northern", "Pacific", "Redwood", "Silverfern",
    "Coastal", "Metro", "Pioneer", "Evergreen", "Granite", "Lakeside", "Atlas", "Beacon",
    "Cedar", "Delta", "Ember", "Falcon", "Horizon", "Ironbark", "Juniper", "Keystone",
    "Lighthouse", "Maple", "Nimbus", "Orchard", "Pinnacle", "Riverbend",
)
BUSINESS_KINDS = (
    "Consulting", "Supplies", "Traders", "Builders", "Design", "Logistics", "Catering",
    "Electrical", "Plumbing", "Media", "Software", "Motors", "Print", "Cleaning", "Freight",
)
ITEM_NOUNS = (
    ("Consulting", "hour"), ("Installation", "job"), ("Widget", "unit"), ("Cable", "metre"),
    ("Desk", "unit"), ("Chair", "unit"), ("Licence", "seat"), ("Support plan", "month"),
    ("Training", "day"), ("Paper", "ream"), ("Toner", "cartridge"), ("Sensor", "unit"),
    ("Bracket", "unit"), ("Panel", "unit"), ("Design work", "hour"), ("Delivery", "trip"),
)
ITEM_ADJECTIVES = ("Standard", "Premium", "Basic", "Deluxe", "Compact", "Heavy-duty", "Eco", "Pro")
