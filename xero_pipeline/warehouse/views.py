"""The ``ledger`` schema: accounting views over the raw ``xero`` tables.

Views, not tables: they are always as current as the last sync of any tenant, cost no
storage and no rebuild, and DuckDB pushes a query's ``tenant_id``/date filters into
them. An SMB ledger (hundreds of thousands of journal lines) aggregates in well under a
second. Every view covers all tenants; every row starts with ``tenant_id``.

Rules shared by all of them:

* Amounts come from journal lines (``xero.journal_lines``): Xero journals only posted
  documents, in base currency, debits positive, and a void or edit posts a reversal, so
  summing lines gives Xero's own numbers. Journals with ``_deleted_at`` are left out.
  For a tenant Xero refuses journals (or every tenant, XERO_LEDGER_SOURCE=documents) the
  lines come from the ledger rebuilt from its documents instead (``rebuilt``, view
  ``document_journal_lines``); ``ledger_choice`` decides, when the views are created.
* Account code, name, type and class are the account's current ones from
  ``xero.accounts`` (what Xero's reports show), falling back to the line's copy; an
  unknown class is derived from the type.
* Open invoices are AUTHORISED ones with ``amount_due`` left, live rows only.

The SQL is in ``sql/ledger/*.sql``; each ``*_sql`` function here fills in the parts
made from the tables below and returns the statements that (re)create one view.
``LEDGER_VIEWS`` lists the views with the raw tables they read, and ``create_view``
(re)creates one; ``defs/view_assets`` makes them assets.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from xero_pipeline.warehouse.access import ACCESS, ensure_access_table
from xero_pipeline.warehouse.ageing import ageing_sql
from xero_pipeline.warehouse import lake
from xero_pipeline.warehouse.connection import Connection, in_transaction
from xero_pipeline.warehouse.ledger_choice import LedgerChoice, choice_cte, read_choice, tenant_in
from xero_pipeline.warehouse.names import LEDGER_SCHEMA, SCHEMA, in_list, lit, q
from xero_pipeline.warehouse.rebuilt import REBUILT_SOURCES, rebuilt_cte, to_base_macro
from xero_pipeline.warehouse.sql import load
from xero_pipeline.warehouse.sync_state import STATE, ensure_state_table
from xero_pipeline.warehouse.tables import column_types
from xero_pipeline.warehouse.view_sources import ensure_sources, owner_object

PROFIT_AND_LOSS_CLASSES = ("REVENUE", "EXPENSE")

# Xero's account types by class (the spec's AccountType enum), for accounts missing from xero.accounts.
_CLASS_OF_TYPE = {
    "ASSET": ("BANK", "CURRENT", "FIXED", "INVENTORY", "NONCURRENT", "PREPAYMENT"),
    "LIABILITY": ("CURRLIAB", "LIABILITY", "TERMLIAB", "PAYGLIABILITY", "SUPERANNUATIONLIABILITY",
                  "WAGESPAYABLELIABILITY"),
    "EQUITY": ("EQUITY",),
    "EXPENSE": ("DEPRECIATN", "DIRECTCOSTS", "EXPENSE", "OVERHEADS", "SUPERANNUATIONEXPENSE", "WAGESEXPENSE"),
    "REVENUE": ("OTHERINCOME", "REVENUE", "SALES"),
}

# Journal SourceType -> the raw table whose record posted it (SourceID is that record's id).
SOURCE_DOCUMENTS: dict[str, tuple[str, ...]] = {
    "invoice": ("ACCREC", "ACCPAY"),
    "credit_note": ("ACCRECCREDIT", "ACCPAYCREDIT"),
    "payment": ("ACCRECPAYMENT", "ACCPAYPAYMENT", "ARCREDITPAYMENT", "APCREDITPAYMENT",
                "AROVERPAYMENTPAYMENT", "APOVERPAYMENTPAYMENT", "ARPREPAYMENTPAYMENT", "APPREPAYMENTPAYMENT"),
    "bank_transaction": ("CASHREC", "CASHPAID"),
    "bank_transfer": ("TRANSFER",),
    "prepayment": ("ARPREPAYMENT", "APPREPAYMENT"),
    "overpayment": ("AROVERPAYMENT", "APOVERPAYMENT"),
    "manual_journal": ("MANJOURNAL",),
    "expense_claim": ("EXPCLAIM",),
}


def _group_of(column: str, groups: Mapping[str, tuple[str, ...]]) -> str:
    """CASE expression naming the group whose values include ``column``'s (NULL if none does)."""
    whens = " ".join(f"WHEN {column} IN {in_list(values)} THEN {lit(name)}" for name, values in groups.items())
    return f"CASE {whens} END"


