"""The seed's money streams besides invoices: opening balances, credit notes,
overpayments and prepayments, bank transactions and transfers, manual journals and
expense claims (``seed_orders`` has the documents that never post).

Each stream sizes itself from the scale (with a floor so tiny scales still show
every status), picks creation days and fates, and schedules its later steps on the
``History`` it is given. Proportions per 3,000 invoices and bills: ~60 credit notes,
~30 each of overpayments and prepayments, ~1,200 bank transactions, ~90 transfers,
~60 manual journals and ~40 expense claims.
"""

from __future__ import annotations

import math
import random
from decimal import Decimal

from xero_pipeline.sandbox.books import banking, claims, manual_journals
from xero_pipeline.sandbox.books import invoicing as inv
from xero_pipeline.sandbox.books import settlement as st
from xero_pipeline.sandbox.books.chart import money
from xero_pipeline.sandbox.books.store import Record
from xero_pipeline.sandbox.seeding.history import INVOICES_PER_SCALE, History
from xero_pipeline.sandbox.seeding.invoices import allocate_all, open_invoice_for

_N = INVOICES_PER_SCALE


def plan_all(h: History) -> None:
    _opening_balances(h)
    _credit_notes(h)
    for path in ("Overpayments", "Prepayments"):
        _credit_payments(h, path)
    _bank_transactions(h)
    _transfers(h)
    _manual_journals(h)
    _expense_claims(h)


def fixed(*weights: float):
    """Fate weights that do not depend on a document's age."""
    return lambda _age: weights


def amount_for(rng: random.Random, low: int, high: int, step: int = 50) -> Decimal:
    """A round amount such as a transfer or an owner's drawing."""
    return money(rng.randrange(low, high, step))


# --- money in and out -------------------------------------------------------------------


def _opening_balances(h: History) -> None:
    ch = h.desk.chart
    capital = money(20000 + 60000 * h.scale)
    equipment = money(8000 + 4000 * h.scale)
    h.buckets[0].append(lambda: manual_journals.new_manual_journal(
        h.desk, day=h.day(), narration="Opening balances",
        lines=[(ch.by_code["090"], capital, "Opening bank balance"),
               (ch.by_code["970"], -capital, "Capital introduced"),
               (ch.by_code["720"], equipment, "Computer equipment at cost"),
               (ch.by_code["900"], -equipment, "Equipment loan")]))


def _credit_notes(h: History) -> None:
    options = ("ALLOCATED", "OPEN", "REFUNDED", "DRAFT", "SUBMITTED", "DELETED", "VOIDED")
    n = h.count(_N * 0.02, len(options))
    days = h.spread(n, start=5)
    for i, (d, fate) in enumerate(
        zip(days, h.fates(n, days, options, fixed(40, 20, 10, 8, 5, 7, 10)), strict=True)
    ):
        sales = i % 3 != 2
        h.buckets[d].append(lambda s=sales, f=fate: _credit_note(h, s, f))


def _credit_note(h: History, sales: bool, fate: str) -> None:
    desk, rng = h.desk, h.rng
    kind = "ACCRECCREDIT" if sales else "ACCPAYCREDIT"
    invoice = open_invoice_for(h, "ACCREC" if sales else "ACCPAY") if fate == "ALLOCATED" else None
    contact = (desk.books.get("Contacts", invoice["Contact"]["ContactID"]) if invoice
               else h.contact_for(kind, foreign=fate in ("OPEN", "VOIDED") and rng.random() < 0.3))
    currency = contact.get("DefaultCurrency", h.profile.currency)
    draft = fate in ("DRAFT", "SUBMITTED", "DELETED")
    cn = inv.new_credit_note(
        desk,
        kind=kind,
        contact=contact,
        day=h.day(),
        status="DRAFT" if draft else "AUTHORISED",
        lines=h.lines_for(kind, currency, count=rng.choice((1, 1, 2))),
        currency=currency,
        reference=rng.choice(("Returned goods", "Pricing error", "Goodwill credit")),
    )
    if fate == "ALLOCATED":
        h.later(rng.randint(0, 10), lambda: allocate_all(h, cn, "CreditNotes", invoice, contact))
    elif fate == "REFUNDED":
        h.later(rng.randint(3, 20), lambda: st.pay(desk, cn, amount=cn["RemainingCredit"], day=h.day(),
                                                   bank=desk.chart.main_bank(), reference="Refund"))
    elif fate == "SUBMITTED":
        h.later(rng.randint(0, 3), lambda: inv.submit(desk, cn))
    elif fate == "DELETED":
        h.later(rng.randint(0, 10), lambda: inv.delete_draft(desk, cn))
    elif fate == "VOIDED":
        h.later(rng.randint(1, 20), lambda: inv.void(desk, cn))


