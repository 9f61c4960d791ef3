"""Xero's standard reports by name: ``build_report(books, "TrialBalance", {"date": "2026-10-31"})``.

Returns one Report in the ``ReportWithRow`` shape; the HTTP layer wraps it in
``{"Reports": [...]}``. An unknown report name raises ``KeyError``; a missing or
malformed parameter raises ``ValueError`` with a message fit for a 400 response.
Parameter names are matched case-insensitively. ``paymentsOnly`` (cash basis) and
``standardLayout`` are accepted and ignored: every report is on the accrual basis in
the standard layout.
"""

from __future__ import annotations

from collections.abc import Callable

from xero_pipeline.sandbox.books.store import TenantBooks
from xero_pipeline.sandbox.reports import balances, flows, more

_BUILDERS: dict[str, Callable[[TenantBooks, dict[str, str]], dict]] = {
    "trialbalance": balances.trial_balance_report,
    "profitandloss": flows.profit_and_loss_report,
    "balancesheet": balances.balance_sheet_report,
    "banksummary": flows.bank_summary_report,
    "executivesummary": more.executive_summary_report,
    "budgetsummary": more.budget_summary_report,
    "agedreceivablesbycontact": more.aged_receivables_report,
    "agedpayablesbycontact": more.aged_payables_report,
}


def build_report(books: TenantBooks, name: str, params: dict[str, str]) -> dict:
    """One report by its path name (``TrialBalance``, ``ProfitAndLoss``, …)."""
    try:
        builder = _BUILDERS[name.lower()]
    except KeyError:
        raise KeyError(f"no report named {name!r}") from None
    with books.lock:
        return builder(books, {str(k).lower(): v for k, v in (params or {}).items()})
