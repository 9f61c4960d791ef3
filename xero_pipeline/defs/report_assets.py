"""Xero's standard reports as tenant-partitioned assets ``xero/report_<name>``.

They sit in their own group, ``xero_reports``, though their tables live beside the raw
ones in schema ``xero``: the group shows them apart in the UI and lets a run select or
skip them (they cost API calls and describe the books rather than copy them), while the
daily ``xero_sync`` job selects both groups so each tenant's run refreshes them.
"""

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime

import dagster as dg
from pydantic import Field

from xero_pipeline.defs.availability import access_gate, unavailable_results
from xero_pipeline.defs.keys import KINDS, asset_key
from xero_pipeline.defs.partitions import tenant_partitions
from xero_pipeline.defs.resources import WarehouseResource, XeroResource
from xero_pipeline.defs.tenant_names import name_metadata, tenant_name
from xero_pipeline.errors import XeroApiError, XeroBudgetReached, XeroDailyLimitError
from xero_pipeline.registry import REPORT_COLUMN_DOCS, REPORT_COLUMNS, REPORTS, XeroReport
from xero_pipeline.sync.access import Endpoint, is_refusal
from xero_pipeline.warehouse.reports import open_contacts, replace_report_rows
from xero_pipeline.warehouse.sync_state import park_tenant, parked_until
from xero_pipeline.xero.reports import (
    AGED_INVOICE_TYPE,
    fetch_report,
    flatten_report,
    plan_calls,
    xero_today,
)

REPORTS_GROUP = "xero_reports"
# After every object (assets.XeroObject.run_priority); the aged reports, one call per
# contact, take only what the others leave of the day.
REPORT_PRIORITY = 0
PER_CONTACT_PRIORITY = -10
DEFAULT_MAX_CONTACTS = 100

_WHAT = {
    "TrialBalance": "at each of the last {n} month ends, one call per month end ({n} calls): per account the "
    "month's Debit/Credit and the YTD Debit/YTD Credit balance",
    "ProfitAndLoss": "for this month and the {m} before it, one call per calendar month ({n} calls; with "
    "periods Xero would cut every earlier month to this month's number of days): one value per account and month",
    "BalanceSheet": "at the last {n} month ends, in one call (periods={m}, timeframe=MONTH)",
    "BankSummary": "for this month to date, in one call: per bank account the opening balance (report_date: "
    "the day before the month's first, as Xero's 'at the start of fromDate'), cash received and spent "
    "(period_start..period_end) and the closing balance (report_date: today); every month, from journals: "
    "`ledger.cash_movements`",
    "ExecutiveSummary": "as at today, in one call: this month against the previous one",
    "BudgetSummary": "of the overall budget for the same {n} months as the profit and loss, in one call, "
    "so budget and actual join on period_start",
    "AgedReceivablesByContact": "as at today, one call per customer with authorised invoices still due "
    "(from `xero.invoices`, largest balance first, at most max_contacts = {c} calls; the rest are counted in "
    "the metadata as contacts_not_reported)",
    "AgedPayablesByContact": "as at today, one call per supplier with authorised bills still due "
    "(from `xero.invoices`, largest balance first, at most max_contacts = {c} calls; the rest are counted in "
    "the metadata as contacts_not_reported)",
}


class ReportConfig(dg.Config):
    """Run config shared by the report assets; the defaults suit a daily refresh."""

    months: int = Field(default=12, ge=1, le=12, description="Months (or month ends) each report covers.")
    max_contacts: int = Field(
        default=DEFAULT_MAX_CONTACTS, ge=0,
        description="Aged reports: at most this many contacts (one call each), largest open balance first.",
    )
    as_of: str = Field(default="", description="YYYY-MM-DD to run the reports as at; empty: today by Xero's clock.")


def describe_report(report: XeroReport, *, months: int = 12, max_contacts: int = DEFAULT_MAX_CONTACTS) -> str:
    what = _WHAT[report.name].format(n=months, m=months - 1, c=max_contacts)
    return (
        f"Xero's {report.name} report {what}. Table `xero.{report.table}`: one row per value cell (row title, "
        "account_id, column label, DECIMAL value and the text as sent), with the request that produced it. "
        "Each load replaces the tenant's rows in one transaction, because a report is a snapshot. "
        f"Needs the Xero scope `{report.scope}`."
    )