def _credit_payments(h: History, path: str) -> None:
    options = ("ALLOCATED", "OPEN", "VOIDED")
    n = h.count(_N * 0.01, 4)
    days = h.spread(n, start=5)
    for i, (d, fate) in enumerate(zip(days, h.fates(n, days, options, fixed(60, 25, 15)), strict=True)):
        side = "SPEND" if i % 3 == 2 else "RECEIVE"
        h.buckets[d].append(lambda s=side, f=fate: _credit_payment(h, path, s, f))


def _credit_payment(h: History, path: str, side: str, fate: str) -> None:
    desk, rng = h.desk, h.rng
    kind = "ACCREC" if side == "RECEIVE" else "ACCPAY"
    invoice = open_invoice_for(h, kind)
    contact = desk.books.get("Contacts", invoice["Contact"]["ContactID"])
    amount = st.part_of(invoice["AmountDue"], rng.choice((0.5, 1.0, 1.0, 1.3)))
    doc = banking.new_credit_payment(
        desk,
        path,
        side=side,
        contact=contact,
        bank=desk.chart.bank_for(rng),
        amount=amount,
        day=h.day(),
        reference=rng.choice(("", invoice["InvoiceNumber"])),
    )
    if fate == "ALLOCATED":
        h.later(rng.randint(0, 15), lambda: allocate_all(h, doc, path, invoice, contact))
    elif fate == "VOIDED":
        h.later(rng.randint(1, 15), lambda: banking.void_credit_payment(desk, path, doc))


def _bank_transactions(h: History) -> None:
    options = ("AUTHORISED", "DELETED", "VOIDED", "EDITED")
    n = h.count(_N * 0.4, 8)
    days = h.spread(n, start=1)
    for i, (d, fate) in enumerate(zip(days, h.fates(n, days, options, fixed(90, 5, 2, 3)), strict=True)):
        kind = "RECEIVE" if i % 4 == 1 else "SPEND"
        h.buckets[d].append(lambda k=kind, f=fate: _bank_transaction(h, k, f))


def spend_or_receive_lines(h: History, kind: str, count: int) -> list[dict]:
    desk, ch, rng = h.desk, h.desk.chart, h.rng
    if kind == "SPEND":
        return inv.purchase_lines(desk, count=count, currency=ch.base)
    lines = []
    for _ in range(count):
        account = ch.by_code[rng.choice(("260", "260", "270"))]
        tax = ch.profile.exempt_tax if account["Code"] == "270" else ch.profile.sales_tax
        lines.append(
            desk.line(
                account=account,
                description="Interest" if account["Code"] == "270" else "Cash sale",
                tax_type=tax,
                line_amount_types="Exclusive",
                quantity=Decimal("1.0000"),
            )
        )
    return lines


def _bank_transaction(h: History, kind: str, fate: str) -> None:
    desk, rng = h.desk, h.rng
    contact = h.contact_for("ACCREC" if kind == "RECEIVE" else "ACCPAY")
    bank = desk.chart.bank_for(rng)
    txn = banking.new_bank_transaction(desk, kind=kind, bank=bank, day=h.day(), contact=contact,
                                       lines=spend_or_receive_lines(h, kind, rng.choice((1, 1, 1, 2, 3))),
                                       reference=rng.choice(("", "Card purchase", "Direct debit", "EFTPOS")),
                                       reconciled=h.d < h.last_index - 10 and rng.random() < 0.9)
    if fate in ("DELETED", "VOIDED"):
        h.later(rng.randint(1, 20), lambda: banking.remove_bank_transaction(desk, txn, status=fate))
    elif fate == "EDITED":
        h.later(rng.randint(1, 20), lambda: banking.edit_bank_transaction(desk, txn))


def _transfers(h: History) -> None:
    n = h.count(_N * 0.03, 3)
    days = h.spread(n, start=2)
    for d, fate in zip(days, h.fates(n, days, ("AUTHORISED", "DELETED"), fixed(90, 10)), strict=True):
        h.buckets[d].append(lambda f=fate: _transfer(h, f))


def _transfer(h: History, fate: str) -> None:
    desk, rng = h.desk, h.rng
    banks = desk.chart.banks
    source, target = (
        (banks[0], rng.choice(banks[1:])) if rng.random() < 0.7 else (rng.choice(banks[1:]), banks[0])
    )
    transfer = banking.new_transfer(
        desk,
        source=source,
        target=target,
        amount=amount_for(rng, 200, 8000),
        day=h.day(),
        reference=rng.choice(("Sweep", "Card repayment", "Top up", "")),
    )
    if fate == "DELETED":
        h.later(rng.randint(0, 10), lambda: banking.delete_transfer(desk, transfer))


