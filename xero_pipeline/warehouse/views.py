"""The ``ledger`` schema: accounting views over the raw ``xero`` tables, as SQL text.

Views, not tables: they are always as current as the last sync of any tenant, cost no
storage and no rebuild, and DuckDB pushes a query's ``tenant_id``/date filters into
them. An SMB ledger (hundreds of thousands of journal lines) aggregates in well under a
second. Every view covers all tenants; every row starts with ``tenant_id``.

Rules shared by all of them:

* Amounts come from journal lines (``xero.journal_lines``): Xero journals only posted
  documents, in base currency, debits positive, and a void or edit posts a reversal, so
  summing lines gives Xero's own numbers. Journals with ``_deleted_at`` are left out.
* Account code, name, type and class are the account's current ones from
  ``xero.accounts`` (what Xero's reports show), falling back to the line's copy; an
  unknown class is derived from the type.
* Open invoices are AUTHORISED ones with ``amount_due`` left, live rows only.

Each ``*_sql`` function returns the statements that (re)create one view; ``view_assets``
lists them with the raw tables they read.
"""

from __future__ import annotations

LEDGER_SCHEMA = "ledger"
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

AGEING_BUCKETS = (  # (column, lowest days past due, highest); "current" is not yet due
    ("due_current", None, 0),
    ("due_1_30", 1, 30),
    ("due_31_60", 31, 60),
    ("due_61_90", 61, 90),
    ("due_over_90", 91, None),
)


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def source_document_sql(column: str) -> str:
    """CASE expression naming the raw table behind a journal's SourceType."""
    whens = " ".join(f"WHEN {column} IN {_in(types)} THEN '{doc}'" for doc, types in SOURCE_DOCUMENTS.items())
    return f"CASE {whens} END"


def account_class_sql(type_col: str) -> str:
    whens = " ".join(f"WHEN {type_col} IN {_in(types)} THEN '{cls}'" for cls, types in _CLASS_OF_TYPE.items())
    return f"CASE {whens} END"


def posted_lines_cte() -> str:
    """``posted``: every line of every live journal, with the account's current attributes."""
    return f"""posted AS (
    SELECT j.tenant_id, j.journal_id, j.journal_number, j.journal_date, j.created_date_utc,
           j.reference, j.source_id, j.source_type,
           l.journal_line_id, l._position AS line_position, l.account_id,
           coalesce(a.code, l.account_code) AS account_code,
           coalesce(a.name, l.account_name) AS account_name,
           coalesce(a.type, l.account_type) AS account_type,
           coalesce(a.class, {account_class_sql('coalesce(a.type, l.account_type)')}) AS account_class,
           a.system_account, l.description, l.net_amount, l.gross_amount, l.tax_amount,
           l.tax_type, l.tax_name, l.tracking_categories
    FROM xero.journals j
    JOIN xero.journal_lines l ON l.tenant_id = j.tenant_id AND l.journal_id = j.journal_id
    LEFT JOIN xero.accounts a ON a.tenant_id = l.tenant_id AND a.account_id = l.account_id
    WHERE j._deleted_at IS NULL
)"""


