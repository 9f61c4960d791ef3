"""The ``ledger`` views as Dagster assets (group ``ledger``), downstream of the raw tables.

A view asset (re)creates its view in one transaction and then proves it works: it
counts the view's rows, which binds and runs the SQL against the current tables, so a
renamed column fails the asset rather than a user's query. It first creates, empty and
with the synced shape, any raw table the view reads that no sync has made yet (an
endpoint withheld from the app, such as classic expense claims, never makes one).

Not partitioned: a view covers every tenant, and one per tenant would be the same SQL
with a filter. They still ride along in each tenant's ``xero_sync`` run (Dagster runs
unpartitioned assets once in a partitioned run): rebuilding a view costs milliseconds
plus the count, and keeps its metadata (row count, columns) current. ``ledger_views``
rebuilds them alone, e.g. after an upgrade changed their SQL (``code_version`` is a
digest of it, so the UI shows which are stale).
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import dagster as dg

from xero_pipeline.defs.assets import asset_key
from xero_pipeline.defs.resources import WarehouseResource
from xero_pipeline.registry import BY_TABLE, OBJECTS
from xero_pipeline.warehouse.merge import Connection, ensure_table, q
from xero_pipeline.warehouse.shaping import child_shape, parent_shape
from xero_pipeline.warehouse.views import (
    LEDGER_SCHEMA,
    ageing_sql,
    cash_movements_sql,
    general_ledger_sql,
    profit_and_loss_monthly_sql,
    trial_balance_sql,
)

LEDGER_GROUP = "ledger"
LEDGER_JOB = "ledger_views"


@dataclass(frozen=True)
class LedgerView:
    name: str
    statements: tuple[str, ...]
    sources: tuple[str, ...]  # raw xero tables it reads (assets it depends on)
    description: str


LEDGER_VIEWS: tuple[LedgerView, ...] = (
    LedgerView(
        "general_ledger", tuple(general_ledger_sql()),
        ("journals", "journal_lines", "accounts", "contacts", "invoices", "credit_notes", "payments",
         "bank_transactions", "bank_transfers", "prepayments", "overpayments", "manual_journals", "expense_claims"),
        "One row per journal line of every posted document: journal date and number, the account's current "
        "code/name/type/class, net amount with debit and credit, tax, tracking_1/tracking_2 (name and option, "
        "slots numbered by category name), and the source document (type, id, number) with its contact.",
    ),
    LedgerView(
        "trial_balance", tuple(trial_balance_sql()), ("journals", "journal_lines", "accounts", "organisations"),
        "Each account's balance at every month end, from journals, as Xero's Trial Balance shows it: "
        "profit-and-loss accounts year to date, earlier years' profit in retained earnings, so a tenant's "
        "balances sum to zero. Also the month's movement; rows with neither are omitted.",
    ),
    LedgerView(
        "profit_and_loss_monthly", tuple(profit_and_loss_monthly_sql()), ("journals", "journal_lines", "accounts"),
        "Revenue and expense accounts by calendar month: net_amount (debit positive), amount as a profit and "
        "loss shows it (income and expenses both positive), profit (its effect on profit) and the section.",
    ),
    LedgerView(
        "receivables_ageing", tuple(ageing_sql("receivables_ageing", "ACCREC")), ("invoices", "contacts"),
        "Open sales invoices by customer and currency in buckets current/1-30/31-60/61-90/90+ days past due, "
        "as of today; `ledger.receivables_ageing_at(DATE '...')` ages them as of another date.",
    ),
    LedgerView(
        "payables_ageing", tuple(ageing_sql("payables_ageing", "ACCPAY")), ("invoices", "contacts"),
        "Open bills by supplier and currency in buckets current/1-30/31-60/61-90/90+ days past due, as of "
        "today; `ledger.payables_ageing_at(DATE '...')` ages them as of another date.",
    ),
    LedgerView(
        "cash_movements", tuple(cash_movements_sql()), ("journals", "journal_lines", "accounts"),
        "Each bank account by month: opening balance, money received, money spent (netted per source "
        "document and day, as Xero's Bank Summary does), net movement and closing balance.",
    ),
)


def view_key(name: str) -> dg.AssetKey:
    return dg.AssetKey([LEDGER_SCHEMA, name])


def _owner(table: str) -> str:
    """The registry object whose sync writes ``table`` (itself, or the parent of a child table)."""
    if table in BY_TABLE:
        return table
    for obj in OBJECTS:
        if any(c.table == table for c in obj.children):
            return obj.table
    raise KeyError(f"no Xero object writes the table {table!r}")


def ensure_sources(conn: Connection, tables: Sequence[str]) -> list[str]:
    """Create (empty, with the synced shape) any raw table a view reads that no sync made yet.

    An endpoint Xero withholds from this app (classic expense claims, for one) never
    creates its table, and a view over a missing table cannot even be created.
    """
    created = []
    for table in tables:
        obj = BY_TABLE[_owner(table)]
        shape = parent_shape(obj) if obj.table == table else child_shape(obj, obj.child(table))
        exists = conn.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = 'xero' AND table_name = ?", [table]
        ).fetchone()[0]
        if not exists:
            ensure_table(conn, shape)
            created.append(table)
    return created


def create_view(conn: Connection, view: LedgerView) -> int:
    """(Re)create the view in one transaction and return its row count (which checks it runs)."""
    conn.execute("BEGIN TRANSACTION")
    try:
        ensure_sources(conn, view.sources)
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {q(LEDGER_SCHEMA)}")
        for statement in view.statements:
            conn.execute(statement)
        rows = conn.execute(f"SELECT count(*) FROM {q(LEDGER_SCHEMA)}.{q(view.name)}").fetchone()[0]
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return int(rows)


def view_columns(conn: Connection, name: str) -> list[tuple[str, str]]:
    return [
        (r[0], r[1])
        for r in conn.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = current_database() "
            "AND schema_name = ? AND table_name = ? ORDER BY column_index", [LEDGER_SCHEMA, name]
        ).fetchall()
    ]


def build_view_asset(view: LedgerView) -> dg.AssetsDefinition:
    sql = ";\n\n".join(view.statements)

    @dg.asset(
        key=view_key(view.name),
        description=f"`{LEDGER_SCHEMA}.{view.name}` (a view over all tenants): {view.description}",
        group_name=LEDGER_GROUP,
        kinds={"duckdb", "sql"},
        deps=[asset_key(t) for t in view.sources],
        code_version=hashlib.blake2b(sql.encode(), digest_size=8).hexdigest(),
    )
    def _view(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        with warehouse.get_connection() as conn:
            rows = create_view(conn, view)
            columns = view_columns(conn, view.name)
        context.log.info(f"{LEDGER_SCHEMA}.{view.name}: {rows} rows")
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": dg.MetadataValue.int(rows),
                "dagster/column_schema": dg.TableSchema(columns=[dg.TableColumn(n, t) for n, t in columns]),
                "sql": dg.MetadataValue.md(f"```sql\n{sql}\n```"),
            }
        )

    return _view


def build_view_assets(views: Sequence[LedgerView] = LEDGER_VIEWS) -> list[dg.AssetsDefinition]:
    return [build_view_asset(v) for v in views]


ledger_job = dg.define_asset_job(
    LEDGER_JOB,
    selection=dg.AssetSelection.groups(LEDGER_GROUP),
    description="(Re)create the ledger views over every tenant and check that each one runs.",
)
