"""Manual journals: the accountant's own entries, posted straight to the ledger.

Assumptions where the fact sheet is silent:

* A POSTED manual journal that is later ARCHIVED keeps its posting (archiving hides it,
  voiding reverses it). Manual journal lines carry no tax (``LineAmountTypes`` NoTax).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from xero_pipeline.sandbox.books.chart import ZERO
from xero_pipeline.sandbox.books.desk import Desk
from xero_pipeline.sandbox.books.ledger import Posting
from xero_pipeline.sandbox.books.store import Record


def new_manual_journal(desk: Desk, *, day: date, narration: str, lines: list[tuple[Record, Decimal, str]],
                       status: str = "POSTED", tracking: list | None = None) -> Record:
    """``lines`` are (account, amount with debits positive, description); they must net to zero."""
    exempt = desk.chart.profile.exempt_tax
    mj: Record = {
        "ManualJournalID": desk.id(),
        "Date": day,
        "Status": status,
        "LineAmountTypes": "NoTax",
        "Narration": narration,
        "ShowOnCashBasisReports": True,
        "HasAttachments": False,
        "JournalLines": [
            {
                "LineAmount": amount,
                "AccountCode": acct["Code"],
                "AccountID": acct["AccountID"],
                "Description": text,
                "TaxType": exempt,
                "TaxAmount": ZERO,
                "Tracking": (tracking or []) if acct["Class"] in ("REVENUE", "EXPENSE") else [],
                "IsBlank": False,
            }
            for acct, amount, text in lines
        ],
    }
    if sum((ln["LineAmount"] for ln in mj["JournalLines"]), ZERO) != 0:
        raise ValueError("manual journal lines must net to zero")
    if status in ("POSTED", "ARCHIVED"):
        _post_manual(desk, mj)
    return desk.save("ManualJournals", mj)


def _post_manual(desk: Desk, mj: Record) -> None:
    ch = desk.chart
    desk.post(
        key=mj["ManualJournalID"],
        source_type="MANJOURNAL",
        source_id=mj["ManualJournalID"],
        journal_date=mj["Date"],
        reference=mj["Narration"],
        postings=[
            Posting(
                ch.by_code[ln["AccountCode"]],
                ln["LineAmount"],
                description=ln["Description"],
                tracking=ln["Tracking"],
            )
            for ln in mj["JournalLines"]
        ],
    )


def set_manual_journal_status(desk: Desk, mj: Record, status: str) -> Record:
    """DRAFT -> POSTED/DELETED, POSTED -> VOIDED/ARCHIVED, with the matching ledger effect."""
    allowed = {("DRAFT", "POSTED"), ("DRAFT", "DELETED"), ("POSTED", "VOIDED"), ("POSTED", "ARCHIVED")}
    if (mj["Status"], status) not in allowed:
        raise ValueError(f"a {mj['Status']} manual journal cannot become {status}")
    if status == "POSTED":
        _post_manual(desk, mj)
    elif status == "VOIDED":
        desk.reverse(mj["ManualJournalID"])
    mj["Status"] = status
    return desk.save("ManualJournals", mj)
