"""The warehouse's data checks as plain SQL and plain functions: no Dagster here.

The SQL is in ``sql/checks/*.sql``. Each ``check_*`` function takes an open connection
and one tenant, runs its SQL and
returns a ``Finding`` whose description names the tenant and up to ``SAMPLE`` offending
keys. ``checks.py`` turns findings into Dagster asset check results.

What each check proves:

* keys: the table's key (tenant_id + Xero id, or parent id + element id/position) is
  unique and never NULL for the tenant. The merge upserts on that key, so a violation
  means a bug or a hand edit, and every join on the table would double count.
* journals balance: a live journal has lines and they net to zero (Xero posts double
  entry; the tax is its own line), so a difference is a lost or duplicated line, and a
  journal with no lines lost them all.
* totals match lines: SubTotal is the sum of LineAmount (less TotalTax when amounts are
  tax-inclusive) and Total = SubTotal + TotalTax, per document, as Xero computes them.
* item count: Xero's ``pagination.itemCount`` for the sync's read equals the rows the
  warehouse holds for that read (see ``check_item_count`` for the in-flight edits rule).
* trial balance: each account's balance summed from journal lines equals the
  TrialBalance report's YTD column for the report's date.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from xero_pipeline.warehouse.connection import Connection
from xero_pipeline.warehouse.names import SCHEMA, in_list, lit, q, qualified
from xero_pipeline.warehouse.sql import load
from xero_pipeline.warehouse.tables import table_columns, table_exists
from xero_pipeline.warehouse.views import PROFIT_AND_LOSS_CLASSES

SAMPLE = 10  # offending keys named in a finding
ERROR, WARN = "ERROR", "WARN"
REPORT_TABLE = "report_trial_balance"  # written by warehouse/reports.py (layout: registry.REPORT_COLUMNS)
# Bank transfers appear as SPEND-/RECEIVE-TRANSFER bank transactions with no lines.
TOTALS_EXEMPT = {"bank_transactions": "type NOT IN ('SPEND-TRANSFER', 'RECEIVE-TRANSFER')"}


@dataclass(frozen=True)
class Finding:
    passed: bool
    description: str
    severity: str = ERROR
    metadata: dict[str, Any] = field(default_factory=dict)
    # False when the check could not compare (a side not loaded yet): recorded as skipped,
    # neither a pass nor a failure.
    evaluated: bool = True


def _keys_text(rows: Sequence[Sequence[Any]]) -> str:
    return "; ".join("/".join("NULL" if v is None else str(v) for v in r) for r in rows[:SAMPLE])


# ----------------------------------------------------------------------------- keys


def _key_fragments(key: Sequence[str]) -> dict[str, str]:
    """The key's columns as a list, and the condition that any of them is NULL."""
    cols = [q(k) for k in key]
    return {"key": ", ".join(cols), "key_is_null": " OR ".join(f"{c} IS NULL" for c in cols)}


def key_violations_sql(table: str, key: Sequence[str], schema: str = SCHEMA) -> str:
    """Duplicate and NULL keys of one tenant (parameter: tenant twice), worst first.

    Rows with a NULL tenant_id belong to no tenant, so every tenant's check reports them.
    """
    rest = [k for k in key if k != "tenant_id"]
    return load("checks/key_violations", table=qualified(table, schema), **_key_fragments(rest))


def check_keys(conn: Connection, table: str, key: Sequence[str], tenant: str) -> Finding:
    if not table_exists(conn, table):
        return Finding(False, f"tenant {tenant}: table xero.{table} does not exist", metadata={"tenant_id": tenant})
    rows = conn.execute(key_violations_sql(table, key), [tenant, tenant]).fetchall()
    dupes = sum(r[1] - 1 for r in rows if r[0] == "duplicate")
    nulls = sum(r[1] for r in rows if r[0] == "null key")
    meta = {"tenant_id": tenant, "table": table, "key": ", ".join(key),
            "duplicate_rows": dupes, "null_key_rows": nulls}
    if not rows:
        return Finding(True, f"tenant {tenant}: every key of xero.{table} is unique and set", metadata=meta)
    sample = _keys_text([r[2:] for r in rows])
    meta["offending_keys"] = sample
    return Finding(
        False,
        f"tenant {tenant}: xero.{table} has {dupes} duplicate and {nulls} NULL-key row(s) on "
        f"({', '.join(key)}); keys: {sample}",
        metadata=meta,
    )


def check_table_keys(conn: Connection, table: str, key: Sequence[str]) -> Finding:
    """The same for a table that is not per tenant (``xero.tenants``, keyed by tenant_id)."""
    if not table_exists(conn, table):
        return Finding(False, f"table xero.{table} does not exist")
    sql = load("checks/table_key_violations", table=qualified(table, SCHEMA), **_key_fragments(key))
    rows = conn.execute(sql).fetchall()
    meta = {"table": table, "key": ", ".join(key), "offending_groups": len(rows)}
    if not rows:
        return Finding(True, f"every key of xero.{table} is unique and set", metadata=meta)
    meta["offending_keys"] = _keys_text([r[1:] for r in rows])
    return Finding(False, f"xero.{table} has duplicate or NULL keys ({', '.join(key)}): {meta['offending_keys']}",
                   metadata=meta)