def _documents_cte() -> str:
    """``documents``: (tenant, kind, id) -> number and contact, one row per raw record.

    Deleted records stay in: their journals (and reversals) still exist.
    """
    # A payment names its document's contact in the nested Invoice/CreditNote/...; the
    # synced document is the fallback when Xero left the nested contact out.
    nested = ("p.invoice", "p.credit_note", "p.prepayment", "p.overpayment")
    contact = "coalesce(" + ", ".join(f"{n}->'Contact'->>'{{0}}'" for n in nested) + ", i.{1}, c.{1})"
    return f"""documents AS (
    SELECT tenant_id, 'invoice' AS document, invoice_id AS source_id, invoice_number AS number,
           contact_id, contact->>'Name' AS contact_name FROM xero.invoices
    UNION ALL SELECT tenant_id, 'credit_note', credit_note_id, credit_note_number, contact_id, contact->>'Name'
           FROM xero.credit_notes
    UNION ALL SELECT p.tenant_id, 'payment', p.payment_id,
           coalesce(p.invoice_number, p.credit_note_number, nullif(p.reference, '')),
           {contact.format("ContactID", "contact_id")},
           {contact.format("Name", "contact->>'Name'")}
           FROM xero.payments p
           LEFT JOIN xero.invoices i ON i.tenant_id = p.tenant_id AND i.invoice_id = p.invoice_id
           LEFT JOIN xero.credit_notes c ON c.tenant_id = p.tenant_id AND c.credit_note_id = p.credit_note_id
    UNION ALL SELECT tenant_id, 'bank_transaction', bank_transaction_id, nullif(reference, ''), contact_id,
           contact->>'Name' FROM xero.bank_transactions
    UNION ALL SELECT tenant_id, 'bank_transfer', bank_transfer_id, nullif(reference, ''), NULL, NULL
           FROM xero.bank_transfers
    UNION ALL SELECT tenant_id, 'prepayment', prepayment_id, coalesce(invoice_number, nullif(reference, '')),
           contact_id, contact->>'Name' FROM xero.prepayments
    UNION ALL SELECT tenant_id, 'overpayment', overpayment_id, nullif(reference, ''), contact_id, contact->>'Name'
           FROM xero.overpayments
    UNION ALL SELECT tenant_id, 'manual_journal', manual_journal_id, NULL, NULL, NULL FROM xero.manual_journals
    UNION ALL SELECT tenant_id, 'expense_claim', expense_claim_id, NULL, NULL, NULL FROM xero.expense_claims
)"""


def general_ledger_sql() -> list[str]:
    # Tracking slots are numbered by category name within the tenant, not by position in
    # the line's array (Xero's order varies by line), so tracking_1 is always the same category.
    return [f"""CREATE OR REPLACE VIEW {LEDGER_SCHEMA}.general_ledger AS
WITH {posted_lines_cte()},
{_documents_cte()},
tags AS (
    SELECT l.tenant_id, l.journal_line_id, t.value->>'Name' AS category, t.value->>'Option' AS option
    FROM xero.journal_lines l, json_each(l.tracking_categories) t
),
slots AS (
    SELECT tenant_id, category, dense_rank() OVER (PARTITION BY tenant_id ORDER BY category) AS slot
    FROM (SELECT DISTINCT tenant_id, category FROM tags)
),
tracking AS (
    SELECT t.tenant_id, t.journal_line_id,
           max(t.category) FILTER (WHERE s.slot = 1) AS tracking_1_name,
           max(t.option) FILTER (WHERE s.slot = 1) AS tracking_1_option,
           max(t.category) FILTER (WHERE s.slot = 2) AS tracking_2_name,
           max(t.option) FILTER (WHERE s.slot = 2) AS tracking_2_option
    FROM tags t JOIN slots s USING (tenant_id, category)
    GROUP BY t.tenant_id, t.journal_line_id
)
SELECT p.tenant_id, p.journal_date, p.journal_number, p.journal_id, p.created_date_utc AS journal_created_utc,
       p.reference AS journal_reference, p.journal_line_id, p.line_position,
       p.account_id, p.account_code, p.account_name, p.account_type, p.account_class,
       p.description, p.net_amount, greatest(p.net_amount, 0) AS debit, greatest(-p.net_amount, 0) AS credit,
       p.gross_amount, p.tax_amount, p.tax_type, p.tax_name,
       t.tracking_1_name, t.tracking_1_option, t.tracking_2_name, t.tracking_2_option,
       p.source_type, {source_document_sql('p.source_type')} AS source_document, p.source_id,
       d.number AS source_number, d.contact_id, coalesce(k.name, d.contact_name) AS contact_name
FROM posted p
LEFT JOIN tracking t ON t.tenant_id = p.tenant_id AND t.journal_line_id = p.journal_line_id
LEFT JOIN documents d ON d.tenant_id = p.tenant_id AND d.source_id = p.source_id
    AND d.document = {source_document_sql('p.source_type')}
LEFT JOIN xero.contacts k ON k.tenant_id = d.tenant_id AND k.contact_id = d.contact_id"""]


