"""The ``ledger`` views as Dagster assets (group ``ledger``), downstream of the raw tables.

A view asset (re)creates its view in one transaction and then proves it works: it
counts the view's rows, which binds and runs the SQL against the current tables, so a
renamed column fails the asset rather than a user's query. It first creates, empty and
with the synced shape, any raw table the view reads that no sync has made yet (an
endpoint withheld from the app, such as classic expense claims, never makes one).
When Xero withholds a view's source from a tenant, the view lacks it for that tenant:
the asset logs a warning naming the tenants and lists them in its metadata, and
``ledger.sources`` says so to anyone querying. Journals are the exception that matters:
without them (no Advanced tier) the ledger views read the ledger rebuilt from the
tenant's documents (``ledger.document_journal_lines``), chosen when the views are made,
as XERO_LEDGER_SOURCE allows; ``ledger.ledger_source`` says which source each tenant's read.

Not partitioned: a view covers every tenant, and one per tenant would be the same SQL
with a filter. They still ride along in each tenant's ``xero_sync`` run (Dagster runs
unpartitioned assets once in a partitioned run), all of them in one step and one
warehouse session: rebuilding a view costs milliseconds plus the count, and keeps its
metadata (row count, columns) current. ``ledger_views``
rebuilds them alone, e.g. after an upgrade changed their SQL (``code_version`` is a
digest of it, so the UI shows which are stale).
"""

import hashlib
from collections.abc import Iterator, Sequence

import dagster as dg

from xero_pipeline.config import ledger_documents_always
from xero_pipeline.defs.keys import asset_key
from xero_pipeline.defs.resources import WarehouseResource
from xero_pipeline.warehouse.column_docs import ledger_column_docs
from xero_pipeline.warehouse.ledger_choice import read_choice
from xero_pipeline.warehouse.names import LEDGER_SCHEMA
from xero_pipeline.warehouse.view_sources import unavailable_sources
from xero_pipeline.warehouse.views import (
    DOCUMENT_JOURNAL_LINES,
    LEDGER_VIEWS,
    SOURCES_VIEW,
    LedgerView,
    create_view,
    view_columns,
)

LEDGER_GROUP = "ledger"
LEDGER_JOB = "ledger_views"
REBUILT_FOR_KEY = "ledger_rebuilt_from_documents_for"  # metadata: tenants whose ledger lines are rebuilt


def view_key(name: str) -> dg.AssetKey:
    return dg.AssetKey([LEDGER_SCHEMA, name])


def _view_spec(view: LedgerView) -> dg.AssetSpec:
    sql = ";\n\n".join(view.statements)
    return dg.AssetSpec(
        view_key(view.name),
        description=f"`{LEDGER_SCHEMA}.{view.name}` (a view over all tenants): {view.description}",
        group_name=LEDGER_GROUP,
        kinds={"duckdb", "sql"},
        deps=[*(asset_key(t) for t in view.sources), *(view_key(v.name) for v in view.reads)],
        code_version=hashlib.blake2b(sql.encode(), digest_size=8).hexdigest(),
    )


def build_views_asset(views: Sequence[LedgerView], *, name: str) -> dg.AssetsDefinition:
    """The views as one step: one warehouse session and one step per run instead of one of
    each per view (a session costs ~80 ms of opening the file, a step ~15 Dagster events,
    and the views ride along in every tenant's run). Each view stays its own asset, with
    its own materialization; a subset runs what is selected (``views`` is in build order)."""

    @dg.multi_asset(name=name, specs=[_view_spec(v) for v in views], can_subset=True)
    def _views(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> Iterator[dg.MaterializeResult]:
        chosen = [v for v in views if view_key(v.name) in context.selected_asset_keys]
        built: list[tuple[LedgerView, int, list[tuple[str, str]], list[tuple[str, str, str]]]] = []
        with warehouse.get_connection(queries=True) as conn:
            # XERO_LEDGER_SOURCE is read when the views are made, so a bad value fails here, saying so.
            documents_always = ledger_documents_always()
            for view in chosen:
                rows = create_view(conn, view, documents_always=documents_always)
                built.append((view, rows, view_columns(conn, view.name), unavailable_sources(conn, view.sources)))
            rebuilt_for = read_choice(conn, documents_always=documents_always).rebuilt_tenants
        for view, rows, columns, missing in built:
            yield _materialization(context, view, rows, columns, missing, rebuilt_for)

    return _views


def _materialization(context: dg.AssetExecutionContext, view: LedgerView, rows: int, columns: list[tuple[str, str]],
                     missing: list[tuple[str, str, str]], rebuilt_for: Sequence[str]) -> dg.MaterializeResult:
    context.log.info(f"{LEDGER_SCHEMA}.{view.name}: {rows} rows")
    docs = ledger_column_docs(view.name)
    tenants = sorted({tenant for tenant, _, _ in missing})
    if tenants and view.name != SOURCES_VIEW:
        objects = ", ".join(sorted({obj for _, obj, _ in missing}))
        # Without journals the view reads the ledger rebuilt from documents: say so, not that it is empty.
        rebuilt = "journals" in view.sources and any(obj == "journals" for _, obj, _ in missing)
        context.log.warning(
            f"{LEDGER_SCHEMA}.{view.name} lacks {objects} for tenant(s) {', '.join(tenants)}: Xero does not "
            f"make them available to this app, so the view shows nothing from them there (see "
            f"{LEDGER_SCHEMA}.{SOURCES_VIEW} for why)"
            + (f"; where journals are refused it reads the ledger rebuilt from documents instead "
               f"({LEDGER_SCHEMA}.ledger_source)" if rebuilt else "")
        )
    sql = ";\n\n".join(view.statements)
    return dg.MaterializeResult(
        asset_key=view_key(view.name),
        metadata={
            "dagster/row_count": dg.MetadataValue.int(rows),
            "dagster/column_schema": dg.TableSchema(
                columns=[dg.TableColumn(n, t, description=docs.get(n)) for n, t in columns]),
            "sql": dg.MetadataValue.md(f"```sql\n{sql}\n```"),
            "tenants_missing_sources": dg.MetadataValue.int(len(tenants)),
            **_ledger_source_metadata(view, rebuilt_for),
            "unavailable_sources": dg.MetadataValue.md(
                "\n".join(f"- {tenant}: {obj}: {why}" for tenant, obj, why in missing) or "- none"),
        },
    )


def _ledger_source_metadata(view: LedgerView, rebuilt_for: Sequence[str]) -> dict[str, dg.MetadataValue]:
    """For a view over ledger lines: the tenants whose lines it reads from the rebuilt ledger."""
    if DOCUMENT_JOURNAL_LINES not in view.reads:
        return {}
    listed = "\n".join(f"- {tenant}" for tenant in rebuilt_for) or "- none: every tenant's journals"
    return {REBUILT_FOR_KEY: dg.MetadataValue.md(listed)}


def build_view_assets(views: Sequence[LedgerView] = LEDGER_VIEWS) -> list[dg.AssetsDefinition]:
    return [build_views_asset(views, name="ledger_views_refresh")]


def build_rebuilt_view_asset() -> dg.AssetsDefinition:
    """``ledger/document_journal_lines`` alone: what the rebuilt ledger's checks read, in a tenant's run."""
    return build_views_asset((DOCUMENT_JOURNAL_LINES,), name="ledger_rebuilt_view")


ledger_job = dg.define_asset_job(
    LEDGER_JOB,
    selection=dg.AssetSelection.groups(LEDGER_GROUP),
    description="(Re)create the ledger views over every tenant and check that each one runs.",
)