# ----------------------------------------------------------------------------- journals


def unbalanced_journals_sql(schema: str = SCHEMA) -> str:
    return load("checks/unbalanced_journals", xero=q(schema))


def check_journals_balance(conn: Connection, tenant: str) -> Finding:
    rows = conn.execute(unbalanced_journals_sql(), [tenant]).fetchall()
    empty = sum(1 for r in rows if r[3] == 0)
    meta: dict[str, Any] = {"tenant_id": tenant, "unbalanced_journals": len(rows) - empty,
                            "journals_without_lines": empty}
    if not rows:
        return Finding(True, f"tenant {tenant}: every journal has lines and they net to zero", metadata=meta)
    meta["offending_keys"] = _keys_text(rows)
    return Finding(False, f"tenant {tenant}: {len(rows) - empty} journal(s) do not net to zero and {empty} have "
                          f"no lines (journal_id/number/off by/lines): {meta['offending_keys']}", metadata=meta)


# ----------------------------------------------------------------------------- totals


def totals_mismatch_sql(table: str, pk: str, lines_table: str, schema: str = SCHEMA) -> str:
    """Documents whose SubTotal/Total disagree with their lines (parameter: tenant twice)."""
    exempt = TOTALS_EXEMPT.get(table)
    return load(
        "checks/totals_mismatch", table=qualified(table, schema), lines_table=qualified(lines_table, schema),
        pk=q(pk), counted=f"d.{exempt}" if exempt else "TRUE",
    )


def check_totals(conn: Connection, table: str, pk: str, lines_table: str, tenant: str) -> Finding:
    rows = conn.execute(totals_mismatch_sql(table, pk, lines_table), [tenant, tenant]).fetchall()
    meta: dict[str, Any] = {"tenant_id": tenant, "table": table, "mismatched_documents": len(rows)}
    if not rows:
        return Finding(True, f"tenant {tenant}: every {table} total equals its lines plus tax", metadata=meta)
    meta["offending_keys"] = _keys_text(rows)
    return Finding(
        False,
        f"tenant {tenant}: {len(rows)} row(s) of xero.{table} disagree with xero.{lines_table} "
        f"({pk}/line_amount_types/sub_total/total_tax/total/sum of lines): {meta['offending_keys']}",
        metadata=meta,
    )


# ----------------------------------------------------------------------------- item count


def item_count_sql(table: str, updated: str, schema: str = SCHEMA) -> str:
    """Rows of the read window: (all of them, those changed before the read began).

    Parameters: read start, read start, tenant, since (NULL: a full read), since. Xero
    compares If-Modified-Since to the second, so the window's lower bound is too.
    """
    return load("checks/item_count", table=qualified(table, schema), updated=q(updated))


def check_item_count(
    conn: Connection, table: str, updated: str, tenant: str, *,
    item_count: int, since: datetime | None, read_started: datetime | None,
) -> Finding:
    """Xero counted ``item_count`` records at the read's first page. Every one of them is
    in the warehouse, possibly with a later UpdatedDateUTC if edited while we paged, so
    the window holds at least that many; and every row changed before the read began
    was counted, so those are at most that many. With no edits in flight both are equal."""
    naive = [None if t is None else t.replace(tzinfo=None) for t in (since, read_started)]
    start = naive[1]
    params = [start, start, tenant, naive[0], naive[0]]
    held, before = conn.execute(item_count_sql(table, updated), params).fetchone()
    window = f"changed since {since.isoformat()}" if since else "in total"
    meta = {"tenant_id": tenant, "table": table, "xero_item_count": item_count, "warehouse_rows": held,
            "warehouse_rows_before_read": before, "window": window}
    if before <= item_count <= held:
        return Finding(True, f"tenant {tenant}: Xero counted {item_count} {table} {window}; "
                             f"the warehouse holds {held}", metadata=meta)
    lost = item_count > held
    return Finding(
        False,
        f"tenant {tenant}: Xero's itemCount for {table} {window} is {item_count}, but the warehouse holds {held} "
        f"such row(s) ({before} changed before the read began): "
        + ("records were lost" if lost else "rows exist that Xero did not count (duplicates or stale data)"),
        metadata=meta,
    )


# ----------------------------------------------------------------------------- trial balance


def fy_start(end_day: int, end_month: int, d: date) -> date:
    """First day of the financial year containing ``d`` (year ends on day/month)."""

    def end(year: int) -> date:
        first_next = date(year + (end_month == 12), end_month % 12 + 1, 1)
        last = first_next - timedelta(days=1)
        return last.replace(day=min(end_day, last.day))

    this_end = end(d.year)
    return this_end + timedelta(days=1) if d > this_end else end(d.year - 1) + timedelta(days=1)