def _fy_end(year: str) -> str:
    """The financial year end in ``year`` (a FinancialYearEndDay past the month's end means its last day)."""
    return f"make_date({year}, f.fy_month, least(f.fy_day, day(last_day(make_date({year}, f.fy_month, 1)))))"


def fy_start_sql(d: str) -> str:
    """First day of the financial year containing date ``d``; needs ``f.fy_month``/``f.fy_day``."""
    return (f"(CASE WHEN {d} > {_fy_end(f'year({d})')} THEN {_fy_end(f'year({d})')} "
            f"ELSE {_fy_end(f'year({d}) - 1')} END + 1)")


def _fiscal_cte() -> str:
    # An organisation without a FinancialYearEnd (not synced yet) is treated as a calendar year.
    return """fiscal AS (
    SELECT t.tenant_id, coalesce(o.fy_month, 12) AS fy_month, coalesce(o.fy_day, 31) AS fy_day
    FROM (SELECT DISTINCT tenant_id FROM posted) t
    LEFT JOIN (SELECT tenant_id, any_value(financial_year_end_month) AS fy_month,
                      any_value(financial_year_end_day) AS fy_day
               FROM xero.organisations WHERE _deleted_at IS NULL GROUP BY tenant_id) o USING (tenant_id)
)"""


def _month_grid(source: str, date_col: str) -> str:
    """``months``: every month from a tenant's first ``date_col`` in ``source`` to this month (or its last)."""
    return f"""bounds AS (
    SELECT tenant_id, date_trunc('month', min({date_col})) AS first_month,
           date_trunc('month', greatest(max({date_col}), current_date)) AS last_month
    FROM {source} GROUP BY tenant_id
),
months AS (
    SELECT tenant_id, CAST(unnest(generate_series(first_month, last_month, INTERVAL 1 MONTH)) AS DATE) AS month_start
    FROM bounds
)"""


