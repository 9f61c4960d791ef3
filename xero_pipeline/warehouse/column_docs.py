"""What each warehouse column holds, in words: for the column schemas the UI shows.

A column filled from a Xero field carries Xero's own description of that field (from the
OpenAPI spec, ``registry.descriptions``); the columns the pipeline adds carry ours.
Pure: no I/O, the shapes come from ``shaping``.
"""

from __future__ import annotations

from xero_pipeline.registry import Child, XeroObject
from xero_pipeline.registry.descriptions import field_descriptions
from xero_pipeline.registry.fields import enum_values, field_kinds
from xero_pipeline.warehouse.shaping import TableShape, outer_column, parent_key_column
from xero_pipeline.warehouse.tenants import COLUMNS as TENANT_COLUMNS

TENANT_ID = ("The Xero tenant id of the organisation the row belongs to: the asset's partition key "
             "(xero.tenants has its name).")
# Ours, on every table that has them (see shaping and merge).
PIPELINE_COLUMNS = {
    "tenant_id": TENANT_ID,
    "_hash": "Digest of the record as Xero sent it; a sync compares it to tell changed records from unchanged.",
    "_synced_at": "When (UTC) the sync that last wrote this row ran.",
    "_deleted_at": ("When (UTC) a sync found that Xero no longer returns the record (deleted outright, without "
                    "a status); NULL while it is live. Filter `_deleted_at IS NULL` for the live set."),
    "_position": "0-based position of the element in its parent's array, in Xero's order.",
    "_parent_position": "0-based position, in the parent record, of the element this one is nested in.",
}


def _undescribed(schema: str, field: str, kind: str) -> str:
    """Our words for a field the spec leaves undescribed: mostly nested objects and enums."""
    if kind.startswith("array:"):
        return f"Xero's {field} (a list of {kind.removeprefix('array:')}), as JSON."
    if kind.startswith("object:"):
        what = kind.removeprefix("object:")
        return f"Xero's {field} object, as JSON." if what == field else f"Xero's {field} (a {what}), as JSON."
    values = enum_values(schema, field)
    return f"Xero's {field}: one of {', '.join(values)}." if values else ""


def _xero_columns(shape: TableShape, schema: str) -> dict[str, str]:
    xero, kinds = field_descriptions(schema), field_kinds(schema)
    docs = {}
    for f, (column, _) in shape.fields.items():
        text = xero.get(f) or _undescribed(schema, f, kinds.get(f, ""))
        if text:
            docs[column] = text
    for f, (column, id_field) in shape.id_columns.items():
        docs[column] = f"The {id_field} of `{shape.fields[f][0]}`, copied out of that JSON so it can be joined on."
    return docs


def object_column_docs(obj: XeroObject, shape: TableShape) -> dict[str, str]:
    """Column -> description for the table of ``obj`` (``shape`` is its ``parent_shape``)."""
    return {**_xero_columns(shape, obj.schema), **{c: t for c, t in PIPELINE_COLUMNS.items() if c in shape.columns}}


def child_column_docs(obj: XeroObject, child: Child, shape: TableShape) -> dict[str, str]:
    """Column -> description for a child table of ``obj`` (``shape`` is its ``child_shape``)."""
    parent = parent_key_column(obj)
    docs = {**_xero_columns(shape, child.schema), **{c: t for c, t in PIPELINE_COLUMNS.items() if c in shape.columns}}
    docs[parent] = f"The {obj.primary_key} of the {obj.schema} the row belongs to (xero.{obj.table}.{parent})."
    if child.within:
        outer = obj.child(child.within)
        ref = outer_column(outer)
        if ref != "_parent_position":
            docs[ref] = f"The {outer.key} of the xero.{outer.table} row this element is nested in."
    return docs


def tenant_column_docs() -> dict[str, str]:
    """Column -> description for ``xero.tenants`` (Xero's identity API describes /connections)."""
    xero = field_descriptions("Connection")
    docs = {name: xero[source] for name, _, source in TENANT_COLUMNS if source and xero.get(source)}
    docs["disconnected_at"] = ("When (UTC) a read of /connections first found the tenant gone; NULL while it is "
                               "connected (cleared if it reconnects).")
    docs["_synced_at"] = "When (UTC) the xero/tenants run that last wrote this row ran."
    return docs


