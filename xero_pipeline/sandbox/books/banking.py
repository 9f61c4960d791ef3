"""Money that moves through a bank account without an invoice: spend/receive money,
transfers, overpayments and prepayments, each with its journal (manual journals and
expense claims are in ``manual_journals`` and ``claims``).

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


def repost_bank_transaction(desk: Desk, txn: Record) -> Record:
    """Lines or date of an authorised spend/receive money were changed (a write): re-posted."""
    if txn["Status"] != "AUTHORISED" or txn["Type"] not in _TXN_SIGN:
        raise ValueError("only authorised spend/receive money can be edited")
    desk.reverse(txn["BankTransactionID"])
    desk.set_totals(txn)
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