def build_report_asset(report: XeroReport) -> dg.AssetsDefinition:
    # After what it is reconciled against (or, for the aged reports, the invoices that pick
    # their contacts), so a run compares today's books with today's report.
    deps = [asset_key(t) for t in report.after]

    @dg.asset(
        key=asset_key(report.table),
        description=describe_report(report),
        group_name=REPORTS_GROUP,
        partitions_def=tenant_partitions,
        kinds=KINDS,
        deps=deps,
        tags={"xero/report": report.name},
        op_tags={"dagster/priority": str(PER_CONTACT_PRIORITY if report.per_contact else REPORT_PRIORITY)},
        # Left out when the tenant's calls for the day ran out before it: the last snapshot
        # stays, and nothing downstream pretends it is today's.
        output_required=False,
    )
    def _report(
        context: dg.AssetExecutionContext, config: ReportConfig, xero: XeroResource, warehouse: WarehouseResource
    ) -> Iterator[dg.MaterializeResult]:
        tenant = context.partition_key
        endpoint, gate = Endpoint.of_report(report), access_gate(xero, warehouse, tenant)
        tables = {report.table: asset_key(report.table)}
        with warehouse.get_connection() as conn:
            gone = gate.before(endpoint, conn=conn)
            parked = parked_until(conn, tenant, now=datetime.now(UTC))
        if gone:
            yield from unavailable_results(context, tenant, endpoint, gone, tables)
            return
        client = xero.get_client()
        if parked is not None:
            client.park(tenant, parked)
        calls_before = client.stats.calls
        try:
            today = date.fromisoformat(config.as_of) if config.as_of else xero_today(client, tenant)
        except (XeroBudgetReached, XeroDailyLimitError) as exc:
            _defer(context, report, tenant, exc, warehouse, parked)
            return
        meta: dict[str, object] = {}
        contacts: list[str] = []
        if report.per_contact:
            with warehouse.get_connection() as conn:
                owing = open_contacts(conn, tenant, AGED_INVOICE_TYPE[report.name])
            contacts = owing[: config.max_contacts]
            meta["contacts_with_open_balance"] = dg.MetadataValue.int(len(owing))
            meta["contacts_not_reported"] = dg.MetadataValue.int(len(owing) - len(contacts))
            if len(owing) > len(contacts):
                context.log.warning(
                    f"tenant {tenant}: {len(owing)} contacts owe; reporting the {len(contacts)} largest (max_contacts)"
                )
        calls = plan_calls(report, today=today, months_back=config.months, contact_ids=contacts)
        loaded_at = datetime.now(UTC)
        rows: list[dict] = []
        refused: list[str] = []
        for call in calls:
            try:
                body = fetch_report(client, tenant, call)
            except (XeroBudgetReached, XeroDailyLimitError) as exc:
                _defer(context, report, tenant, exc, warehouse, parked)
                return
            except XeroApiError as exc:
                if is_refusal(exc):  # a scope the app lacks: not available, the old snapshot kept
                    yield from unavailable_results(context, tenant, endpoint, gate.refused(endpoint), tables)
                    return
                # A contact merged or archived since the sync is a 400 for its own call only;
                # anything else (scope, limits, outages) fails the asset and keeps the old snapshot.
                if call.contact_id and exc.status in (400, 404):
                    refused.append(call.contact_id)
                    context.log.warning(f"tenant {tenant}: {report.name} for contact {call.contact_id}: {exc}")
                    continue
                raise
            rows.extend(flatten_report(body, call, tenant_id=tenant, loaded_at=loaded_at))
        with warehouse.get_connection() as conn:
            total = replace_report_rows(conn, report.table, tenant, rows)
            if gate.had_refusal:
                gate.served(endpoint, conn=conn)
        api_calls = client.stats.calls - calls_before
        context.log.info(f"tenant {tenant}: {report.name} as at {today}: {len(calls)} report calls, {total} rows")
        meta.update({
            **name_metadata(tenant_name(context, xero)),
            "dagster/row_count": dg.MetadataValue.int(total),
            "dagster/column_schema": dg.TableSchema(
                columns=[dg.TableColumn(n, t, description=REPORT_COLUMN_DOCS[n]) for n, t in REPORT_COLUMNS]),
            "api_calls": dg.MetadataValue.int(api_calls),
            "report_calls": dg.MetadataValue.int(len(calls)),
            "as_of": dg.MetadataValue.text(today.isoformat()),
            "day_limit_remaining": dg.MetadataValue.int(
                client.stats.day_remaining if client.stats.day_remaining is not None else -1
            ),
        })
        if report.per_contact:
            meta["contacts_refused"] = dg.MetadataValue.int(len(refused))
        yield dg.MaterializeResult(metadata=meta)

    return _report


def _defer(context: dg.AssetExecutionContext, report: XeroReport, tenant: str,
           exc: XeroBudgetReached | XeroDailyLimitError, warehouse: WarehouseResource, parked: datetime | None) -> None:
    """Leave the report for a run with calls to spare: reports come last in a tenant's day."""
    if isinstance(exc, XeroDailyLimitError) and parked is None:
        with warehouse.get_connection() as conn:
            park_tenant(conn, tenant, exc.resets_at, now=datetime.now(UTC))
    context.log.warning(f"tenant {tenant}: {report.name} not refreshed today: {exc}. The last snapshot stays.")


def build_report_assets(reports: Sequence[XeroReport] = REPORTS) -> list[dg.AssetsDefinition]:
    return [build_report_asset(r) for r in reports]