def source_document_sql(column: str) -> str:
    """CASE expression naming the raw table behind a journal's SourceType."""
    return _group_of(column, SOURCE_DOCUMENTS)


def account_class_sql(type_col: str) -> str:
    """CASE expression deriving an account's class from its type."""
    return _group_of(type_col, _CLASS_OF_TYPE)


def _fy_end(year: str) -> str:
    """The financial year end in ``year`` (a FinancialYearEndDay past the month's end means its last day)."""
    return f"make_date({year}, f.fy_month, least(f.fy_day, day(last_day(make_date({year}, f.fy_month, 1)))))"


def fy_start_sql(d: str) -> str:
    """First day of the financial year containing date ``d``; needs ``f.fy_month``/``f.fy_day``."""
    return (f"(CASE WHEN {d} > {_fy_end(f'year({d})')} THEN {_fy_end(f'year({d})')} "
            f"ELSE {_fy_end(f'year({d}) - 1')} END + 1)")


def posted_lines_cte(choice: LedgerChoice) -> str:
    """``posted``: every ledger line of every tenant (its journals, or its rebuilt ledger as
    ``choice`` says), with the account's current attributes."""
    return load("ledger/posted", xero=SCHEMA, ledger=LEDGER_SCHEMA,
                journals_rebuilt=tenant_in("j.tenant_id", choice), documents_rebuilt=tenant_in("r.tenant_id", choice),
                class_of_line_type=account_class_sql("coalesce(a.type, l.account_type)"),
                class_of_account_type=account_class_sql("a.type"))


def _month_grid(source: str, date_col: str) -> str:
    """``months``: every month from a tenant's first ``date_col`` in ``source`` to this month (or its last)."""
    return load("ledger/month_grid", source=source, date_col=date_col)


def general_ledger_sql(choice: LedgerChoice = LedgerChoice()) -> list[str]:
    return [load(
        "ledger/general_ledger", ledger=LEDGER_SCHEMA, xero=SCHEMA, posted=posted_lines_cte(choice),
        documents=load("ledger/documents", xero=SCHEMA), source_document=source_document_sql("p.source_type"),
    )]


def trial_balance_sql(choice: LedgerChoice = LedgerChoice()) -> list[str]:
    return [load(
        "ledger/trial_balance", ledger=LEDGER_SCHEMA, xero=SCHEMA, posted=posted_lines_cte(choice),
        month_grid=_month_grid("posted", "journal_date"), profit_and_loss=in_list(PROFIT_AND_LOSS_CLASSES),
        journal_fy_start=fy_start_sql("p.journal_date"), month_fy_start=fy_start_sql("last_day(m.month_start)"),
        class_of_type=account_class_sql("type"),
    )]


def profit_and_loss_monthly_sql(choice: LedgerChoice = LedgerChoice()) -> list[str]:
    return [load("ledger/profit_and_loss_monthly", ledger=LEDGER_SCHEMA, posted=posted_lines_cte(choice),
                 profit_and_loss=in_list(PROFIT_AND_LOSS_CLASSES))]


def cash_movements_sql(choice: LedgerChoice = LedgerChoice()) -> list[str]:
    return [load("ledger/cash_movements", ledger=LEDGER_SCHEMA, xero=SCHEMA, posted=posted_lines_cte(choice),
                 month_grid=_month_grid("bank", "journal_date"))]


def document_journal_lines_sql() -> list[str]:
    return [load("ledger/document_journal_lines", ledger=LEDGER_SCHEMA, xero=SCHEMA, rebuilt=rebuilt_cte(),
                 source_document=source_document_sql("r.source_type"))]


