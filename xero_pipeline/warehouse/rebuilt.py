"""The general ledger rebuilt from the documents, for tenants whose journals Xero withholds.

Since March 2026 ``/Journals`` needs Xero's Advanced tier, and custom connections made
since 29 April 2026 have no journal access at all. Every document that changes the
books is still readable, so the ledger is posted again here, with Xero's own rules,
in SQL over the warehouse (``sql/ledger/rebuilt/*.sql``; the rules are written beside
each document family). ``rebuilt_cte`` is the CTE chain ending in ``rebuilt``: one row
per ledger line, in the shape the ``ledger`` views need, each naming its source document.

``REBUILT_SOURCES`` are the raw tables it reads. The conversion to base currency they share
is written ``${ledger}.to_base(amount, rate)`` in the SQL and spelt out at each use
(``inline_to_base``): a DuckLake has no macros. On a DuckDB file ``to_base_macro`` also
creates it as a macro in schema ``ledger``, for people's own queries.
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


TO_BASE_CALL = f"{LEDGER_SCHEMA}.to_base("


def to_base_macro() -> str:
    """The statement (re)creating ``ledger.to_base(amount, rate)`` (DuckDB files only)."""
    return load("ledger/rebuilt/to_base_macro", ledger=LEDGER_SCHEMA, body=to_base_sql("amount", "rate"))


def to_base_sql(amount: str, rate: str) -> str:
    text = load("ledger/rebuilt/to_base", amount=amount, rate=rate)
    return "(" + "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--")) + ")"


def _arguments(sql: str, start: int) -> tuple[list[str], int]:
    """The comma-separated arguments of the call whose ``(`` is just before ``start``, and the
    index after its ``)``; commas inside parentheses or strings belong to an argument."""
    args, depth, quoted, begin = [], 0, False, start
    for i in range(start, len(sql)):
        ch = sql[i]
        if ch == "'":
            quoted = not quoted
        elif quoted:
            continue
        elif ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif ch == ")" or (ch == "," and not depth):
            args.append(sql[begin:i].strip())
            begin = i + 1
            if ch == ")":
                return args, i + 1
    raise ValueError(f"unclosed call in SQL near: {sql[start - 20:start + 60]!r}")


def inline_to_base(sql: str) -> str:
    """``sql`` with every ``ledger.to_base(amount, rate)`` replaced by the expression itself."""
    out, at = [], 0
    while (found := sql.find(TO_BASE_CALL, at)) >= 0:
        args, end = _arguments(sql, found + len(TO_BASE_CALL))
        if len(args) != 2:
            raise ValueError(f"to_base takes (amount, rate), not {len(args)} arguments: {sql[found:end]!r}")
        out += [sql[at:found], to_base_sql(*args)]
        at = end
    return "".join(out) + sql[at:]


def rebuilt_cte() -> str:
    """``rebuilt`` (and its helper CTEs, named ``rb_*``): the ledger posted from the documents."""
    return inline_to_base(load(
        "ledger/rebuilt/lines",
        system_accounts=load("ledger/rebuilt/system_accounts", xero=SCHEMA),
        line_documents=load("ledger/rebuilt/line_documents", xero=SCHEMA),
        line_postings=load("ledger/rebuilt/line_postings", ledger=LEDGER_SCHEMA),
        settlements=load("ledger/rebuilt/settlements", xero=SCHEMA, ledger=LEDGER_SCHEMA),
    ))
