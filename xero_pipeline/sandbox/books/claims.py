"""Classic expense claims: an employee's receipts, claimed, authorised and paid back.

Assumptions where the fact sheet is silent:

* An authorised expense claim posts one EXPCLAIM journal for all its receipts (costs
  against *Unpaid Expense Claims*); paying it posts an EXPPAYMENT journal. Claim
  payments exist only inside the claim (GET /Payments has no expense-claim type).
"""

from __future__ import annotations

from datetime import date

from xero_pipeline.sandbox.books.chart import ONE_RATE, ZERO, account_ref
from xero_pipeline.sandbox.books.desk import Desk
from xero_pipeline.sandbox.books.ledger import Posting
from xero_pipeline.sandbox.books.store import Record


def user_ref(user: Record) -> dict:
    return {"UserID": user["UserID"], "EmailAddress": user["EmailAddress"], "FirstName": user["FirstName"],
            "LastName": user["LastName"], "IsSubscriber": user["IsSubscriber"],
            "OrganisationRole": user["OrganisationRole"]}


def new_receipt(
    desk: Desk, *, user: Record, contact: Record, day: date, lines: list[dict], number: int
) -> Record:
    receipt: Record = {
        "ReceiptID": desk.id(), "ReceiptNumber": str(number), "Status": "DRAFT", "User": user_ref(user),
        "Contact": desk.contact_ref(contact), "Date": day, "Reference": "", "LineAmountTypes": "Inclusive",
        "LineItems": lines, "HasAttachments": True,
    }
    for ln in lines:
        desk.price_line(ln, "Inclusive")
    desk.set_totals(receipt)
    return desk.save("Receipts", receipt)


def new_expense_claim(desk: Desk, *, user: Record, receipts: list[Record], day: date) -> Record:
    claim: Record = {
        "ExpenseClaimID": desk.id(), "Status": "SUBMITTED", "User": user_ref(user),
        "Receipts": [{"ReceiptID": r["ReceiptID"], "ReceiptNumber": r["ReceiptNumber"], "Total": r["Total"],
                      "Date": r["Date"]} for r in receipts],
        "Payments": [], "Total": sum((r["Total"] for r in receipts), ZERO), "AmountPaid": ZERO,
        "ReportingDate": day,
    }
    claim["AmountDue"] = claim["Total"]
    _set_receipts(desk, claim, "SUBMITTED")
    return desk.save("ExpenseClaims", claim)


def _set_receipts(desk: Desk, claim: Record, status: str) -> list[Record]:
    out = []
    for summary in claim["Receipts"]:
        receipt = desk.books.get("Receipts", summary["ReceiptID"])
        receipt["Status"] = status
        out.append(desk.save("Receipts", receipt))
    return out


def authorise_claim(desk: Desk, claim: Record, *, day: date) -> Record:
    if claim["Status"] != "SUBMITTED":
        raise ValueError("only submitted claims can be authorised")
    claim["Status"] = "AUTHORISED"
    claim["PaymentDueDate"] = day
    postings: list[Posting] = []
    for receipt in _set_receipts(desk, claim, "AUTHORISED"):
        postings += desk.document_postings(receipt, sign=1, control=desk.chart.unpaid_claims,
                                           control_description=claim["User"]["FirstName"])
    _merge_tax_and_control(postings)
    desk.post(key=claim["ExpenseClaimID"], source_type="EXPCLAIM", source_id=claim["ExpenseClaimID"],
              journal_date=claim["ReportingDate"], reference=f"Expense claim {claim['User']['FirstName']}",
              postings=postings)
    return desk.save("ExpenseClaims", claim)


def _merge_tax_and_control(postings: list[Posting]) -> None:
    """Receipts each end in a tax line and a control line; a claim journal has one of each."""
    merged: dict[str, Posting] = {}
    keep: list[Posting] = []
    for p in postings:
        if p.tax_rate is None and not p.tracking and not p.tax and p.account["Type"] == "CURRLIAB":
            if p.account["AccountID"] in merged:
                merged[p.account["AccountID"]].net += p.net
                continue
            merged[p.account["AccountID"]] = p
        keep.append(p)
    postings[:] = keep


def pay_claim(desk: Desk, claim: Record, *, day: date, bank: Record) -> Record:
    if claim["Status"] != "AUTHORISED":
        raise ValueError("only authorised claims can be paid")
    amount = claim["AmountDue"]
    payment_id = desk.id()
    claim["Payments"].append({"PaymentID": payment_id, "Date": day, "Amount": amount, "Reference": "",
                              "CurrencyRate": ONE_RATE, "HasAccount": True, "Account": account_ref(bank)})
    claim["AmountPaid"] += amount
    claim["AmountDue"] = ZERO
    claim["Status"] = "PAID"
    desk.post(key=payment_id, source_type="EXPPAYMENT", source_id=payment_id, journal_date=day,
              reference=f"Expense claim {claim['User']['FirstName']}",
              postings=[Posting(desk.chart.unpaid_claims, amount), Posting(bank, -amount)])
    return desk.save("ExpenseClaims", claim)


def void_claim(desk: Desk, claim: Record) -> Record:
    if claim["Status"] != "AUTHORISED":
        raise ValueError("only authorised, unpaid claims can be voided")
    return _close_unpaid(desk, claim, status="VOIDED", receipts="VOIDED")


def decline_claim(desk: Desk, claim: Record) -> Record:
    """A submitted claim the approver rejects: receipts DECLINED, the claim DELETED."""
    if claim["Status"] != "SUBMITTED":
        raise ValueError("only submitted claims can be declined")
    return _close_unpaid(desk, claim, status="DELETED", receipts="DECLINED")


def _close_unpaid(desk: Desk, claim: Record, *, status: str, receipts: str) -> Record:
    """Nothing more is due; only an authorised claim has posted, so only its journal is reversed."""
    posted = claim["Status"] == "AUTHORISED"
    claim["Status"] = status
    claim["AmountDue"] = ZERO
    if posted:
        desk.reverse(claim["ExpenseClaimID"])
    _set_receipts(desk, claim, receipts)
    return desk.save("ExpenseClaims", claim)