def trial_balance_sql() -> list[str]:
    # Xero's trial balance: balance-sheet accounts cumulative; profit-and-loss accounts
    # since the start of the financial year, with earlier years' profit rolled into the
    # retained-earnings account, so every month's balances still sum to zero.
    pl = _in(PROFIT_AND_LOSS_CLASSES)
    return [f"""CREATE OR REPLACE VIEW {LEDGER_SCHEMA}.trial_balance AS
WITH {posted_lines_cte()},
{_fiscal_cte()},
monthly AS (
    SELECT p.tenant_id, p.account_id, last_day(p.journal_date) AS month_end,
           {fy_start_sql('p.journal_date')} AS fy_start, p.account_class IN {pl} AS is_pl,
           sum(p.net_amount) AS movement
    FROM posted p JOIN fiscal f USING (tenant_id)
    GROUP BY ALL
),
{_month_grid('posted', 'journal_date')},
used AS (
    SELECT DISTINCT tenant_id, account_id FROM posted
    UNION SELECT tenant_id, account_id FROM xero.accounts WHERE system_account = 'RETAINEDEARNINGS'
),
grid AS (
    SELECT u.tenant_id, u.account_id, m.month_start, last_day(m.month_start) AS month_end,
           {fy_start_sql('last_day(m.month_start)')} AS fy_start
    FROM used u JOIN months m USING (tenant_id) JOIN fiscal f USING (tenant_id)
),
totals AS (
    SELECT g.tenant_id, g.account_id, g.month_start, g.month_end,
           coalesce(sum(mo.movement) FILTER (WHERE mo.month_end = g.month_end), 0) AS movement,
           coalesce(sum(mo.movement), 0) AS cumulative,
           coalesce(sum(mo.movement) FILTER (WHERE mo.fy_start = g.fy_start), 0) AS year_to_date,
           coalesce(sum(mo.movement) FILTER (WHERE mo.is_pl AND mo.fy_start < g.fy_start), 0) AS own_earlier_profit
    FROM grid g
    LEFT JOIN monthly mo ON mo.tenant_id = g.tenant_id AND mo.account_id = g.account_id AND mo.month_end <= g.month_end
    GROUP BY ALL
),
earlier_profit AS (
    SELECT tenant_id, month_end, sum(own_earlier_profit) AS amount FROM totals GROUP BY ALL
),
accounts AS (
    SELECT DISTINCT ON (tenant_id, account_id) tenant_id, account_id, account_code, account_name, account_type,
           account_class, system_account
    FROM (SELECT tenant_id, account_id, code AS account_code, name AS account_name, type AS account_type,
                 coalesce(class, {account_class_sql('type')}) AS account_class, system_account, 0 AS pref
          FROM xero.accounts
          UNION ALL
          SELECT tenant_id, account_id, account_code, account_name, account_type, account_class, system_account, 1
          FROM posted)
    ORDER BY tenant_id, account_id, pref
),
balances AS (
    SELECT t.tenant_id, t.month_start, t.month_end, t.account_id, a.account_code, a.account_name,
           a.account_type, a.account_class, t.movement,
           CASE WHEN a.account_class IN {pl} THEN t.year_to_date
                WHEN a.system_account = 'RETAINEDEARNINGS' THEN t.cumulative + e.amount
                ELSE t.cumulative END AS balance
    FROM totals t
    JOIN earlier_profit e USING (tenant_id, month_end)
    LEFT JOIN accounts a USING (tenant_id, account_id)
)
SELECT tenant_id, month_start, month_end, account_id, account_code, account_name, account_type, account_class,
       movement, balance, greatest(balance, 0) AS debit, greatest(-balance, 0) AS credit
FROM balances
WHERE balance <> 0 OR movement <> 0"""]


def profit_and_loss_monthly_sql() -> list[str]:
    return [f"""CREATE OR REPLACE VIEW {LEDGER_SCHEMA}.profit_and_loss_monthly AS
WITH {posted_lines_cte()}
SELECT tenant_id, date_trunc('month', journal_date)::DATE AS month_start, last_day(journal_date) AS month_end,
       account_id, any_value(account_code) AS account_code, any_value(account_name) AS account_name,
       account_type, account_class,
       CASE WHEN account_type IN ('REVENUE', 'SALES') THEN 'Income'
            WHEN account_type = 'DIRECTCOSTS' THEN 'Cost of Sales'
            WHEN account_type = 'OTHERINCOME' THEN 'Other Income'
            ELSE 'Operating Expenses' END AS section,
       sum(net_amount) AS net_amount,
       CASE WHEN account_class = 'REVENUE' THEN -sum(net_amount) ELSE sum(net_amount) END AS amount,
       -sum(net_amount) AS profit
FROM posted
WHERE account_class IN {_in(PROFIT_AND_LOSS_CLASSES)}
GROUP BY tenant_id, month_start, month_end, account_id, account_type, account_class"""]


