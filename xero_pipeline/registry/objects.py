"""The Xero objects the pipeline reads: one declarative entry per accounting endpoint."""

from __future__ import annotations

from xero_pipeline.registry.kinds import Child, Paging, XeroObject
from xero_pipeline.registry.writes import Writes


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
# Documents whose status Xero moves DRAFT -> SUBMITTED -> AUTHORISED: voided once authorised,
# deleted while drafts.
_DOCUMENT = Writes(void=True, delete=True)
OBJECTS: tuple[XeroObject, ...] = (
    XeroObject(
        "accounts", "Accounts", "Accounts", "Account", "AccountID",
        Paging.NONE, ims=True, scope="accounting.settings" + _READ,
        summary="one row per account in the chart of accounts, ARCHIVED ones included",
        core=True,
    ),
    XeroObject(
        "bank_transactions", "BankTransactions", "BankTransactions", "BankTransaction",
        "BankTransactionID", Paging.PAGE_SIZE, ims=True,
        scope="accounting.banktransactions" + _READ,
        summary="one row per spend or receive money transaction, VOIDED and DELETED kept",
        children=_lines("bank_transaction_line_items"), unitdp=True, core=True,
        writes=Writes(delete=True),
    ),
    XeroObject(
        "bank_transfers", "BankTransfers", "BankTransfers", "BankTransfer", "BankTransferID",
        Paging.NONE, ims=True, scope="accounting.banktransactions" + _READ,
        summary="one row per transfer between two bank accounts",
        updated_field="CreatedDateUTC", status_field=None, include_params=("includeDeleted",),
        notes="Xero gives transfers no UpdatedDateUTC, so a deletion is only seen by a full read.",
    ),
    XeroObject(
        "batch_payments", "BatchPayments", "BatchPayments", "BatchPayment", "BatchPaymentID",
        Paging.NONE, ims=True, scope="accounting.payments" + _READ,
        summary="one row per batch of payments made or received together",
        children=(Child("Payments", "batch_payment_payments", "Payment", "PaymentID"),),
    ),
    XeroObject(
        "branding_themes", "BrandingThemes", "BrandingThemes", "BrandingTheme",
        "BrandingThemeID", Paging.NONE, ims=False,
        scope="accounting.settings" + _READ, summary="one row per invoice branding theme",
        updated_field=None, status_field=None,
    ),
    XeroObject(
        "budgets", "Budgets", "Budgets", "Budget", "BudgetID",
        Paging.NONE, ims=False, scope="accounting.budgets" + _READ,
        summary="one row per budget (overall or by tracking option)",
        children=(
            Child("BudgetLines", "budget_lines", "BudgetLine", "AccountID"),
            # One row per account and month: the amounts budget-vs-actual reports join on.
            Child("BudgetBalances", "budget_balances", "BudgetBalance", within="budget_lines"),
        ),
        status_field=None, filled_singly=("BudgetLines",),
        notes="Xero lists budgets without their lines and sends a budget's balances only for the months asked "
        "(at most 24 a request), so each budget is also read by id, month range by month range.",
    ),
    XeroObject(
        "contact_groups", "ContactGroups", "ContactGroups", "ContactGroup", "ContactGroupID",
        Paging.NONE, ims=False, scope="accounting.contacts" + _READ,
        summary="one row per contact group",
        children=(Child("Contacts", "contact_group_members", "Contact", "ContactID", hard_deletes=True),),
        updated_field=None, filled_singly=("Contacts",),
        notes="Xero lists groups without their members, so each group is also read by id (one call per group).",
    ),
    XeroObject(
        "contacts", "Contacts", "Contacts", "Contact", "ContactID",
        Paging.PAGE_SIZE, ims=True, scope="accounting.contacts" + _READ,
        webhook_category="CONTACT",
        summary="one row per customer or supplier, ARCHIVED ones included",
        children=(
            Child("Addresses", "contact_addresses", "Address"),
            Child("Phones", "contact_phones", "Phone"),
            Child("ContactPersons", "contact_persons", "ContactPerson"),
        ),
        status_field="ContactStatus", include_params=("includeArchived",), core=True,
        notes="Archived contacts are hidden by Xero unless includeArchived=true, which we send.",
        writes=Writes(),
    ),
    XeroObject(
        "credit_notes", "CreditNotes", "CreditNotes", "CreditNote", "CreditNoteID",
        Paging.PAGE_SIZE, ims=True, scope="accounting.invoices" + _READ,
        webhook_category="CREDITNOTE",
        summary="one row per credit note, VOIDED and DELETED kept",
        children=(*_lines("credit_note_line_items"), _allocations("credit_note_allocations")),
        unitdp=True, core=True,
        writes=_DOCUMENT,
    ),
    XeroObject(
        "currencies", "Currencies", "Currencies", "Currency", "Code",
        Paging.NONE, ims=False, scope="accounting.settings" + _READ,
        summary="one row per currency enabled for the organisation",
        updated_field=None, status_field=None, core=True,
    ),
    XeroObject(
        "expense_claims", "ExpenseClaims", "ExpenseClaims", "ExpenseClaim", "ExpenseClaimID",
        Paging.NONE, ims=True, scope="accounting.classicexpenses" + _READ,
        summary="one row per classic expense claim",
        children=(Child("Receipts", "expense_claim_receipts", "Receipt", "ReceiptID"),),
        notes="Classic expense claims are not available to apps created since 2026.",
        gated="Xero withholds classic expense claims from apps created since 2026",
    ),
    XeroObject(
        "invoices", "Invoices", "Invoices", "Invoice", "InvoiceID",
        Paging.PAGE_SIZE, ims=True, scope="accounting.invoices" + _READ,
        webhook_category="INVOICE",
        summary="one row per sales invoice (ACCREC) or bill (ACCPAY), VOIDED and DELETED kept",
        children=_lines("invoice_line_items"), include_params=("includeArchived",),
        unitdp=True, core=True,
        writes=_DOCUMENT,
    ),
    XeroObject(
        "items", "Items", "Items", "Item", "ItemID",
        # A snapshot, although Xero takes IMS: the endpoint is unpaged, so a full read costs
        # the same single call and is the only way to see an item that was hard-deleted.
        Paging.NONE, ims=True, scope="accounting.invoices" + _READ,
        summary="one row per product or service item",
        status_field=None, unitdp=True, hard_deletes=True, core=True,
        notes="Xero hard-deletes items; every sync reads them all and marks vanished items deleted.",
        writes=Writes(),
    ),
    XeroObject(
        "journals", "Journals", "Journals", "Journal", "JournalID",
        Paging.OFFSET, ims=True, scope="accounting.journals" + _READ,
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
        "LinkedTransactionID", Paging.PAGE_ONLY, ims=False,
        scope="accounting.invoices" + _READ,
        summary="one row per billable expense linked to a sales invoice",
        hard_deletes=True, orderable=False,
    ),
    XeroObject(
        "manual_journals", "ManualJournals", "ManualJournals", "ManualJournal", "ManualJournalID",
        Paging.PAGE_SIZE, ims=True, scope="accounting.manualjournals" + _READ,
        summary="one row per manual journal, DRAFT to VOIDED",
        children=(
            Child("JournalLines", "manual_journal_lines", "ManualJournalLine"),
            Child("Tracking", "manual_journal_line_tracking", "TrackingCategory", within="manual_journal_lines"),
        ),
        writes=_DOCUMENT,
    ),
    XeroObject(
        "organisations", "Organisation", "Organisations", "Organisation", "OrganisationID",
        Paging.NONE, ims=False, scope="accounting.settings" + _READ,
        summary="one row per organisation: name, base currency, financial year, lock dates",
        updated_field=None, status_field="OrganisationStatus", core=True,
    ),
    XeroObject(
        "overpayments", "Overpayments", "Overpayments", "Overpayment", "OverpaymentID",
        Paging.PAGE_SIZE, ims=True, scope="accounting.payments" + _READ,
        webhook_category="OVERPAYMENT",
        summary="one row per overpayment",
        children=(*_lines("overpayment_line_items"), _allocations("overpayment_allocations")),
        unitdp=True,
    ),
    XeroObject(
        "payment_services", "PaymentServices", "PaymentServices", "PaymentService",
        "PaymentServiceID", Paging.NONE, ims=False, scope="paymentservices",
        summary="one row per payment service offered on invoices",
        updated_field=None, status_field=None,
    ),
    XeroObject(
        "payments", "Payments", "Payments", "Payment", "PaymentID",
        Paging.PAGE_SIZE, ims=True, scope="accounting.payments" + _READ,
        summary="one row per payment against an invoice or credit note, DELETED kept",
        core=True,
        writes=Writes(delete=True),
    ),
    XeroObject(
        "prepayments", "Prepayments", "Prepayments", "Prepayment", "PrepaymentID",
        Paging.PAGE_SIZE, ims=True, scope="accounting.payments" + _READ,
        webhook_category="PREPAYMENT",
        summary="one row per prepayment",
        children=(*_lines("prepayment_line_items"), _allocations("prepayment_allocations")),
        unitdp=True,
    ),
    XeroObject(
        "purchase_orders", "PurchaseOrders", "PurchaseOrders", "PurchaseOrder",
        "PurchaseOrderID", Paging.PAGE_SIZE, ims=True,
        scope="accounting.invoices" + _READ, summary="one row per purchase order",
        children=_lines("purchase_order_line_items"),
        writes=_DOCUMENT,
    ),
    XeroObject(
        "quotes", "Quotes", "Quotes", "Quote", "QuoteID",
        Paging.PAGE_ONLY, ims=True, scope="accounting.invoices" + _READ,
        summary="one row per quote", children=_lines("quote_line_items"),
        writes=Writes(delete=True),
    ),
    XeroObject(
        "receipts", "Receipts", "Receipts", "Receipt", "ReceiptID",
        Paging.NONE, ims=True, scope="accounting.classicexpenses" + _READ,
        summary="one row per classic expense receipt",
        children=_lines("receipt_line_items"), unitdp=True,
        notes="Classic receipts are not available to apps created since 2026.",
        gated="Xero withholds classic expense receipts from apps created since 2026",
    ),
    XeroObject(
        "repeating_invoices", "RepeatingInvoices", "RepeatingInvoices", "RepeatingInvoice",
        "RepeatingInvoiceID", Paging.NONE, ims=False,
        scope="accounting.invoices" + _READ, summary="one row per repeating invoice template",
        children=_lines("repeating_invoice_line_items"), updated_field=None,
    ),
    XeroObject(
        "tax_rates", "TaxRates", "TaxRates", "TaxRate", "TaxType",
        Paging.NONE, ims=False, scope="accounting.settings" + _READ,
        summary="one row per tax rate, keyed by TaxType",
        children=(Child("TaxComponents", "tax_rate_components", "TaxComponent"),),
        updated_field=None, core=True,
    ),
    XeroObject(
        "tracking_categories", "TrackingCategories", "TrackingCategories", "TrackingCategory",
        "TrackingCategoryID", Paging.NONE, ims=False,
        scope="accounting.settings" + _READ,
        summary="one row per tracking category, ARCHIVED ones included",
        children=(Child("Options", "tracking_options", "TrackingOption", "TrackingOptionID", hard_deletes=True),),
        updated_field=None, include_params=("includeArchived",), core=True,
    ),
    XeroObject(
        "users", "Users", "Users", "User", "UserID",
        Paging.NONE, ims=True, scope="accounting.settings" + _READ,
        summary="one row per user of the organisation", status_field=None,
    ),
)

