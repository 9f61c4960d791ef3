"""Settling documents: payments (single and batched), their deletion, and allocations
of credit notes, overpayments and prepayments to invoices, with their journals.

Xero's rules: ``AmountDue = Total - AmountPaid - AmountCredited``; an invoice is PAID
exactly when AmountDue reaches zero (FullyPaidOnDate is then the settling day), a
credit note when its RemainingCredit does.

Assumptions where the fact sheet is silent:

* A deleted payment disappears from its invoice's ``Payments`` and the invoice goes
  back to AUTHORISED; the Payment record stays, with Status DELETED, and its journal
  is reversed.
* Credit-note, overpayment and prepayment allocations only pair documents in the base
  currency, so an allocation never realises a currency gain. Credit-note and
  overpayment allocations post nothing (both sides already sit in receivables or
  payables); a prepayment allocation moves the amount from *Revenue Received in
  Advance* (AR) or *Prepayments* (AP) to the control account, as journal type
  ARPREPAYMENT/APPREPAYMENT with the prepayment's id as SourceID.
* Payments of foreign documents settle the receivable at the document's rate and the
  bank at the payment day's rate; the difference is a realised currency gain/loss.
  The receivable part is computed on the cumulative settled amount, so a document
  paid in parts clears exactly the base value it was posted at.
* Each payment in a batch posts its own journal.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from xero_pipeline.sandbox.books.chart import (
    ONE_RATE,
    ZERO,
    account_ref,
    money,
    to_base,
)
from xero_pipeline.sandbox.books.desk import Desk
from xero_pipeline.sandbox.books.invoicing import SALES, path_of
from xero_pipeline.sandbox.books.ledger import Posting
from xero_pipeline.sandbox.books.store import Record

PAYMENT_TYPE = {
    "ACCREC": "ACCRECPAYMENT",
    "ACCPAY": "ACCPAYPAYMENT",
    "ACCRECCREDIT": "ARCREDITPAYMENT",
    "ACCPAYCREDIT": "APCREDITPAYMENT",
}


def _settled(doc: Record) -> Decimal:
    return doc["Total"] - (doc["AmountDue"] if "AmountDue" in doc else doc["RemainingCredit"])


def pay(desk: Desk, doc: Record, *, amount: Decimal, day: date, bank: Record,
        batch: Record | None = None, reference: str = "") -> Record:
    """A payment against an invoice/bill, or a cash refund of a credit note."""
    ch = desk.chart
    outstanding = doc["AmountDue"] if "AmountDue" in doc else doc["RemainingCredit"]
    if doc["Status"] != "AUTHORISED" or not ZERO < amount <= outstanding:
        raise ValueError(f"cannot pay {amount} on a {doc['Status']} document with {outstanding} outstanding")
    kind = doc["Type"]
    doc_rate = doc.get("CurrencyRate") or ONE_RATE
    pay_rate = ch.rate(doc["CurrencyCode"], day)
    before = _settled(doc)
    control_part = to_base(before + amount, doc_rate) - to_base(before, doc_rate)
    bank_amount = to_base(amount, pay_rate)
    payment: Record = {
        "PaymentID": desk.id(), "Date": day, "Amount": amount, "BankAmount": bank_amount,
        "CurrencyRate": pay_rate, "Reference": reference, "IsReconciled": False, "Status": "AUTHORISED",
        "PaymentType": PAYMENT_TYPE[kind], "HasAccount": True, "HasValidationErrors": False,
        "Account": account_ref(bank),
    }
    if "InvoiceID" in doc:
        payment["Invoice"] = {
            "Type": kind,
            "InvoiceID": doc["InvoiceID"],
            "InvoiceNumber": doc["InvoiceNumber"],
            "Contact": doc["Contact"],
            "CurrencyCode": doc["CurrencyCode"],
        }
        payment["InvoiceNumber"] = doc["InvoiceNumber"]
    else:
        payment["CreditNote"] = {"Type": kind, "CreditNoteID": doc["CreditNoteID"],
                                 "CreditNoteNumber": doc["CreditNoteNumber"], "Contact": doc["Contact"],
                                 "CurrencyCode": doc["CurrencyCode"]}
        payment["CreditNoteNumber"] = doc["CreditNoteNumber"]
    if batch is not None:
        payment["BatchPaymentID"] = batch["BatchPaymentID"]
        payment["BatchPayment"] = {
            "Account": {"AccountID": bank["AccountID"]}, "BatchPaymentID": batch["BatchPaymentID"],
            "Date": batch["Date"], "Type": batch["Type"], "Status": "AUTHORISED",
            "TotalAmount": batch["TotalAmount"], "IsReconciled": batch["IsReconciled"],
        }
    # Money in: receipts from customers and refunds from suppliers.
    money_in = kind in ("ACCREC", "ACCPAYCREDIT")
    control = ch.receivable if kind in ("ACCREC", "ACCRECCREDIT") else ch.payable
    s = 1 if money_in else -1
    postings = [Posting(bank, s * bank_amount, description=doc["Contact"]["Name"]),
                Posting(control, -s * control_part)]
    if bank_amount != control_part:
        postings.append(
            Posting(ch.fx_gains, s * (control_part - bank_amount), description="Currency gain/loss")
        )
    desk.post(
        key=payment["PaymentID"],
        source_type=payment["PaymentType"],
        source_id=payment["PaymentID"],
        journal_date=day,
        reference=reference or doc.get("InvoiceNumber") or doc.get("CreditNoteNumber", ""),
        postings=postings,
    )
    doc["Payments"].append({"PaymentID": payment["PaymentID"], "Date": day, "Amount": amount,
                            "Reference": reference, "CurrencyRate": pay_rate, "HasAccount": False,
                            "HasValidationErrors": False})
    if "AmountDue" in doc:
        doc["AmountPaid"] += amount
        doc["AmountDue"] -= amount
        settled = doc["AmountDue"] == 0
    else:
        doc["RemainingCredit"] -= amount
        settled = doc["RemainingCredit"] == 0
    if settled:
        doc["Status"] = "PAID"
        doc["FullyPaidOnDate"] = day
    desk.save(path_of(doc), doc)
    return desk.save("Payments", payment)


def delete_payment(desk: Desk, payment: Record) -> Record:
    if payment["Status"] != "AUTHORISED":
        raise ValueError("payment already deleted")
    doc = (desk.books.get("Invoices", payment["Invoice"]["InvoiceID"]) if "Invoice" in payment
           else desk.books.get("CreditNotes", payment["CreditNote"]["CreditNoteID"]))
    payment["Status"] = "DELETED"
    desk.reverse(payment["PaymentID"])
    doc["Payments"] = [p for p in doc["Payments"] if p["PaymentID"] != payment["PaymentID"]]
    if "AmountDue" in doc:
        doc["AmountPaid"] -= payment["Amount"]
        doc["AmountDue"] += payment["Amount"]
    else:
        doc["RemainingCredit"] += payment["Amount"]
    doc["Status"] = "AUTHORISED"
    doc.pop("FullyPaidOnDate", None)
    desk.save(path_of(doc), doc)
    if "BatchPayment" in payment:
        payment["BatchPayment"] = dict(payment["BatchPayment"], Status="DELETED")
    return desk.save("Payments", payment)


def batch_pay(desk: Desk, items: list[tuple[Record, Decimal]], *, day: date, bank: Record) -> Record:
    """Several bills paid (PAYBATCH) or invoices received (RECBATCH) as one bank line."""
    kind = items[0][0]["Type"]
    total = sum((amount for _, amount in items), ZERO)
    batch: Record = {
        "Account": account_ref(bank), "BatchPaymentID": desk.id(),
        "Reference": f"Batch {day.isoformat()}", "Date": day, "DateString": f"{day.isoformat()}T00:00:00",
        "Type": "RECBATCH" if kind == SALES else "PAYBATCH", "Status": "AUTHORISED",
        "TotalAmount": total, "Amount": total, "IsReconciled": False,
        "Narrative": "Customer receipts" if kind == SALES else "Supplier payments", "Payments": [],
    }
    for doc, amount in items:
        p = pay(desk, doc, amount=amount, day=day, bank=bank, batch=batch, reference=batch["Reference"])
        batch["Payments"].append({
            "PaymentID": p["PaymentID"], "Amount": amount, "BankAmount": p["BankAmount"],
            "Invoice": {"InvoiceID": doc["InvoiceID"], "InvoiceNumber": doc["InvoiceNumber"], "Type": kind,
                        "CurrencyCode": doc["CurrencyCode"]},
        })
    return desk.save("BatchPayments", batch)


def delete_batch(desk: Desk, batch: Record) -> Record:
    for summary in batch["Payments"]:
        payment = desk.books.get("Payments", summary["PaymentID"])
        if payment and payment["Status"] == "AUTHORISED":
            delete_payment(desk, payment)
    batch["Status"] = "DELETED"
    return desk.save("BatchPayments", batch)


# --- allocations ------------------------------------------------------------------------

_CREDIT_KEYS = {
    "CreditNotes": ("CreditNoteID", "CreditNotes"),
    "Overpayments": ("OverpaymentID", "Overpayments"),
    "Prepayments": ("PrepaymentID", "Prepayments"),
}


def allocate(
    desk: Desk, credit: Record, credit_path: str, invoice: Record, *, amount: Decimal, day: date
) -> dict:
    """Apply part of a credit note, overpayment or prepayment to an invoice of the same side."""
    id_field, invoice_list = _CREDIT_KEYS[credit_path]
    if credit["Status"] != "AUTHORISED" or invoice["Status"] != "AUTHORISED":
        raise ValueError("both documents must be AUTHORISED to allocate")
    if credit["CurrencyCode"] != invoice["CurrencyCode"] or credit["CurrencyCode"] != desk.chart.base:
        raise ValueError("allocations are between base-currency documents")
    amount = min(amount, credit["RemainingCredit"], invoice["AmountDue"])
    if amount <= 0:
        raise ValueError("nothing to allocate")
    alloc = {"AllocationID": desk.id(), "Amount": amount, "Date": day, "IsDeleted": False,
             "Invoice": {"InvoiceID": invoice["InvoiceID"], "InvoiceNumber": invoice["InvoiceNumber"],
                         "Type": invoice["Type"], "CurrencyCode": invoice["CurrencyCode"]}}
    credit["Allocations"].append(alloc)
    credit["RemainingCredit"] -= amount
    credit["AppliedAmount"] = credit.get("AppliedAmount", ZERO) + amount
    if credit["RemainingCredit"] == 0:
        credit["Status"] = "PAID"
        if credit_path == "CreditNotes":
            credit["FullyPaidOnDate"] = day
    summary = {id_field: credit[id_field], "AppliedAmount": amount, "Date": day, "Total": credit["Total"]}
    if credit_path == "CreditNotes":
        summary["CreditNoteNumber"] = credit["CreditNoteNumber"]
    invoice[invoice_list].append(summary)
    invoice["AmountCredited"] += amount
    invoice["AmountDue"] -= amount
    if invoice["AmountDue"] == 0:
        invoice["Status"] = "PAID"
        invoice["FullyPaidOnDate"] = day
    if credit_path == "Prepayments":
        ch = desk.chart
        holding = ch.income_in_advance if invoice["Type"] == SALES else ch.prepaid
        control = ch.receivable if invoice["Type"] == SALES else ch.payable
        s = 1 if invoice["Type"] == SALES else -1
        desk.post(key=f"{credit['PrepaymentID']}:{alloc['AllocationID']}",
                  source_type="ARPREPAYMENT" if invoice["Type"] == SALES else "APPREPAYMENT",
                  source_id=credit["PrepaymentID"], journal_date=day, reference=invoice["InvoiceNumber"],
                  postings=[Posting(holding, s * amount, description="Prepayment applied"),
                            Posting(control, -s * amount, description=invoice["Contact"]["Name"])])
    desk.save("Invoices", invoice)
    desk.save(credit_path, credit)
    return alloc


def part_of(amount: Decimal, fraction: float) -> Decimal:
    """A plausible partial amount: a round-ish share of ``amount``, at least a cent."""
    part = money(amount * Decimal(str(round(fraction, 2))))
    return min(max(part, Decimal("0.01")), amount)