# The ledger views' columns (``views``): what most of them mean in every view...
_LEDGER = {
    "tenant_id": TENANT_ID,
    "month_start": "First day of the calendar month the row covers.",
    "month_end": "Last day of the calendar month the row covers.",
    "account_id": "Xero's AccountID of the account (xero.accounts.account_id).",
    "account_code": "The account's code in the chart of accounts.",
    "account_name": "The account's name in the chart of accounts.",
    "account_type": "Xero's account Type (BANK, CURRENT, REVENUE, EXPENSE, ...).",
    "account_class": "Xero's account Class: ASSET, EQUITY, EXPENSE, LIABILITY or REVENUE.",
    "contact_id": "Xero's ContactID of the customer or supplier (xero.contacts.contact_id).",
    "contact_name": "The contact's name.",
    "currency_code": "Currency of the documents counted in the row.",
    "debit": "The debit side: the amount when positive, else 0.",
    "credit": "The credit side: minus the amount when negative, else 0.",
    "as_of": "The day the documents are aged at (today in the view; any date in its `_at` macro).",
    "documents": "Open documents counted in the row.",
    "due_current": "Amount due on documents not yet past their due date.",
    "due_1_30": "Amount due on documents 1 to 30 days past their due date.",
    "due_31_60": "Amount due on documents 31 to 60 days past their due date.",
    "due_61_90": "Amount due on documents 61 to 90 days past their due date.",
    "due_over_90": "Amount due on documents more than 90 days past their due date.",
    "total_due": "Amount due on all the row's documents, in their currency.",
    "total_due_base": "total_due in the organisation's base currency, at each document's own rate.",
    "ledger_source": ("Where the tenant's ledger lines come from: 'journals' (Xero's own) or 'documents' (the ledger "
                      "rebuilt from its documents, where Xero withholds journals or XERO_LEDGER_SOURCE=documents)."),
}
# ...and where a view gives a column its own meaning.
_LEDGER_BY_VIEW = {
    "general_ledger": {
        "journal_date": "Date of the journal (the day it affects the books).",
        "journal_number": "Xero's JournalNumber: journals are numbered in the order Xero created them.",
        "journal_id": "Xero's JournalID (xero.journals.journal_id).",
        "journal_created_utc": "When (UTC) Xero created the journal.",
        "journal_reference": "The journal's reference.",
        "journal_line_id": "Xero's JournalLineID of the line.",
        "line_position": "0-based position of the line in its journal.",
        "description": "The line's description.",
        "net_amount": "The line's amount excluding tax, debit positive and credit negative.",
        "gross_amount": "The line's amount including tax, debit positive.",
        "tax_amount": "The line's tax, debit positive.",
        "tax_type": "Xero's TaxType of the line.",
        "tax_name": "Name of the tax rate of the line.",
        "tracking_1_name": "The tenant's first tracking category (by name), when the line carries it.",
        "tracking_1_option": "The line's option of the first tracking category.",
        "tracking_2_name": "The tenant's second tracking category (by name), when the line carries it.",
        "tracking_2_option": "The line's option of the second tracking category.",
        "source_type": "Xero's SourceType: which kind of document posted the journal (ACCREC, ACCPAY, ...).",
        "source_document": "The warehouse table holding that document (invoices, payments, ...), when synced.",
        "source_id": "Xero's id of the document that posted the journal (its key in source_document).",
        "source_number": "The document's number or reference, when it has one.",
    },
    "trial_balance": {
        "movement": "Net of the account's journal lines in the month, debit positive.",
        "balance": ("The account's balance at month end as Xero's Trial Balance shows it: profit and loss "
                    "accounts year to date, balance sheet accounts to date, earlier years' profit in "
                    "retained earnings; debit positive."),
    },
    "profit_and_loss_monthly": {
        "section": "The profit and loss section: Income, Other Income, Cost of Sales, Operating Expenses, ...",
        "net_amount": "Net of the account's journal lines in the month, debit positive.",
        "amount": "The amount as a profit and loss shows it: income and expenses both positive.",
        "profit": "The month's effect of the account on profit (income positive, expenses negative).",
    },
    "cash_movements": {
        "opening_balance": "The bank account's balance at the start of the month.",
        "received": "Money received in the month, netted per source document and day.",
        "spent": "Money spent in the month, netted per source document and day.",
        "net_movement": "received - spent.",
        "closing_balance": "The bank account's balance at the end of the month.",
    },
    "ledger_source": {
        "reason": "Why: Xero's refusal of the tenant's journals, the XERO_LEDGER_SOURCE setting, or journals served.",
    },
    "document_journal_lines": {
        "journal_date": "The day the line affects the books: the document's date (a payment's, an allocation's).",
        "source_type": ("Xero's journal SourceType of the posting (ACCREC, ACCPAY, ACCRECPAYMENT, CASHPAID, "
                        "TRANSFER, MANJOURNAL, EXPCLAIM, ...), as Xero's own journal for it would say."),
        "source_document": "The warehouse table holding the source document (invoices, payments, ...).",
        "source_id": "Xero's id of the document that posted the line (its key in source_document).",
        "reference": "The document's reference (a bill's number, a manual journal's narration).",
        "line_id": ("The line's reference within its document: the document line's LineItemID, or "
                    "<id>:tax/:control/:bank/:fx/... for the lines the posting adds; ':reversal' marks a mirror line."),
        "line_position": "Order of the line within its document's posting.",
        "description": "The document line's description.",
        "net_amount": "The line's amount excluding tax in base currency, debit positive and credit negative.",
        "tax_amount": "The line's tax in base currency, debit positive (the tax account's line carries the total).",
        "tax_type": "Xero's TaxType of the document line.",
        "tracking_categories": "The document line's tracking (category Name and Option), as JSON.",
        "is_reversal": ("True for the mirror image of a voided or deleted document's posting, on the date of the "
                        "posting it undoes (Xero reverses a void there)."),
    },
    "sources": {
        "source": "A Xero object (warehouse table) the ledger views read.",
        "available": "Whether Xero serves the object to this app for the tenant.",
        "reason": "Why not, when it does not (the scope or tier the app lacks).",
        "needs_scope": "The OAuth scope that would let the app read it.",
        "unavailable_since": "When (UTC) Xero first refused it.",
        "next_check": "When (UTC) the pipeline asks Xero again (sooner if the app's scopes change).",
        "used_by": "The ledger views that read the object.",
    },
}


def ledger_column_docs(view: str) -> dict[str, str]:
    """Column -> description for the ledger view ``view``."""
    return {**_LEDGER, **_LEDGER_BY_VIEW.get(view, {})}