# Endpoints Xero has removed. Not in OBJECTS (nothing reads or serves them); each is an
# asset that fails at once, so a schedule or a user asking for it learns why.
RETIRED: tuple[XeroObject, ...] = (
    XeroObject(
        "employees", "Employees", "Employees", "Employee", "EmployeeID",
        Paging.NONE, ims=True, scope="accounting.settings" + _READ,
        summary="one row per employee (accounting API, not payroll)", status_field="Status",
        retired="2026-04-28",
        notes="Payroll employees are in Xero's Payroll APIs, which this pipeline does not read.",
    ),
)

BY_TABLE: dict[str, XeroObject] = {o.table: o for o in OBJECTS}
BY_PATH: dict[str, XeroObject] = {o.path.lower(): o for o in OBJECTS}
CORE: tuple[XeroObject, ...] = tuple(o for o in OBJECTS if o.core)
WRITABLE: tuple[XeroObject, ...] = tuple(o for o in OBJECTS if o.writes is not None)
# eventCategory -> the object its webhook events are about (Xero sends no others but SUBSCRIPTION,
# which is about the app's App Store subscription, not an organisation's books).
BY_WEBHOOK_CATEGORY: dict[str, XeroObject] = {o.webhook_category: o for o in OBJECTS if o.webhook_category}
