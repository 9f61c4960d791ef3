"""The general ledger rebuilt from the documents, for tenants whose journals Xero withholds.

Since March 2026 ``/Journals`` needs Xero's Advanced tier, and custom connections made
since 29 April 2026 have no journal access at all. Every document that changes the
books is still readable, so the ledger is posted again here, with Xero's own rules,
in SQL over the warehouse (``sql/ledger/rebuilt/*.sql``; the rules are written beside
each document family). ``rebuilt_cte`` is the CTE chain ending in ``rebuilt``: one row
per ledger line, in the shape the ``ledger`` views need, each naming its source document.

``REBUILT_SOURCES`` are the raw tables it reads; ``to_base_macro`` is the conversion to
base currency they share (a macro in schema ``ledger``, created with any view using it).
"""

from __future__ import annotations

from xero_pipeline.warehouse.names import LEDGER_SCHEMA, SCHEMA
from xero_pipeline.warehouse.sql import load

REBUILT_SOURCES: tuple[str, ...] = (
    "accounts", "invoices", "invoice_line_items", "credit_notes", "credit_note_line_items", "payments",
    "bank_transactions", "bank_transaction_line_items", "bank_transfers", "overpayments", "overpayment_line_items",
    "prepayments", "prepayment_line_items", "prepayment_allocations", "manual_journals", "manual_journal_lines",
    "expense_claims", "expense_claim_receipts", "receipts", "receipt_line_items",
)


def to_base_macro() -> str:
    """The statement (re)creating ``ledger.to_base(amount, rate)``."""
    return load("ledger/rebuilt/to_base", ledger=LEDGER_SCHEMA)


def rebuilt_cte() -> str:
    """``rebuilt`` (and its helper CTEs, named ``rb_*``): the ledger posted from the documents."""
    return load(
        "ledger/rebuilt/lines",
        system_accounts=load("ledger/rebuilt/system_accounts", xero=SCHEMA),
        line_documents=load("ledger/rebuilt/line_documents", xero=SCHEMA),
        line_postings=load("ledger/rebuilt/line_postings", ledger=LEDGER_SCHEMA),
        settlements=load("ledger/rebuilt/settlements", xero=SCHEMA, ledger=LEDGER_SCHEMA),
    )