JOURNAL_LINES = ("SELECT j.tenant_id, l.account_id, j.journal_date, l.net_amount FROM {xero}.journals j "
                 "JOIN {xero}.journal_lines l USING (tenant_id, journal_id) WHERE j.tenant_id = ?")


def trial_balance_diff_sql(dates: Sequence[tuple[date, date]], schema: str = SCHEMA, *, lines: str = "") -> str:
    """Accounts whose balance from ``lines`` (default: journals) differs from the report's YTD columns.

    ``dates``: (report date, start of its financial year) pairs. ``lines``: a query of one
    tenant's ledger lines (tenant_id, account_id, journal_date, net_amount). Parameters: tenant three
    times. Profit-and-loss accounts count from the start of the financial year; their
    earlier balance belongs to Retained Earnings, as in Xero's report. The report table
    (``reports.py``) holds one row per cell: YTD Debit and YTD Credit per account.
    """
    values = ", ".join(f"(DATE {lit(d.isoformat())}, DATE {lit(fy.isoformat())})" for d, fy in dates)
    return load("checks/trial_balance_diff", dates=values, xero=q(schema), report=qualified(REPORT_TABLE, schema),
                profit_and_loss=in_list(PROFIT_AND_LOSS_CLASSES),
                lines=lines or JOURNAL_LINES.format(xero=q(schema)))


REPORT_NEEDS = ("tenant_id", "report_date", "account_id", "column_label", "value", "loaded_at")


def _skip(tenant: str, why: str, meta: dict[str, Any]) -> Finding:
    return not_evaluated(tenant, why, meta)


def not_evaluated(tenant: str, why: str, meta: dict[str, Any]) -> Finding:
    return Finding(False, f"not evaluated for tenant {tenant}: {why}", WARN, {**meta, "status": "skipped"},
                   evaluated=False)


def check_trial_balance(conn: Connection, tenant: str) -> Finding:
    """Journals vs the TrialBalance report, or a WARN saying why it could not compare."""
    meta: dict[str, Any] = {"tenant_id": tenant, "report_table": f"xero.{REPORT_TABLE}"}
    if not table_exists(conn, REPORT_TABLE):
        return _skip(tenant, f"report not loaded yet (no table xero.{REPORT_TABLE}); materialize "
                             f"xero/{REPORT_TABLE}", meta)
    columns = table_columns(conn, REPORT_TABLE)
    missing = [c for c in REPORT_NEEDS if c not in columns]
    if missing:
        return _skip(tenant, f"xero.{REPORT_TABLE} lacks the column(s) {', '.join(missing)}", meta)
    for needed in ("organisations", "accounts", "journals", "journal_lines"):
        if not table_exists(conn, needed):
            return _skip(tenant, f"xero.{needed} not loaded yet", meta)
    report = qualified(REPORT_TABLE, SCHEMA)
    loaded, dates = conn.execute(load("checks/report_dates", report=report), [tenant]).fetchone()
    if loaded is None or not dates:
        return _skip(tenant, "report not loaded yet for this tenant", meta)
    synced = conn.execute(f"SELECT max(_synced_at) FROM {qualified('journals', SCHEMA)} WHERE tenant_id = ?",
                          [tenant]).fetchone()[0]
    if synced is not None and synced > loaded:
        # Journals arrived after the report was fetched: comparing would flag the new
        # journals, not a fault. The report's next load (same run, after journals) compares.
        return _skip(tenant, f"the report was loaded at {loaded:%Y-%m-%d %H:%M:%S}, before the journals loaded "
                             f"at {synced:%Y-%m-%d %H:%M:%S}; it is compared after its next load",
                     {**meta, "report_loaded_at": loaded.isoformat(), "journals_synced_at": synced.isoformat()})
    org = conn.execute(
        f"SELECT financial_year_end_day, financial_year_end_month FROM {qualified('organisations', SCHEMA)} "
        "WHERE tenant_id = ? AND _deleted_at IS NULL", [tenant]).fetchone()
    if org is None or None in org:
        return _skip(tenant, "the organisation's financial year end is not loaded", meta)
    pairs = [(d, fy_start(int(org[0]), int(org[1]), d)) for d in dates]
    rows = conn.execute(trial_balance_diff_sql(pairs), [tenant, tenant, tenant]).fetchall()
    meta.update({"report_dates": ", ".join(d.isoformat() for d in dates), "accounts_differing": len(rows),
                 "status": "compared"})
    span = f"{dates[0]} .. {dates[-1]}" if len(dates) > 1 else str(dates[0])
    if not rows:
        return Finding(True, f"tenant {tenant}: the trial balance from journals equals Xero's report at "
                             f"{len(dates)} date(s) ({span})", metadata=meta)
    meta["offending_keys"] = _keys_text(rows)
    return Finding(False, f"tenant {tenant}: {len(rows)} account balance(s) differ from Xero's trial balance "
                          f"(report date/account_id/from journals/from report): {meta['offending_keys']}. "
                          "A journal posted between the journals sync and the report load also shows here "
                          "until the next sync.", metadata=meta)
