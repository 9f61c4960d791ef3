"""The registry of Xero objects: one declarative entry per accounting endpoint.

Everything that differs between Xero's endpoints lives here and nowhere else: the path,
the JSON envelope key, the primary key, how the endpoint pages, whether it honours
``If-Modified-Since``, which nested arrays become child tables, and how deletes show up.
The asset factory, the sandbox's routes and the tests all iterate over ``OBJECTS``, so
adding an object is one entry here.

Facts encoded below (from Xero's spec and developer docs):

* Only nine endpoints page with ``page``/``pageSize`` and return a ``pagination`` object;
  the page size defaults to 100 and may be raised to 1000. Quotes and LinkedTransactions
  take ``page`` only (always 100 a page, no ``pagination`` object).
* Unpaged multi-record reads of documents omit their line items, so documents with
  line items must be read with ``page`` even when only a few rows exist.
* Journals page by ``offset``: an exclusive lower bound on ``JournalNumber``, at most
  100 journals a response, oldest first. Journals are immutable, so the last
  JournalNumber is a perfect cursor.
* ``If-Modified-Since`` is honoured to the second by the endpoints marked ``ims``.
  BankTransfers have only ``CreatedDateUTC``, so edits and deletes never show up in an
  IMS read and the table is reconciled against a full read instead.
* Archived contacts and tracking categories are hidden unless ``includeArchived=true``;
  deleted bank transfers unless ``includeDeleted=true``. Items, linked transactions,
  tracking options and contact-group membership are hard-deleted with no tombstone.
* Money has 2 decimal places, except unit amounts which have 4 with ``unitdp=4`` on the
  endpoints that take it.
* Multi-record reads of ContactGroups send each group's ``Contacts`` empty (the spec's
  example); only ``GET /ContactGroups/{id}`` lists the members, so they are read singly.
* Employees was removed on 2026-04-28 (spec commit 1e5abee). Classic expense claims and
  receipts are withheld from apps created since 2026; Journals became a premium
  endpoint in March 2026, and custom connections created since 29 April 2026 get no
  journal access. Xero answers those with 401/403/404 for the one endpoint.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Cursor(enum.StrEnum):
    """How the pipeline asks Xero only for what changed since the last sync."""

    IMS = "if_modified_since"  # send the last sync's server time as If-Modified-Since
    JOURNAL_NUMBER = "journal_number"  # offset = highest JournalNumber already loaded
    NONE = "none"  # small or unfilterable: read everything and reconcile the snapshot


class Paging(enum.StrEnum):
    """How an endpoint splits a collection across responses."""

    PAGE_SIZE = "page_size"  # page + pageSize (<= 1000) + pagination object
    PAGE_ONLY = "page_only"  # page only, 100 per response, no pagination object
    OFFSET = "offset"  # offset = exclusive JournalNumber bound, 100 per response
    NONE = "none"  # one response holds the whole collection


MAX_PAGE_SIZE = 1000
FIXED_PAGE_SIZE = 100  # page-only endpoints and journals


@dataclass(frozen=True)
class Child:
    """A nested array that lands in a table of its own, keyed by its parent."""

    field: str  # the array in the parent record, e.g. "LineItems"
    table: str  # e.g. "invoice_line_items"
    schema: str  # spec schema of one element, e.g. "LineItem"
    key: str | None = None  # element id (e.g. "LineItemID"); None: the position is the key
    hard_deletes: bool = False  # elements vanish without a tombstone: kept with _deleted_at
    within: str | None = None  # a nested array of another child's elements: that child's table

    def __post_init__(self) -> None:
        # Marking a vanished element deleted needs an identity that outlives its position.
        if self.hard_deletes and not self.key:
            raise ValueError(f"{self.table}: a hard-deleted child needs a key")


@dataclass(frozen=True)
class XeroObject:
    """One Xero accounting collection and how to read it faithfully."""

    table: str  # warehouse table and asset name, snake_case plural
    path: str  # under /api.xro/2.0/
    envelope: str  # key of the array in the JSON response
    schema: str  # spec schema of one record
    primary_key: str
    cursor: Cursor
    paging: Paging
    ims: bool  # the endpoint honours If-Modified-Since
    scope: str  # granular read scope that Xero checks (apps created since March 2026)
    summary: str  # what one row is, for descriptions in the UI
    children: tuple[Child, ...] = ()
    updated_field: str | None = "UpdatedDateUTC"
    status_field: str | None = "Status"
    include_params: tuple[str, ...] = ()  # flags that make hidden states visible
    unitdp: bool = False  # takes unitdp=4
    hard_deletes: bool = False  # rows vanish with no tombstone: reconcile by full read
    order_by: str | None = None  # a stable order for paging (see client); None: pk
    core: bool = False  # part of the first, core set of assets
    notes: str = ""  # a Xero quirk worth showing in the asset's description
    filled_singly: tuple[str, ...] = ()  # child arrays only a read by id fills (ContactGroups)
    gated: str = ""  # why Xero may refuse this endpoint to an app or plan (named on failure)
    retired: str = ""  # ISO date Xero removed the endpoint; the asset fails without a call

    @property
    def full_snapshot(self) -> bool:
        """Every sync reads the whole collection (no usable change filter)."""
        return self.cursor is Cursor.NONE

    @property
    def lines_need_paging(self) -> bool:
        """Xero omits line items from unpaged multi-record reads of documents."""
        return self.paging in (Paging.PAGE_SIZE, Paging.PAGE_ONLY) and any(
            c.field == "LineItems" for c in self.children
        )

    def child(self, table: str) -> Child:
        for c in self.children:
            if c.table == table:
                return c
        raise KeyError(f"{self.table} has no child table {table!r}")


def _lines(table: str) -> tuple[Child, Child]:
    """Line items, and their tracking flattened: what reports by region/department join on."""
    tracking = table.removesuffix("s") + "_tracking"  # invoice_line_items -> invoice_line_item_tracking
    return (
        Child("LineItems", table, "LineItem", "LineItemID"),
        Child("Tracking", tracking, "LineItemTracking", within=table),
    )


def _allocations(table: str) -> Child:
    return Child("Allocations", table, "Allocation", "AllocationID")


_READ = ".read"
OBJECTS: tuple[XeroObject, ...] = (
    XeroObject(
        "accounts", "Accounts", "Accounts", "Account", "AccountID",
        Cursor.IMS, Paging.NONE, ims=True, scope="accounting.settings" + _READ,
        summary="one row per account in the chart of accounts, ARCHIVED ones included",
        core=True,
    ),
    XeroObject(
        "bank_transactions", "BankTransactions", "BankTransactions", "BankTransaction",
        "BankTransactionID", Cursor.IMS, Paging.PAGE_SIZE, ims=True,
        scope="accounting.banktransactions" + _READ,
        summary="one row per spend or receive money transaction, VOIDED and DELETED kept",
        children=_lines("bank_transaction_line_items"), unitdp=True, core=True,
    ),
    XeroObject(
        "bank_transfers", "BankTransfers", "BankTransfers", "BankTransfer", "BankTransferID",
        Cursor.NONE, Paging.NONE, ims=True, scope="accounting.banktransactions" + _READ,
        summary="one row per transfer between two bank accounts",
        updated_field="CreatedDateUTC", status_field=None, include_params=("includeDeleted",),
        notes="Xero gives transfers no UpdatedDateUTC, so a deletion is only seen by a full read.",
    ),
    XeroObject(
        "batch_payments", "BatchPayments", "BatchPayments", "BatchPayment", "BatchPaymentID",
        Cursor.IMS, Paging.NONE, ims=True, scope="accounting.payments" + _READ,
        summary="one row per batch of payments made or received together",
        children=(Child("Payments", "batch_payment_payments", "Payment", "PaymentID"),),
    ),
    XeroObject(
        "branding_themes", "BrandingThemes", "BrandingThemes", "BrandingTheme",
        "BrandingThemeID", Cursor.NONE, Paging.NONE, ims=False,
        scope="accounting.settings" + _READ, summary="one row per invoice branding theme",
        updated_field=None, status_field=None,
    ),
    XeroObject(
        "budgets", "Budgets", "Budgets", "Budget", "BudgetID",
        Cursor.NONE, Paging.NONE, ims=False, scope="accounting.budgets" + _READ,
        summary="one row per budget (overall or by tracking option)",
        children=(
            Child("BudgetLines", "budget_lines", "BudgetLine", "AccountID"),
            # One row per account and month: the amounts budget-vs-actual reports join on.
            Child("BudgetBalances", "budget_balances", "BudgetBalance", within="budget_lines"),
        ),
        status_field=None,
    ),
    XeroObject(
        "contact_groups", "ContactGroups", "ContactGroups", "ContactGroup", "ContactGroupID",
        Cursor.NONE, Paging.NONE, ims=False, scope="accounting.contacts" + _READ,
        summary="one row per contact group",
        children=(Child("Contacts", "contact_group_members", "Contact", "ContactID", hard_deletes=True),),
        updated_field=None, filled_singly=("Contacts",),
        notes="Xero lists groups without their members, so each group is also read by id (one call per group).",
    ),
    XeroObject(
        "contacts", "Contacts", "Contacts", "Contact", "ContactID",
        Cursor.IMS, Paging.PAGE_SIZE, ims=True, scope="accounting.contacts" + _READ,
        summary="one row per customer or supplier, ARCHIVED ones included",
        children=(
            Child("Addresses", "contact_addresses", "Address"),
            Child("Phones", "contact_phones", "Phone"),
            Child("ContactPersons", "contact_persons", "ContactPerson"),
        ),
        status_field="ContactStatus", include_params=("includeArchived",), core=True,
        notes="Archived contacts are hidden by Xero unless includeArchived=true, which we send.",
    ),
    XeroObject(
        "credit_notes", "CreditNotes", "CreditNotes", "CreditNote", "CreditNoteID",
        Cursor.IMS, Paging.PAGE_SIZE, ims=True, scope="accounting.invoices" + _READ,
        summary="one row per credit note, VOIDED and DELETED kept",
        children=(*_lines("credit_note_line_items"), _allocations("credit_note_allocations")),
        unitdp=True, core=True,
    ),
    XeroObject(
        "currencies", "Currencies", "Currencies", "Currency", "Code",
        Cursor.NONE, Paging.NONE, ims=False, scope="accounting.settings" + _READ,
        summary="one row per currency enabled for the organisation",
        updated_field=None, status_field=None, core=True,
    ),
    XeroObject(
        "expense_claims", "ExpenseClaims", "ExpenseClaims", "ExpenseClaim", "ExpenseClaimID",
        Cursor.IMS, Paging.NONE, ims=True, scope="accounting.classicexpenses" + _READ,
        summary="one row per classic expense claim",
        children=(Child("Receipts", "expense_claim_receipts", "Receipt", "ReceiptID"),),
        notes="Classic expense claims are not available to apps created since 2026.",
        gated="Xero withholds classic expense claims from apps created since 2026",
    ),
    XeroObject(
        "invoices", "Invoices", "Invoices", "Invoice", "InvoiceID",
        Cursor.IMS, Paging.PAGE_SIZE, ims=True, scope="accounting.invoices" + _READ,
        summary="one row per sales invoice (ACCREC) or bill (ACCPAY), VOIDED and DELETED kept",
        children=_lines("invoice_line_items"), include_params=("includeArchived",),
        unitdp=True, core=True,
    ),
    XeroObject(
        "items", "Items", "Items", "Item", "ItemID",
        # A snapshot, although Xero takes IMS: the endpoint is unpaged, so a full read costs
        # the same single call and is the only way to see an item that was hard-deleted.
        Cursor.NONE, Paging.NONE, ims=True, scope="accounting.invoices" + _READ,
        summary="one row per product or service item",
        status_field=None, unitdp=True, hard_deletes=True, core=True,
        notes="Xero hard-deletes items; every sync reads them all and marks vanished items deleted.",
    ),
    XeroObject(
        "journals", "Journals", "Journals", "Journal", "JournalID",
        Cursor.JOURNAL_NUMBER, Paging.OFFSET, ims=True, scope="accounting.journals" + _READ,
        summary="one row per general-ledger journal; every posted document makes one",
        children=(
            Child("JournalLines", "journal_lines", "JournalLine", "JournalLineID"),
            Child("TrackingCategories", "journal_line_tracking", "TrackingCategory", within="journal_lines"),
        ),
        updated_field="CreatedDateUTC", status_field=None, core=True,
        notes="Journals are immutable and read 100 at a time by JournalNumber offset.",
        gated=(
            "Journals are a premium endpoint since March 2026 (Advanced plan and a security assessment), "
            "and custom connections created since 29 April 2026 get no journal access"
        ),
    ),
    XeroObject(
        "linked_transactions", "LinkedTransactions", "LinkedTransactions", "LinkedTransaction",
        "LinkedTransactionID", Cursor.NONE, Paging.PAGE_ONLY, ims=False,
        scope="accounting.invoices" + _READ,
        summary="one row per billable expense linked to a sales invoice",
        hard_deletes=True,
    ),
    XeroObject(
        "manual_journals", "ManualJournals", "ManualJournals", "ManualJournal", "ManualJournalID",
        Cursor.IMS, Paging.PAGE_SIZE, ims=True, scope="accounting.manualjournals" + _READ,
        summary="one row per manual journal, DRAFT to VOIDED",
        children=(
            Child("JournalLines", "manual_journal_lines", "ManualJournalLine"),
            Child("Tracking", "manual_journal_line_tracking", "TrackingCategory", within="manual_journal_lines"),
        ),
    ),
    XeroObject(
        "organisations", "Organisation", "Organisations", "Organisation", "OrganisationID",
        Cursor.NONE, Paging.NONE, ims=False, scope="accounting.settings" + _READ,
        summary="one row per organisation: name, base currency, financial year, lock dates",
        updated_field=None, status_field="OrganisationStatus", core=True,
    ),
    XeroObject(
        "overpayments", "Overpayments", "Overpayments", "Overpayment", "OverpaymentID",
        Cursor.IMS, Paging.PAGE_SIZE, ims=True, scope="accounting.payments" + _READ,
        summary="one row per overpayment",
        children=(*_lines("overpayment_line_items"), _allocations("overpayment_allocations")),
        unitdp=True,
    ),
    XeroObject(
        "payment_services", "PaymentServices", "PaymentServices", "PaymentService",
        "PaymentServiceID", Cursor.NONE, Paging.NONE, ims=False, scope="paymentservices",
        summary="one row per payment service offered on invoices",
        updated_field=None, status_field=None,
    ),
    XeroObject(
        "payments", "Payments", "Payments", "Payment", "PaymentID",
        Cursor.IMS, Paging.PAGE_SIZE, ims=True, scope="accounting.payments" + _READ,
        summary="one row per payment against an invoice or credit note, DELETED kept",
        core=True,
    ),
    XeroObject(
        "prepayments", "Prepayments", "Prepayments", "Prepayment", "PrepaymentID",
        Cursor.IMS, Paging.PAGE_SIZE, ims=True, scope="accounting.payments" + _READ,
        summary="one row per prepayment",
        children=(*_lines("prepayment_line_items"), _allocations("prepayment_allocations")),
        unitdp=True,
    ),
    XeroObject(
        "purchase_orders", "PurchaseOrders", "PurchaseOrders", "PurchaseOrder",
        "PurchaseOrderID", Cursor.IMS, Paging.PAGE_SIZE, ims=True,
        scope="accounting.invoices" + _READ, summary="one row per purchase order",
        children=_lines("purchase_order_line_items"),
    ),
    XeroObject(
        "quotes", "Quotes", "Quotes", "Quote", "QuoteID",
        Cursor.IMS, Paging.PAGE_ONLY, ims=True, scope="accounting.invoices" + _READ,
        summary="one row per quote", children=_lines("quote_line_items"),
    ),
    XeroObject(
        "receipts", "Receipts", "Receipts", "Receipt", "ReceiptID",
        Cursor.IMS, Paging.NONE, ims=True, scope="accounting.classicexpenses" + _READ,
        summary="one row per classic expense receipt",
        children=_lines("receipt_line_items"), unitdp=True,
        notes="Classic receipts are not available to apps created since 2026.",
        gated="Xero withholds classic expense receipts from apps created since 2026",
    ),
    XeroObject(
        "repeating_invoices", "RepeatingInvoices", "RepeatingInvoices", "RepeatingInvoice",
        "RepeatingInvoiceID", Cursor.NONE, Paging.NONE, ims=False,
        scope="accounting.invoices" + _READ, summary="one row per repeating invoice template",
        children=_lines("repeating_invoice_line_items"), updated_field=None,
    ),
    XeroObject(
        "tax_rates", "TaxRates", "TaxRates", "TaxRate", "TaxType",
        Cursor.NONE, Paging.NONE, ims=False, scope="accounting.settings" + _READ,
        summary="one row per tax rate, keyed by TaxType",
        children=(Child("TaxComponents", "tax_rate_components", "TaxComponent"),),
        updated_field=None, core=True,
    ),
    XeroObject(
        "tracking_categories", "TrackingCategories", "TrackingCategories", "TrackingCategory",
        "TrackingCategoryID", Cursor.NONE, Paging.NONE, ims=False,
        scope="accounting.settings" + _READ,
        summary="one row per tracking category, ARCHIVED ones included",
        children=(Child("Options", "tracking_options", "TrackingOption", "TrackingOptionID", hard_deletes=True),),
        updated_field=None, include_params=("includeArchived",), core=True,
    ),
    XeroObject(
        "users", "Users", "Users", "User", "UserID",
        Cursor.IMS, Paging.NONE, ims=True, scope="accounting.settings" + _READ,
        summary="one row per user of the organisation", status_field=None,
    ),
)

# Endpoints Xero has removed. Not in OBJECTS (nothing reads or serves them); each is an
# asset that fails at once, so a schedule or a user asking for it learns why.
RETIRED: tuple[XeroObject, ...] = (
    XeroObject(
        "employees", "Employees", "Employees", "Employee", "EmployeeID",
        Cursor.IMS, Paging.NONE, ims=True, scope="accounting.settings" + _READ,
        summary="one row per employee (accounting API, not payroll)", status_field="Status",
        retired="2026-04-28",
        notes="Payroll employees are in Xero's Payroll APIs, which this pipeline does not read.",
    ),
)

BY_TABLE: dict[str, XeroObject] = {o.table: o for o in OBJECTS}
BY_PATH: dict[str, XeroObject] = {o.path.lower(): o for o in OBJECTS}
CORE: tuple[XeroObject, ...] = tuple(o for o in OBJECTS if o.core)


@dataclass(frozen=True)
class XeroReport:
    """A report endpoint under /Reports/, flattened to rows in the warehouse."""

    name: str  # path segment, e.g. "ProfitAndLoss"
    table: str
    scope: str
    params: tuple[str, ...] = field(default=())  # query parameters the report takes
    per_contact: bool = False  # Aged reports need contactId


REPORTS: tuple[XeroReport, ...] = (
    XeroReport("TrialBalance", "report_trial_balance", "accounting.reports.trialbalance.read", ("date", "paymentsOnly")),
    XeroReport("ProfitAndLoss", "report_profit_and_loss", "accounting.reports.profitandloss.read",
               ("fromDate", "toDate", "periods", "timeframe", "standardLayout", "paymentsOnly")),
    XeroReport("BalanceSheet", "report_balance_sheet", "accounting.reports.balancesheet.read",
               ("date", "periods", "timeframe", "standardLayout", "paymentsOnly")),
    XeroReport("BankSummary", "report_bank_summary", "accounting.reports.banksummary.read", ("fromDate", "toDate")),
    XeroReport("ExecutiveSummary", "report_executive_summary", "accounting.reports.executivesummary.read", ("date",)),
    XeroReport("BudgetSummary", "report_budget_summary", "accounting.reports.budgetsummary.read",
               ("date", "periods", "timeframe")),
    XeroReport("AgedReceivablesByContact", "report_aged_receivables", "accounting.reports.aged.read",
               ("contactId", "date", "fromDate", "toDate"), per_contact=True),
    XeroReport("AgedPayablesByContact", "report_aged_payables", "accounting.reports.aged.read",
               ("contactId", "date", "fromDate", "toDate"), per_contact=True),
)

REPORTS_BY_NAME: dict[str, XeroReport] = {r.name.lower(): r for r in REPORTS}