SOURCES_VIEW = "sources"


@dataclass(frozen=True)
class LedgerView:
    name: str
    build: Callable[[LedgerChoice], Sequence[str]]  # the statements, for the tenants' ledger sources
    sources: tuple[str, ...]  # raw xero tables it reads (assets it depends on)
    description: str
    reads: tuple[LedgerView, ...] = ()  # ledger views it reads (made first when missing)

    @property
    def statements(self) -> tuple[str, ...]:
        """The SQL as written, before any tenant's ledger is rebuilt (what the asset shows)."""
        return tuple(self.build(LedgerChoice()))


def _fixed(statements: Sequence[str]) -> Callable[[LedgerChoice], Sequence[str]]:
    return lambda _choice: tuple(statements)


_JOURNALS = ("journals", "journal_lines")
# Raw tables the ledger-line views read: the journals, and the documents they are rebuilt from.
_LEDGER_LINES = (*_JOURNALS, *REBUILT_SOURCES, "tax_rates")
_FROM = ("from journals, or from the ledger rebuilt from documents where Xero withholds a tenant's journals "
         "(ledger.ledger_source says which, per tenant)")


DOCUMENT_JOURNAL_LINES = LedgerView(
    "document_journal_lines", _fixed((to_base_macro(), *document_journal_lines_sql())), REBUILT_SOURCES,
    "The general ledger rebuilt from the documents with Xero's posting rules, for every tenant: one row "
    "per ledger line (date, account, net amount debit positive, tax), each naming its source document "
    "(type, id) and line; a voided or deleted document's lines are reversed on their own date. "
    "Reconciled to Xero's TrialBalance and ProfitAndLoss reports (and to journals, when available) by "
    "the asset checks.",
)


def _views() -> tuple[LedgerView, ...]:
    rebuilt = (DOCUMENT_JOURNAL_LINES,)
    return (
        LedgerView(
            "ledger_source", lambda c: (load("ledger/ledger_source", ledger=LEDGER_SCHEMA, choice=choice_cte(c)),),
            ("journals",),
            "Per tenant, where its general ledger, trial balance, monthly P&L and cash movements come from: "
            "`journals` (Xero's own, when Xero serves them to this app) or `documents` (the ledger rebuilt from "
            "its invoices, payments, bank transactions and other documents, when Xero refuses journals, or for "
            "every tenant when XERO_LEDGER_SOURCE=documents), and why.",
        ),
        DOCUMENT_JOURNAL_LINES,
        LedgerView(
            "general_ledger", lambda c: general_ledger_sql(c),
            (*_LEDGER_LINES, "contacts", "invoices", "credit_notes", "payments", "bank_transactions",
             "bank_transfers", "prepayments", "overpayments", "manual_journals", "expense_claims"),
            "One row per ledger line of every posted document, " + _FROM + ": date and journal number, the "
            "account's current code/name/type/class, net amount with debit and credit, tax, tracking_1/tracking_2 "
            "(name and option, slots numbered by category name), the source document (type, id, number) with "
            "its contact, and ledger_source.",
            reads=rebuilt,
        ),
        LedgerView(
            "trial_balance", lambda c: trial_balance_sql(c), (*_LEDGER_LINES, "organisations"),
            "Each account's balance at every month end, " + _FROM + ", as Xero's Trial Balance shows it: "
            "profit-and-loss accounts year to date, earlier years' profit in retained earnings, so a tenant's "
            "balances sum to zero. Also the month's movement; rows with neither are omitted.",
            reads=rebuilt,
        ),
        LedgerView(
            "profit_and_loss_monthly", lambda c: profit_and_loss_monthly_sql(c), _LEDGER_LINES,
            "Revenue and expense accounts by calendar month, " + _FROM + ": net_amount (debit positive), amount "
            "as a profit and loss shows it (income and expenses both positive), profit (its effect on profit) "
            "and the section.",
            reads=rebuilt,
        ),
        LedgerView(
            "receivables_ageing", _fixed(ageing_sql("receivables_ageing", "ACCREC")), ("invoices", "contacts"),
            "Open sales invoices by customer and currency in buckets current/1-30/31-60/61-90/90+ days past due, "
            "as of today; `ledger.receivables_ageing_at(DATE '...')` ages them as of another date.",
        ),
        LedgerView(
            "payables_ageing", _fixed(ageing_sql("payables_ageing", "ACCPAY")), ("invoices", "contacts"),
            "Open bills by supplier and currency in buckets current/1-30/31-60/61-90/90+ days past due, as of "
            "today; `ledger.payables_ageing_at(DATE '...')` ages them as of another date.",
        ),
        LedgerView(
            "cash_movements", lambda c: cash_movements_sql(c), _LEDGER_LINES,
            "Each bank account by month, " + _FROM + ": opening balance, money received, money spent (netted "
            "per source document and day, as Xero's Bank Summary does), net movement and closing balance.",
            reads=rebuilt,
        ),
    )