def cash_movements_sql() -> list[str]:
    # Money in and out is judged per source document and day, as Xero's Bank Summary
    # does: a receipt voided the same day nets to nothing instead of counting twice.
    return [f"""CREATE OR REPLACE VIEW {LEDGER_SCHEMA}.cash_movements AS
WITH {posted_lines_cte()},
bank AS (
    SELECT tenant_id, account_id, journal_date, coalesce(source_id, journal_id) AS source, sum(net_amount) AS amount
    FROM posted WHERE account_type = 'BANK' GROUP BY ALL
),
monthly AS (
    SELECT tenant_id, account_id, date_trunc('month', journal_date)::DATE AS month_start,
           coalesce(sum(amount) FILTER (WHERE amount > 0), 0) AS received,
           coalesce(-sum(amount) FILTER (WHERE amount < 0), 0) AS spent
    FROM bank GROUP BY ALL
),
{_month_grid('bank', 'journal_date')},
flows AS (
    SELECT a.tenant_id, a.account_id, m.month_start, coalesce(mo.received, 0) AS received,
           coalesce(mo.spent, 0) AS spent
    FROM (SELECT DISTINCT tenant_id, account_id FROM bank) a
    JOIN months m USING (tenant_id)
    LEFT JOIN monthly mo USING (tenant_id, account_id, month_start)
)
SELECT f.tenant_id, f.month_start, last_day(f.month_start) AS month_end, f.account_id,
       acc.code AS account_code, acc.name AS account_name,
       sum(f.received - f.spent) OVER w - (f.received - f.spent) AS opening_balance,
       f.received, f.spent, f.received - f.spent AS net_movement,
       sum(f.received - f.spent) OVER w AS closing_balance
FROM flows f
LEFT JOIN xero.accounts acc ON acc.tenant_id = f.tenant_id AND acc.account_id = f.account_id
WINDOW w AS (PARTITION BY f.tenant_id, f.account_id ORDER BY f.month_start)"""]


def ageing_sql(name: str, invoice_type: str) -> list[str]:
    """A table macro ``<name>_at(as_of)`` and the view ``<name>`` (as of today).

    Ages the amounts open now by days past their due date at ``as_of``; documents dated
    after ``as_of`` are left out, as Xero's aged reports do. Payments made after a past
    ``as_of`` are not added back. Amounts are in the document's currency (one row per
    contact and currency); ``total_due_base`` converts at each document's own rate.
    """
    days = "date_diff('day', coalesce(i.due_date, i.date), CAST(as_of AS DATE))"
    buckets = []
    for column, low, high in AGEING_BUCKETS:
        cond = " AND ".join(c for c in (f"days_overdue >= {low}" if low is not None else "",
                                         f"days_overdue <= {high}" if high is not None else "") if c)
        buckets.append(f"coalesce(sum(amount_due) FILTER (WHERE {cond}), 0) AS {column}")
    macro = f"""CREATE OR REPLACE MACRO {LEDGER_SCHEMA}.{name}_at(as_of) AS TABLE
WITH open_documents AS (
    SELECT i.tenant_id, CAST(as_of AS DATE) AS ageing_date, i.contact_id,
           coalesce(c.name, i.contact->>'Name') AS contact_name, i.currency_code, i.amount_due, {days} AS days_overdue,
           CAST(round(CAST(i.amount_due AS DOUBLE) / CAST(coalesce(nullif(i.currency_rate, 0), 1) AS DOUBLE), 2)
                AS DECIMAL(38, 2)) AS amount_due_base
    FROM xero.invoices i
    LEFT JOIN xero.contacts c ON c.tenant_id = i.tenant_id AND c.contact_id = i.contact_id
    WHERE i.type = '{invoice_type}' AND i.status = 'AUTHORISED' AND i.amount_due <> 0
      AND i._deleted_at IS NULL AND i.date <= CAST(as_of AS DATE)
)
SELECT tenant_id, ageing_date AS as_of, contact_id, any_value(contact_name) AS contact_name, currency_code,
       count(*) AS documents, {', '.join(buckets)},
       sum(amount_due) AS total_due, sum(amount_due_base) AS total_due_base
FROM open_documents
GROUP BY tenant_id, ageing_date, contact_id, currency_code"""
    view = f"CREATE OR REPLACE VIEW {LEDGER_SCHEMA}.{name} AS SELECT * FROM {LEDGER_SCHEMA}.{name}_at(current_date)"
    return [macro, view]
