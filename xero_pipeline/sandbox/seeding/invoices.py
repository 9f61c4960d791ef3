"""The seed's invoices and bills, each created with a fate that its later days play out.

About ``3000 * scale`` documents, 60% sales invoices and 40% bills. A fate (paid,
paid in parts, batch-paid, credited, voided, left as a draft, …) is drawn by the
document's age at the clock's start, so old documents are mostly settled and recent ones
mostly open. Other streams (``streams``, ``orders``) issue invoices through
``new_invoice`` and allocate credit to the open ones ``open_invoice_for`` finds.
"""

from __future__ import annotations

import itertools
from decimal import Decimal

from xero_pipeline.sandbox.books import invoicing as inv
from xero_pipeline.sandbox.books import settlement as st
from xero_pipeline.sandbox.books.chart import money
from xero_pipeline.sandbox.books.store import Record
from xero_pipeline.sandbox.seeding.history import INVOICES_PER_SCALE, History

# Fates of an invoice or bill, and how likely each is by age (days left until the clock's start).
FATES = ("PAID", "PAID_PARTS", "BATCH", "BATCH_DELETED", "PAYMENT_DELETED", "CREDITED", "VOIDED",
         "DELETED", "DRAFT", "SUBMITTED", "OPEN", "OPEN_PARTIAL", "EDITED", "APPROVED_LATER")
_FATE_WEIGHTS = {
    "old": (70, 5, 6, 0.3, 1, 3, 3, 2, 0.4, 0.4, 2, 2, 1, 4),
    "mid": (50, 4, 4, 0.2, 1, 3, 3, 3, 2, 2, 20, 5, 1, 3),
    "new": (18, 2, 2, 0, 0.5, 2, 2, 4, 10, 6, 45, 5, 1, 3),
}
# Only these fates may be in a foreign currency: allocations and batches are base-only.
FOREIGN_FATES = ("PAID", "PAID_PARTS", "OPEN", "OPEN_PARTIAL", "VOIDED")


