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
