"""The ageing views' SQL: open invoices or bills by contact, in buckets of days past due."""

from __future__ import annotations

from xero_pipeline.warehouse.names import LEDGER_SCHEMA, SCHEMA, lit
from xero_pipeline.warehouse.sql import load

AGEING_BUCKETS = (  # (column, lowest days past due, highest); "current" is not yet due
    ("due_current", None, 0),
    ("due_1_30", 1, 30),
    ("due_31_60", 31, 60),
    ("due_61_90", 61, 90),
    ("due_over_90", 91, None),
)


def ageing_sql(name: str, invoice_type: str) -> list[str]:
    """A table macro ``<name>_at(as_of)`` and the view ``<name>`` (as of today); a DuckLake
    skips the macro (``views.create_view``).

    Ages the amounts open now by days past their due date at ``as_of``; documents dated
    after ``as_of`` are left out, as Xero's aged reports do. Payments made after a past
    ``as_of`` are not added back. Amounts are in the document's currency (one row per
    contact and currency); ``total_due_base`` converts at each document's own rate.
    """
    buckets = []
    for column, low, high in AGEING_BUCKETS:
        cond = " AND ".join(c for c in (f"days_overdue >= {low}" if low is not None else "",
                                         f"days_overdue <= {high}" if high is not None else "") if c)
        buckets.append(f"coalesce(sum(amount_due) FILTER (WHERE {cond}), 0) AS {column}")
    def body(as_of: str) -> str:
        return load("ledger/ageing_at", xero=SCHEMA, as_of=as_of, invoice_type=lit(invoice_type),
                    buckets=", ".join(buckets))

    macro = load("ledger/ageing_macro", ledger=LEDGER_SCHEMA, name=name, body=body("as_of"))
    view = load("ledger/ageing_view", ledger=LEDGER_SCHEMA, name=name, body=body("current_date"))
    return [macro, view]