def _manual_journals(h: History) -> None:
    options = ("POSTED", "DRAFT", "DELETED", "VOIDED", "ARCHIVED", "APPROVED_LATER")
    n = h.count(_N * 0.02, len(options))
    days = h.spread(n, start=3)
    for d, fate in zip(days, h.fates(n, days, options, fixed(70, 4, 5, 6, 5, 10)), strict=True):
        h.buckets[d].append(lambda f=fate: _manual_journal(h, f))


def _manual_journal(h: History, fate: str) -> None:
    desk, ch, rng = h.desk, h.desk.chart, h.rng
    a = money(rng.randrange(100, 3000) * max(1.0, math.sqrt(h.scale)))
    b = money(a * Decimal("0.2"))
    template = rng.randrange(5)
    narration, lines = [
        (
            "Monthly depreciation",
            [(ch.by_code["416"], a, "Depreciation"), (ch.by_code["721"], -a, "Depreciation")],
        ),
        (
            "Payroll",
            [
                (ch.by_code["477"], a, "Gross wages"),
                (ch.by_code["825"], -b, "PAYE withheld"),
                (ch.by_code["090"], b - a, "Net pay"),
            ],
        ),
        ("Owner drawings", [(ch.by_code["980"], a, "Drawings"), (ch.by_code["090"], -a, "Drawings")]),
        (
            "Loan interest",
            [(ch.by_code["437"], b, "Interest accrued"), (ch.by_code["900"], -b, "Interest accrued")],
        ),
        (
            "Accrued accounting fees",
            [(ch.by_code["412"], a, "Year-end accrual"), (ch.by_code["800"], -a, "Accrual")],
        ),
    ][template]
    status = {"POSTED": "POSTED", "ARCHIVED": "POSTED", "VOIDED": "POSTED"}.get(fate, "DRAFT")
    mj = manual_journals.new_manual_journal(desk, day=h.day(), narration=narration, lines=lines,
                                            status=status, tracking=desk.chart.tracking_for(rng))
    follow = {
        "ARCHIVED": "ARCHIVED",
        "VOIDED": "VOIDED",
        "DELETED": "DELETED",
        "APPROVED_LATER": "POSTED",
    }.get(fate)
    if follow:
        h.later(rng.randint(0, 30), lambda: manual_journals.set_manual_journal_status(desk, mj, follow))


def _expense_claims(h: History) -> None:
    options = ("PAID", "AUTHORISED", "SUBMITTED", "VOIDED", "DECLINED", "LOOSE_RECEIPT")
    n = h.count(_N * 0.013, len(options))
    days = h.spread(n, start=5)
    users = [u for u in h.books.records("Users") if u["OrganisationRole"] != "READONLY"]
    counter = iter(range(1, 10**9))
    for d, fate in zip(days, h.fates(n, days, options, fixed(62, 10, 8, 6, 7, 7)), strict=True):
        h.buckets[d].append(lambda f=fate: _expense_claim(h, f, h.rng.choice(users), counter))


def _expense_claim(h: History, fate: str, user: Record, counter) -> None:
    desk, ch, rng = h.desk, h.desk.chart, h.rng
    receipts = []
    for _ in range(1 if fate == "LOOSE_RECEIPT" else rng.choice((1, 1, 2, 3))):
        account = ch.by_code[rng.choice(("420", "429", "449", "453", "461", "493", "494"))]
        line = desk.line(
            account=account,
            description=f"{account['Name']} receipt",
            tax_type=ch.profile.purchase_tax,
            line_amount_types="Inclusive",
            quantity=Decimal("1.0000"),
            unit=desk.random_unit(median=45),
        )
        receipts.append(claims.new_receipt(desk, user=user, contact=h.contact_for("ACCPAY"), day=h.day(),
                                           lines=[line], number=next(counter)))
    if fate == "LOOSE_RECEIPT":
        return
    claim = claims.new_expense_claim(desk, user=user, receipts=receipts, day=h.day())

    def review() -> None:
        if fate == "DECLINED":
            claims.decline_claim(desk, claim)
        elif fate != "SUBMITTED":
            claims.authorise_claim(desk, claim, day=h.day())
            if fate == "PAID":
                h.later(
                    rng.randint(3, 20),
                    lambda: claims.pay_claim(desk, claim, day=h.day(), bank=ch.main_bank()),
                )
            elif fate == "VOIDED":
                h.later(rng.randint(1, 10), lambda: claims.void_claim(desk, claim))
    h.later(rng.randint(1, 10), review)
