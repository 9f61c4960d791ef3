"""The Xero reports the pipeline reads, flattened to one row per value cell."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class XeroReport:
    """A report endpoint under /Reports/, flattened to rows in the warehouse."""

    name: str  # path segment, e.g. "ProfitAndLoss"
    table: str
    scope: str
    params: tuple[str, ...] = field(default=())  # query parameters the report takes
    per_contact: bool = False  # Aged reports need contactId
    # Tables read in the same run before the report: what it is reconciled against (so
    # the comparison sees today's books on both sides), or what picks its calls.
    after: tuple[str, ...] = ()


# The journals, the documents the ledger is rebuilt from, and the chart they post to: the
# ledger views and the reconciliation checks compare these reports with them.
_LEDGER = ("organisations", "accounts", "journals", "invoices", "credit_notes", "payments", "bank_transactions",
           "bank_transfers", "overpayments", "prepayments", "manual_journals", "expense_claims", "receipts")

REPORTS: tuple[XeroReport, ...] = (
    XeroReport("TrialBalance", "report_trial_balance", "accounting.reports.trialbalance.read", ("date", "paymentsOnly"),
               after=_LEDGER),
    XeroReport("ProfitAndLoss", "report_profit_and_loss", "accounting.reports.profitandloss.read",
               ("fromDate", "toDate", "periods", "timeframe", "standardLayout", "paymentsOnly"), after=_LEDGER),
    XeroReport("BalanceSheet", "report_balance_sheet", "accounting.reports.balancesheet.read",
               ("date", "periods", "timeframe", "standardLayout", "paymentsOnly"), after=_LEDGER),
    XeroReport("BankSummary", "report_bank_summary", "accounting.reports.banksummary.read", ("fromDate", "toDate")),
    XeroReport("ExecutiveSummary", "report_executive_summary", "accounting.reports.executivesummary.read", ("date",)),
    XeroReport("BudgetSummary", "report_budget_summary", "accounting.reports.budgetsummary.read",
               ("date", "periods", "timeframe")),
    XeroReport("AgedReceivablesByContact", "report_aged_receivables", "accounting.reports.aged.read",
               ("contactId", "date", "fromDate", "toDate"), per_contact=True, after=("invoices",)),
    XeroReport("AgedPayablesByContact", "report_aged_payables", "accounting.reports.aged.read",
               ("contactId", "date", "fromDate", "toDate"), per_contact=True, after=("invoices",)),
)

REPORTS_BY_NAME: dict[str, XeroReport] = {r.name.lower(): r for r in REPORTS}

# One row per value cell of a report, whichever report it is: the layout of every
# ``xero.report_*`` table, with what each column holds (shown in the UI's column schema).
_REPORT_LAYOUT: tuple[tuple[str, str, str], ...] = (
    ("tenant_id", "VARCHAR", "The Xero tenant id of the organisation the report is for: the asset's partition key "
     "(xero.tenants has its name)."),
    ("report", "VARCHAR", "Xero's report name, e.g. TrialBalance."),
    ("request", "VARCHAR", "The call's query string: GET /Reports/{report}?{request} repeats it."),
    ("report_date", "DATE", "The date the value is as at (a column's own date in multi-period reports)."),
    ("period_start", "DATE", "First day of the period a movement column covers; NULL for balances and text."),
    ("period_end", "DATE", "Last day of the period a movement column covers; NULL for balances and text."),
    ("contact_id", "VARCHAR", "Aged reports: the contact the call was for."),
    ("section", "VARCHAR", "Title of the enclosing Section (\"\" when untitled, NULL outside one)."),
    ("row_type", "VARCHAR", "Row or SummaryRow."),
    ("row_position", "INTEGER", "1-based order of the row in the response."),
    ("row_title", "VARCHAR", "The row's first cell: account name, total's name, document date."),
    ("account_id", "VARCHAR", "The account, from the cells' Attributes (Id \"account\" or \"accountID\")."),
    ("column_index", "INTEGER", "1-based position of the cell in its row (0: a title-only row)."),
    ("column_label", "VARCHAR", "The Header row's cell at that position."),
    ("value", "DECIMAL(38, 10)", "The cell as a number, NULL when it is not one."),
    ("value_text", "VARCHAR", "The cell exactly as Xero sent it."),
    ("attributes", "JSON", "Every Attribute of the row, {Id: Value}."),
    ("report_titles", "JSON", "The report's ReportTitles, as Xero sent them."),
    ("loaded_at", "TIMESTAMP", "When (UTC) the snapshot was loaded."),
)
REPORT_COLUMNS: tuple[tuple[str, str], ...] = tuple((name, sql_type) for name, sql_type, _ in _REPORT_LAYOUT)
REPORT_COLUMN_DOCS: dict[str, str] = {name: text for name, _, text in _REPORT_LAYOUT}
COLUMN_NAMES = tuple(name for name, _ in REPORT_COLUMNS)