def plan(h: History) -> None:
    total = h.count(INVOICES_PER_SCALE, 2 * len(FATES))
    for kind, share in (("ACCREC", 0.6), ("ACCPAY", 0.4)):
        n = max(len(FATES), round(total * share))
        days = h.spread(n, start=1)
        fates = h.fates(n, days, FATES, _fate_weights)
        foreign_at = set(h.rng.sample(range(n), max(1, n // 12)))
        for i, (d, fate) in enumerate(zip(days, fates, strict=True)):
            foreign = i in foreign_at and fate in FOREIGN_FATES
            h.buckets[d].append(lambda k=kind, f=fate, fx=foreign: new_invoice(h, k, f, foreign=fx))


def _fate_weights(age: int) -> tuple:
    return _FATE_WEIGHTS["old" if age > 60 else "mid" if age > 20 else "new"]


def new_invoice(h: History, kind: str, fate: str, *, foreign: bool = False, contact: Record | None = None,
                lines: list[dict] | None = None, repeating_id: str | None = None) -> Record:
    rng = h.rng
    contact = contact or h.contact_for(kind, foreign=foreign)
    currency = contact.get("DefaultCurrency", h.profile.currency)
    if fate not in FOREIGN_FATES:
        currency = h.profile.currency  # allocations and batches stay in base currency
    draft = fate in ("DRAFT", "SUBMITTED", "DELETED", "APPROVED_LATER") or (
        fate == "EDITED" and rng.random() < 0.5
    )
    # Most documents are tax exclusive; some sales are priced tax inclusive, a few bills carry no tax.
    amounts = "Exclusive"
    if rng.random() >= 0.93:
        amounts = "Inclusive" if kind == "ACCREC" or rng.random() < 0.6 else "NoTax"
    doc = inv.new_invoice(h.desk, kind=kind, contact=contact, day=h.day(),
                          lines=lines or h.lines_for(kind, currency), currency=currency,
                          status="DRAFT" if draft else "AUTHORISED", line_amount_types=amounts,
                          repeating_id=repeating_id)
    if fate == "DRAFT":
        if rng.random() < 0.5:
            h.later(
                rng.randint(0, 5), lambda: doc["Status"] == "DRAFT" and inv.edit_draft(h.desk, doc)
            )
    elif fate == "SUBMITTED":
        h.later(rng.randint(0, 3), lambda: inv.submit(h.desk, doc))
    elif fate == "DELETED":
        h.later(rng.randint(0, 20), lambda: inv.delete_draft(h.desk, doc))
    elif draft:
        def approve() -> None:
            if doc["Status"] == "DRAFT" and rng.random() < 0.4:
                inv.edit_draft(h.desk, doc)
            inv.approve(h.desk, doc)
            _after_approval(h, doc, fate)
        h.later(rng.randint(0, 6), approve)
    else:
        _after_approval(h, doc, fate)
    return doc


def _pay_delay(h: History, doc: Record) -> int:
    terms = (doc["DueDate"] - doc["Date"]).days
    return max(0, terms + round(h.rng.gauss(0, 8)) - (h.d - (doc["Date"] - h.first).days))


def _after_approval(h: History, doc: Record, fate: str) -> None:
    rng, desk = h.rng, h.desk
    if fate == "OPEN":
        if doc["CurrencyCode"] == h.profile.currency:
            h.open_invoices[doc["Type"]].append(doc)
    elif fate == "VOIDED":
        h.later(rng.randint(1, 30), lambda: inv.void(desk, doc))
    elif fate == "EDITED":
        def edit() -> None:
            inv.edit_authorised(desk, doc)
            h.later(_pay_delay(h, doc), lambda: pay_rest(h, doc))
        h.later(rng.randint(0, 5), edit)
    elif fate in ("PAID", "APPROVED_LATER"):
        h.later(_pay_delay(h, doc), lambda: pay_rest(h, doc))
    elif fate in ("PAID_PARTS", "OPEN_PARTIAL"):
        parts = rng.choice((0.25, 0.4, 0.5, 0.6))

        def first_part() -> None:
            pay(h, doc, st.part_of(doc["AmountDue"], parts))
            if fate == "PAID_PARTS":
                h.later(rng.randint(7, 45), lambda: pay_rest(h, doc))
        h.later(_pay_delay(h, doc) // 2, first_part)
    elif fate in ("BATCH", "BATCH_DELETED"):
        h.later(_pay_delay(h, doc), lambda: _queue_batch(h, doc, fate == "BATCH_DELETED"))
    elif fate == "PAYMENT_DELETED":
        # A payment keyed against the wrong invoice is deleted, then paid again.
        def paid_twice() -> None:
            payment = pay(h, doc, doc["AmountDue"])
            if payment is not None:
                h.later(rng.randint(1, 10), lambda: undo(payment))

        def undo(payment: Record) -> None:
            st.delete_payment(desk, payment)
            h.later(rng.randint(1, 10), lambda: pay_rest(h, doc))
        h.later(_pay_delay(h, doc), paid_twice)
    elif fate == "CREDITED":
        h.later(rng.randint(2, 25), lambda: _credit(h, doc))


def pay(h: History, doc: Record, amount: Decimal) -> Record | None:
    if doc["Status"] != "AUTHORISED" or doc["AmountDue"] <= 0:
        return None
    amount = min(amount, doc["AmountDue"])
    payment = st.pay(h.desk, doc, amount=amount, day=h.day(),
                     bank=h.desk.chart.bank_for(h.rng),
                     reference=h.rng.choice(("", "", doc["InvoiceNumber"], "Thank you")))
    if h.d < h.last_index - 10 and h.rng.random() < 0.9:
        payment["IsReconciled"] = True  # reconciled later against the bank statement
    return payment


def pay_rest(h: History, doc: Record) -> None:
    pay(h, doc, doc["AmountDue"])


def _credit(h: History, doc: Record) -> None:
    """A credit note for part or all of the invoice, allocated to it; any rest is paid."""
    share = h.rng.choice((0.1, 0.25, 0.5, 1.0))
    kind = inv.CREDIT_TYPE[doc["Type"]]
    lines = [dict(ln, LineItemID=h.desk.id()) for ln in doc["LineItems"][:1]]
    for ln in lines:
        ln["Quantity"] = Decimal("1.0000")
        ln["UnitAmount"] = min(ln["LineAmount"], money(doc["SubTotal"] * Decimal(str(share))))
        ln.pop("DiscountRate", None)
        h.desk.price_line(ln, "Exclusive")
    contact = {"ContactID": doc["Contact"]["ContactID"], "Name": doc["Contact"]["Name"]}
    cn = inv.new_credit_note(h.desk, kind=kind, contact=contact, day=h.day(), lines=lines,
                             currency=doc["CurrencyCode"], reference=f"Credit for {doc['InvoiceNumber']}",
                             rate=doc["CurrencyRate"])
    if doc["Status"] == "AUTHORISED" and doc["AmountDue"] > 0:
        st.allocate(h.desk, cn, "CreditNotes", doc, amount=cn["RemainingCredit"], day=h.day())
    if doc["Status"] == "AUTHORISED":
        h.later(_pay_delay(h, doc), lambda: pay_rest(h, doc))


def _queue_batch(h: History, doc: Record, delete_later: bool) -> None:
    key = (h.d, doc["Type"])
    if key not in h.batches:
        h.batches[key] = []
        h.later(0, lambda: _flush_batch(h, key))
    h.batches[key].append((doc, delete_later))


def _flush_batch(h: History, key: tuple[int, str]) -> None:
    queued = [(d, x) for d, x in h.batches.pop(key, [])
              if d["Status"] == "AUTHORISED" and d["AmountDue"] > 0]
    for delete_later, group in itertools.groupby(sorted(queued, key=lambda q: q[1]), key=lambda q: q[1]):
        docs = [d for d, _ in group]
        batch = st.batch_pay(h.desk, [(d, d["AmountDue"]) for d in docs], day=h.day(),
                             bank=h.desk.chart.main_bank())
        if delete_later:
            def undo(batch=batch, docs=docs) -> None:
                st.delete_batch(h.desk, batch)
                for d in docs:
                    h.later(h.rng.randint(1, 10), lambda d=d: pay_rest(h, d))
            h.later(h.rng.randint(1, 7), undo)


# --- credit applied to open invoices ----------------------------------------------------


def open_invoice_for(h: History, kind: str) -> Record:
    """An authorised base-currency invoice with nothing scheduled, for allocations."""
    pool = h.open_invoices[kind]
    while pool:
        doc = pool[h.rng.randrange(len(pool))]
        if doc["Status"] == "AUTHORISED" and doc["AmountDue"] > 0:
            return doc
        pool.remove(doc)
    doc = new_invoice(h, kind, "OPEN")
    return doc


def allocate_all(h: History, credit: Record, path: str, invoice: Record, contact: Record) -> None:
    """Apply all of a credit (credit note, overpayment, prepayment) to ``invoice``, or to a
    new open invoice for the same contact if that one was settled meanwhile."""
    target = invoice
    if target["Status"] != "AUTHORISED" or target["AmountDue"] <= 0:
        target = new_invoice(h, invoice["Type"], "OPEN", contact=contact)
    st.allocate(h.desk, credit, path, target, amount=credit["RemainingCredit"], day=h.day())
