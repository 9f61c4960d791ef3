"""Money that moves without an invoice: spend/receive money, transfers, overpayments,
prepayments, manual journals and classic expense claims, each with its journal.

Assumptions where the fact sheet is silent:

* A bank transfer also appears in BankTransactions as a SPEND-TRANSFER on the source
  account and a RECEIVE-TRANSFER on the destination (its ``FromBankTransactionID`` /
  ``ToBankTransactionID``), and an overpayment or prepayment as a RECEIVE-/SPEND-
  OVERPAYMENT/PREPAYMENT bank transaction carrying its ``OverpaymentID`` /
  ``PrepaymentID``. Those mirror transactions post nothing: the transfer (TRANSFER) or
  the overpayment/prepayment (AROVERPAYMENT, APPREPAYMENT…) posts, once.
* Overpayment lines are coded to the receivables/payables control account; prepayment
  lines to *Revenue Received in Advance* (AR) or *Prepayments* (AP); both carry no tax.
* Bank transactions are in the base currency.
* A POSTED manual journal that is later ARCHIVED keeps its posting (archiving hides it,
  voiding reverses it). Manual journal lines carry no tax (``LineAmountTypes`` NoTax).
* An authorised expense claim posts one EXPCLAIM journal for all its receipts (costs
  against *Unpaid Expense Claims*); paying it posts an EXPPAYMENT journal. Claim
  payments exist only inside the claim (GET /Payments has no expense-claim type).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from xero_pipeline.sandbox.books.chart import ONE_RATE, ZERO, account_ref
from xero_pipeline.sandbox.books.desk import Desk
from xero_pipeline.sandbox.books.ledger import Posting
from xero_pipeline.sandbox.books.store import Record

_TXN_SIGN = {"RECEIVE": -1, "SPEND": 1}


def _bank_txn(desk: Desk, *, kind: str, bank: Record, day: date, lines: list[dict], contact: Record | None,
              reference: str, line_amount_types: str = "Exclusive") -> Record:
    txn: Record = {
        "BankTransactionID": desk.id(), "BankAccount": account_ref(bank), "Type": kind,
        "IsReconciled": False, "HasAttachments": False, "Date": day, "Status": "AUTHORISED",
        "LineAmountTypes": line_amount_types, "LineItems": lines, "Reference": reference,
        "CurrencyCode": desk.chart.base, "CurrencyRate": ONE_RATE,
    }
    if contact is not None:
        txn["Contact"] = desk.contact_ref(contact)
    desk.set_totals(txn)
    return txn


def new_bank_transaction(desk: Desk, *, kind: str, bank: Record, day: date, lines: list[dict],
                         contact: Record, reference: str = "", reconciled: bool = False) -> Record:
    """Spend or receive money straight from a bank account (CASHPAID / CASHREC)."""
    txn = _bank_txn(desk, kind=kind, bank=bank, day=day, lines=lines, contact=contact, reference=reference)
    txn["IsReconciled"] = reconciled
    _post_bank_txn(desk, txn, bank)
    return desk.save("BankTransactions", txn)


def _post_bank_txn(desk: Desk, txn: Record, bank: Record) -> None:
    desk.post(key=txn["BankTransactionID"], source_type="CASHREC" if txn["Type"] == "RECEIVE" else "CASHPAID",
              source_id=txn["BankTransactionID"], journal_date=txn["Date"], reference=txn["Reference"],
              postings=desk.document_postings(txn, sign=_TXN_SIGN[txn["Type"]], control=bank,
                                              control_description=txn.get("Contact", {}).get("Name", "")))


def remove_bank_transaction(desk: Desk, txn: Record, *, status: str = "DELETED") -> Record:
    """DELETED (removed by the user) or VOIDED; either way the posting is reversed."""
    if txn["Status"] != "AUTHORISED" or txn["Type"] not in _TXN_SIGN:
        raise ValueError("only authorised spend/receive money can be removed")
    txn["Status"] = status
    desk.reverse(txn["BankTransactionID"])
    return desk.save("BankTransactions", txn)


def edit_bank_transaction(desk: Desk, txn: Record) -> Record:
    """A coding correction: one line moves to another account, re-posted."""
    if txn["Status"] != "AUTHORISED" or txn["Type"] not in _TXN_SIGN:
        raise ValueError("only authorised spend/receive money can be edited")
    desk.reverse(txn["BankTransactionID"])
    ln = desk.rng.choice(txn["LineItems"])
    pool = desk.chart.revenue if txn["Type"] == "RECEIVE" else desk.chart.expenses
    account = desk.rng.choice(pool)
    ln["AccountCode"], ln["AccountID"] = account["Code"], account["AccountID"]
    txn["Reference"] = (txn["Reference"] + " (recoded)").strip()
    _post_bank_txn(desk, txn, desk.chart.by_id[txn["BankAccount"]["AccountID"]])
    return desk.save("BankTransactions", txn)


# --- transfers --------------------------------------------------------------------------


def new_transfer(desk: Desk, *, source: Record, target: Record, amount: Decimal, day: date,
                 reference: str = "") -> Record:
    out = _bank_txn(desk, kind="SPEND-TRANSFER", bank=source, day=day, lines=[], contact=None,
                    reference=reference, line_amount_types="NoTax")
    into = _bank_txn(desk, kind="RECEIVE-TRANSFER", bank=target, day=day, lines=[], contact=None,
                     reference=reference, line_amount_types="NoTax")
    for txn in (out, into):
        txn["SubTotal"] = txn["Total"] = amount
        desk.save("BankTransactions", txn)
    transfer: Record = {
        "BankTransferID": desk.id(), "CreatedDateUTC": desk.now(), "Date": day,
        "FromBankAccount": account_ref(source), "ToBankAccount": account_ref(target), "Amount": amount,
        "CurrencyRate": ONE_RATE, "FromBankTransactionID": out["BankTransactionID"],
        "ToBankTransactionID": into["BankTransactionID"], "FromIsReconciled": False, "ToIsReconciled": False,
        "Reference": reference, "HasAttachments": False, "Status": "AUTHORISED",
    }
    desk.post(
        key=transfer["BankTransferID"],
        source_type="TRANSFER",
        source_id=transfer["BankTransferID"],
        journal_date=day,
        reference=reference,
        postings=[
            Posting(target, amount, description=reference),
            Posting(source, -amount, description=reference),
        ],
    )
    return desk.save("BankTransfers", transfer)


def delete_transfer(desk: Desk, transfer: Record) -> Record:
    if transfer["Status"] != "AUTHORISED":
        raise ValueError("transfer already deleted")
    transfer["Status"] = "DELETED"
    desk.reverse(transfer["BankTransferID"])
    for key in ("FromBankTransactionID", "ToBankTransactionID"):
        txn = desk.books.get("BankTransactions", transfer[key])
        if txn is not None:
            txn["Status"] = "DELETED"
            desk.save("BankTransactions", txn)
    return desk.save("BankTransfers", transfer)


# --- overpayments and prepayments -------------------------------------------------------

_PREFIX = {"Overpayments": "OVERPAYMENT", "Prepayments": "PREPAYMENT"}


def new_credit_payment(desk: Desk, path: str, *, side: str, contact: Record, bank: Record, amount: Decimal,
                       day: date, reference: str = "") -> Record:
    """An overpayment or prepayment (``path``) received from a customer (side RECEIVE) or
    paid to a supplier (side SPEND)."""
    ch = desk.chart
    id_field = "OverpaymentID" if path == "Overpayments" else "PrepaymentID"
    if path == "Overpayments":
        account = ch.receivable if side == "RECEIVE" else ch.payable
    else:
        account = ch.income_in_advance if side == "RECEIVE" else ch.prepaid
    kind = f"{side}-{_PREFIX[path]}"
    line = {
        "LineItemID": desk.id(),
        "Description": (
            f"{_PREFIX[path].title()} received" if side == "RECEIVE" else f"{_PREFIX[path].title()} paid"
        ),
        "Quantity": Decimal("1.0000"),
        "UnitAmount": amount,
        "AccountCode": account["Code"],
        "AccountID": account["AccountID"],
        "TaxType": ch.profile.exempt_tax,
        "TaxAmount": ZERO,
        "LineAmount": amount,
        "Tracking": [],
    }
    doc: Record = {
        id_field: desk.id(), "Type": kind, "Reference": reference, "Contact": desk.contact_ref(contact),
        "Date": day, "Status": "AUTHORISED", "LineAmountTypes": "NoTax", "LineItems": [line],
        "SubTotal": amount, "TotalTax": ZERO, "Total": amount, "RemainingCredit": amount,
        "AppliedAmount": ZERO, "Allocations": [], "Payments": [], "HasAttachments": False,
        "CurrencyCode": ch.base, "CurrencyRate": ONE_RATE,
    }
    mirror = _bank_txn(desk, kind=kind, bank=bank, day=day, lines=[dict(line, LineItemID=desk.id())],
                       contact=contact, reference=reference, line_amount_types="NoTax")
    mirror[id_field] = doc[id_field]
    desk.save("BankTransactions", mirror)
    source_type = ("AR" if side == "RECEIVE" else "AP") + _PREFIX[path]
    desk.post(
        key=doc[id_field],
        source_type=source_type,
        source_id=doc[id_field],
        journal_date=day,
        reference=reference,
        postings=desk.document_postings(
            doc, sign=-1 if side == "RECEIVE" else 1, control=bank, control_description=contact["Name"]
        ),
    )
    return desk.save(path, doc)


def void_credit_payment(desk: Desk, path: str, doc: Record) -> Record:
    id_field = "OverpaymentID" if path == "Overpayments" else "PrepaymentID"
    if doc["Status"] != "AUTHORISED" or doc["Allocations"]:
        raise ValueError("only unallocated overpayments/prepayments can be voided")
    doc["Status"] = "VOIDED"
    doc["RemainingCredit"] = ZERO
    desk.reverse(doc[id_field])
    for txn in desk.books.records("BankTransactions"):
        if txn.get(id_field) == doc[id_field]:
            txn["Status"] = "VOIDED"
            desk.save("BankTransactions", txn)
    return desk.save(path, doc)


# --- manual journals --------------------------------------------------------------------


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


# --- classic expense claims -------------------------------------------------------------


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
    claim["Status"] = "VOIDED"
    claim["AmountDue"] = ZERO
    desk.reverse(claim["ExpenseClaimID"])
    _set_receipts(desk, claim, "VOIDED")
    return desk.save("ExpenseClaims", claim)


def decline_claim(desk: Desk, claim: Record) -> Record:
    """A submitted claim the approver rejects: receipts DECLINED, the claim DELETED."""
    if claim["Status"] != "SUBMITTED":
        raise ValueError("only submitted claims can be declined")
    claim["Status"] = "DELETED"
    claim["AmountDue"] = ZERO
    _set_receipts(desk, claim, "DECLINED")
    return desk.save("ExpenseClaims", claim)