def source_objects(views: Sequence[LedgerView]) -> dict[str, tuple[str, ...]]:
    """Each Xero object the views read (a child table counts as its parent) -> the views reading it."""
    used: dict[str, list[str]] = {}
    for view in views:
        for obj in dict.fromkeys(owner_object(t) for t in view.sources):
            used.setdefault(obj, []).append(view.name)
    return {obj: tuple(names) for obj, names in sorted(used.items())}


def sources_sql(views: Sequence[LedgerView]) -> list[str]:
    rows = ", ".join(f"({lit(obj)}, {lit(', '.join(names))})" for obj, names in source_objects(views).items())
    return [load("ledger/sources", ledger=LEDGER_SCHEMA, state=STATE, access=ACCESS, sources=rows)]


_OTHER_VIEWS = _views()

LEDGER_VIEWS: tuple[LedgerView, ...] = (
    LedgerView(
        SOURCES_VIEW, _fixed(sources_sql(_OTHER_VIEWS)),
        tuple(dict.fromkeys(t for v in _OTHER_VIEWS for t in v.sources)),
        "Per tenant, each Xero object the other ledger views read: whether Xero serves it to this app "
        "(`available`) and, when not, why (`reason`, `needs_scope`), since when and when it is asked again. "
        "Without journals (Xero's Advanced tier) the ledger views read the ledger rebuilt from documents "
        "instead (ledger.ledger_source); without a document type, the rebuild lacks it.",
    ),
    *_OTHER_VIEWS,
)


def is_macro(statement: str) -> bool:
    code = "\n".join(line for line in statement.splitlines() if not line.lstrip().startswith("--"))
    return code.lstrip().upper().startswith("CREATE OR REPLACE MACRO")


def create_view(conn: Connection, view: LedgerView, *, documents_always: bool = False) -> int:
    """(Re)create the view in one transaction and return its row count (which checks it runs).

    ``documents_always`` (XERO_LEDGER_SOURCE=documents): every tenant's ledger views read the
    ledger rebuilt from documents, not only those of tenants Xero refuses journals.
    """
    for before in view.reads:
        if not column_types(conn, before.name, LEDGER_SCHEMA):
            create_view(conn, before, documents_always=documents_always)
    def build() -> int:
        ensure_sources(conn, view.sources)
        # The pipeline's own tables, which ledger.sources reads; a fresh warehouse has neither.
        ensure_state_table(conn)
        ensure_access_table(conn)
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {q(LEDGER_SCHEMA)}")
        on_lake = lake.is_lake(conn)
        for statement in view.build(read_choice(conn, documents_always=documents_always)):
            if not (on_lake and is_macro(statement)):  # DuckLake has no macros; the views do not need them
                conn.execute(statement)
        return int(conn.execute(f"SELECT count(*) FROM {q(LEDGER_SCHEMA)}.{q(view.name)}").fetchone()[0])

    return in_transaction(conn, build)


def view_columns(conn: Connection, name: str) -> list[tuple[str, str]]:
    """(column, SQL type) of one ledger view, in order."""
    return column_types(conn, name, LEDGER_SCHEMA)
