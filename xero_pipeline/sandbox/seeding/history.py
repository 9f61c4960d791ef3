"""Deterministic demo organisations with 18 months of coherent history.

``build_tenants(count=2, scale=1, seed=7, clock=clock)`` builds a NZ and a UK company
(then AU, US, NZ 2, …), each with about ``3000 * scale`` invoices and bills and every
other collection in proportion. The same seed always gives the same records: every
id comes from ``random.Random`` and every timestamp from a history clock that runs
from ``EPOCH - 548 days`` to just before ``EPOCH``, never from the wall clock.

History is simulated in day order. Each document is created on its day with a
*fate* (paid, paid in parts, credited, voided, left as a draft, …) and the fate's
later steps (approval, payments, voids, allocations) are scheduled on later days,
never past the last day. Because everything happens in time order through one
``Desk``, journal numbers, journal CreatedDateUTC and record UpdatedDateUTC all grow
together, and open items at ``EPOCH`` are the ones whose story was still running.
Every fate is forced at least once per stream, so even ``scale=0.01`` shows each
status, allocation, batch, reversal and archive at least once.
"""

from __future__ import annotations

import gc
import itertools
import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from xero_pipeline.sandbox.books import invoicing as inv
from xero_pipeline.sandbox.books import settlement as st
from xero_pipeline.sandbox.books.chart import Chart, money, new_id
from xero_pipeline.sandbox.books.desk import Desk
from xero_pipeline.sandbox.books.parties import ContactFactory, make_item
from xero_pipeline.sandbox.books.profiles import PROFILES, Profile
from xero_pipeline.sandbox.books.store import EPOCH, Connection, Record, SandboxClock, TenantBooks
from xero_pipeline.sandbox.seeding.org import create_settings

HISTORY_DAYS = 548
INVOICES_PER_SCALE = 3000

# Fates of an invoice or bill, and how likely each is by age (days left until EPOCH).
FATES = ("PAID", "PAID_PARTS", "BATCH", "BATCH_DELETED", "PAYMENT_DELETED", "CREDITED", "VOIDED",
         "DELETED", "DRAFT", "SUBMITTED", "OPEN", "OPEN_PARTIAL", "EDITED", "APPROVED_LATER")
_FATE_WEIGHTS = {
    "old": (70, 5, 6, 0.3, 1, 3, 3, 2, 0.4, 0.4, 2, 2, 1, 4),
    "mid": (50, 4, 4, 0.2, 1, 3, 3, 3, 2, 2, 20, 5, 1, 3),
    "new": (18, 2, 2, 0, 0.5, 2, 2, 4, 10, 6, 45, 5, 1, 3),
}
_LINE_COUNTS = (1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5)
# Only these fates may be in a foreign currency: allocations and batches are base-only.
FOREIGN_FATES = ("PAID", "PAID_PARTS", "OPEN", "OPEN_PARTIAL", "VOIDED")


def build_tenants(*, count: int, scale: float, seed: int, clock: SandboxClock) -> list[TenantBooks]:
    """``count`` demo organisations, cycling through the NZ, UK, AU and US profiles."""
    if count < 1 or scale <= 0:
        raise ValueError("count must be >= 1 and scale > 0")
    master = random.Random(seed)
    tenants = []
    # Millions of long-lived small dicts make the cyclic collector rescan the whole heap
    # over and over (quadratic at scale 100); nothing built here needs it. A process that
    # only serves the sandbox should also gc.freeze() afterwards (see app.serve_forever),
    # but that is process-wide, so it is not done here where tests share the process.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for i in range(count):
            tenants.append(_build_one(master, i, scale=scale, clock=clock))
    finally:
        if collecting:
            gc.enable()
    return tenants


def _build_one(master: random.Random, i: int, *, scale: float, clock: SandboxClock) -> TenantBooks:
    rng = random.Random(master.getrandbits(64))
    profile = PROFILES[i % len(PROFILES)]
    round_ = i // len(PROFILES)
    name = profile.org_name if round_ == 0 else f"{profile.org_name} {round_ + 1}"
    books = TenantBooks(tenant_id=new_id(rng), name=name, base_currency=profile.currency, clock=clock)
    history = History(books, profile=profile, scale=scale, rng=rng)
    history.run()
    history.desk = None  # the desk's clock is the history's bound method: break the cycle
    return books


def connections_for(tenants: list[TenantBooks]) -> list[Connection]:
    """One /connections entry per tenant, all from one consent (one authEventId)."""
    rng = random.Random("connections:" + ",".join(t.tenant_id for t in tenants))
    auth_event = new_id(rng)
    out = []
    for i, t in enumerate(tenants):
        created = EPOCH - timedelta(days=30) + timedelta(seconds=i)
        out.append(Connection(id=new_id(rng), tenant_id=t.tenant_id, tenant_name=t.name, created=created,
                              updated=created, auth_event_id=auth_event))
    return out


def amount_for(rng: random.Random, low: int, high: int, step: int = 50) -> Decimal:
    """A round amount such as a transfer or an owner's drawing."""
    return money(rng.randrange(low, high, step))


class History:
    """Replays 18 months of one organisation's bookkeeping, one day at a time."""

    def __init__(self, books: TenantBooks, *, profile: Profile, scale: float, rng: random.Random) -> None:
        self.books, self.profile, self.scale, self.rng = books, profile, scale, rng
        self.first = EPOCH.date() - timedelta(days=HISTORY_DAYS)
        self.last_index = HISTORY_DAYS - 1
        self.buckets: list[list[Callable[[], None]]] = [[] for _ in range(HISTORY_DAYS)]
        self.d = 0  # the day being replayed
        expected_calls = max(40.0, scale * INVOICES_PER_SCALE * 9 / HISTORY_DAYS)
        self._step_ms = max(2, int(9 * 3600 * 1000 / expected_calls))
        self._t = datetime.combine(self.first, datetime.min.time(), tzinfo=UTC) - timedelta(days=30)
        self._day_end = self._t + timedelta(hours=23)
        self.customers: list[Record] = []
        self.suppliers: list[Record] = []
        self.foreign_customers: list[Record] = []
        self.foreign_suppliers: list[Record] = []
        self.open_invoices: dict[str, list[Record]] = {"ACCREC": [], "ACCPAY": []}
        self.items: list[Record] = []
        self.desk: Desk | None = None  # set in run(), once the settings exist
        self._batches: dict[tuple[int, str], list[Record]] = {}

    # --- the history clock ----------------------------------------------------------------

    def now(self) -> datetime:
        """The next instant of the day being replayed; never spills into the next day."""
        step = timedelta(milliseconds=self.rng.randint(1, 2 * self._step_ms))
        self._t += step if self._t + step < self._day_end else timedelta(milliseconds=1)
        return self._t

    def day(self, index: int | None = None) -> date:
        return self.first + timedelta(days=self.d if index is None else index)

    def later(self, delay: int, action: Callable[[], None]) -> None:
        """Run ``action`` ``delay`` days after the current day, but never after the last day."""
        self.buckets[min(self.d + max(delay, 0), self.last_index)].append(action)

    def within(self, delay: int) -> bool:
        """Whether ``delay`` days from now is still history (for recurring events)."""
        return self.d + delay <= self.last_index

    def spread(self, n: int, *, start: int = 0) -> list[int]:
        """Creation days for ``n`` documents: growing business, quiet weekends."""
        days = range(start, HISTORY_DAYS)
        weights = [(1 + 0.8 * d / HISTORY_DAYS) * (0.3 if self.day(d).weekday() >= 5 else 1.0) for d in days]
        return sorted(self.rng.choices(days, weights=weights, k=n))

    def count(self, per_scale: float, minimum: int) -> int:
        return max(minimum, round(per_scale * self.scale))

    def fates(
        self, n: int, days: list[int], options: tuple[str, ...], weights_for: Callable[[int], tuple]
    ) -> list[str]:
        """A fate per document, every option forced at least once at a random position."""
        out = [self.rng.choices(options, weights=weights_for(self.last_index - d))[0] for d in days]
        for fate, pos in zip(options, self.rng.sample(range(n), min(n, len(options))), strict=False):
            out[pos] = fate
        return out

    # --- running --------------------------------------------------------------------------

    def run(self) -> None:
        from xero_pipeline.sandbox.seeding import orders as seed_orders
        from xero_pipeline.sandbox.seeding import streams as seed_streams
        create_settings(self.books, profile=self.profile, rng=self.rng, at=self.now())
        self.desk = Desk(self.books, rng=self.rng, now=self.now, chart=Chart(self.books))
        self._plan_contacts_and_items()
        self._plan_invoices()
        seed_streams.plan_all(self)
        seed_orders.plan_all(self)
        for d in range(HISTORY_DAYS):
            self.d = d
            morning = datetime.combine(self.day(), datetime.min.time(), tzinfo=UTC) + timedelta(hours=7)
            self._t = max(self._t, morning)
            self._day_end = morning + timedelta(hours=16, minutes=59)
            bucket = self.buckets[d]
            i = 0
            while i < len(bucket):
                bucket[i]()
                i += 1
            self.buckets[d] = []
        seed_orders.finish(self)

    # --- contacts and items ---------------------------------------------------------------

    def _plan_contacts_and_items(self) -> None:
        n_contacts = self.count(INVOICES_PER_SCALE * 0.1, 12)
        factory = ContactFactory(self.books, self.profile, self.rng)
        foreign = self.profile.foreign
        for i, d in enumerate(self.spread(n_contacts)):
            customer = i % 3 != 1
            supplier = not customer or self.rng.random() < 0.1
            overseas = i in (2, 4) or (i > 5 and self.rng.random() < 0.12)
            currency = self.rng.choice(foreign) if overseas else self.profile.currency
            day = 0 if i < n_contacts // 2 else d
            dormant = i % 17 == 16 or i == 6  # imported leads that never trade, archived later
            retire = not dormant and self.rng.random() < 0.05 and day < HISTORY_DAYS // 2
            self.buckets[day].append(lambda c=customer, s=supplier, cur=currency, dm=dormant, rt=retire:
                                     self._new_contact(factory, c, s, cur, dm, rt))
        for i in range(self.count(INVOICES_PER_SCALE * 0.02, 6)):
            day = 0 if i < 4 else self.rng.randrange(HISTORY_DAYS // 2)
            self.buckets[day].append(lambda i=i: self._new_item(i))

    def _new_contact(self, factory: ContactFactory, customer: bool, supplier: bool, currency: str,
                     dormant: bool, retire: bool) -> None:
        contact = factory.make(customer=customer, supplier=supplier, currency=currency,
                               contact_id=self.desk.id())
        self.desk.save("Contacts", contact)
        if dormant:
            self.later(self.rng.randint(30, 400), lambda: self.archive_contact(contact))
            return
        pools = []
        if customer:
            pools.append(self.customers if currency == self.profile.currency else self.foreign_customers)
        if supplier:
            pools.append(self.suppliers if currency == self.profile.currency else self.foreign_suppliers)
        for pool in pools:
            pool.append(contact)
        if retire:
            self.later(self.rng.randint(60, 200), lambda: self._retire(contact, pools))
        elif self.rng.random() < 0.15:
            self.later(self.rng.randint(5, 300), lambda: self._edit_contact(contact))

    def _retire(self, contact: Record, pools: list[list[Record]]) -> None:
        for pool in pools:
            if len(pool) > 1 and contact in pool:
                pool.remove(contact)
        self.later(120, lambda: self.archive_contact(contact))

    def archive_contact(self, contact: Record) -> None:
        contact["ContactStatus"] = "ARCHIVED"
        self.desk.save("Contacts", contact)

    def _edit_contact(self, contact: Record) -> None:
        contact["Phones"][0] = dict(contact["Phones"][0], PhoneNumber=f"{self.rng.randint(2000000, 9999999)}")
        self.desk.save("Contacts", contact)

    def _new_item(self, index: int) -> None:
        item = make_item(profile=self.profile, rng=self.rng, index=index, item_id=self.desk.id())
        self.items.append(self.desk.save("Items", item))
        if self.rng.random() < 0.3:
            self.later(self.rng.randint(20, 300), lambda: self._reprice_item(item))

    def _reprice_item(self, item: Record) -> None:
        details = dict(item["SalesDetails"])
        details["UnitPrice"] = (details["UnitPrice"] * 105 / 100).quantize(details["UnitPrice"])
        item["SalesDetails"] = details
        self.desk.save("Items", item)

    # --- invoices and bills ---------------------------------------------------------------

    def contact_for(self, kind: str, *, foreign: bool = False) -> Record:
        if kind in ("ACCREC", "ACCRECCREDIT"):
            pool = self.foreign_customers if foreign and self.foreign_customers else self.customers
        else:
            pool = self.foreign_suppliers if foreign and self.foreign_suppliers else self.suppliers
        return self.rng.choice(pool)

    def lines_for(self, kind: str, currency: str, count: int | None = None) -> list[dict]:
        count = count or self.rng.choice(_LINE_COUNTS)
        if kind in ("ACCREC", "ACCRECCREDIT"):
            return inv.sales_lines(self.desk, count=count, currency=currency, items=self.items)
        return inv.purchase_lines(self.desk, count=count, currency=currency)

    def _plan_invoices(self) -> None:
        total = self.count(INVOICES_PER_SCALE, 2 * len(FATES))
        for kind, share in (("ACCREC", 0.6), ("ACCPAY", 0.4)):
            n = max(len(FATES), round(total * share))
            days = self.spread(n, start=1)
            fates = self.fates(n, days, FATES, _fate_weights)
            foreign_at = set(self.rng.sample(range(n), max(1, n // 12)))
            for i, (d, fate) in enumerate(zip(days, fates, strict=True)):
                foreign = i in foreign_at and fate in FOREIGN_FATES
                self.buckets[d].append(lambda k=kind, f=fate, fx=foreign: self.new_invoice(k, f, foreign=fx))

    def new_invoice(self, kind: str, fate: str, *, foreign: bool = False, contact: Record | None = None,
                    lines: list[dict] | None = None, repeating_id: str | None = None) -> Record:
        rng = self.rng
        contact = contact or self.contact_for(kind, foreign=foreign)
        currency = contact.get("DefaultCurrency", self.profile.currency)
        if fate not in FOREIGN_FATES:
            currency = self.profile.currency  # allocations and batches stay in base currency
        draft = fate in ("DRAFT", "SUBMITTED", "DELETED", "APPROVED_LATER") or (
            fate == "EDITED" and rng.random() < 0.5
        )
        # Most documents are tax exclusive; some sales are priced tax inclusive, a few bills carry no tax.
        amounts = "Exclusive"
        if rng.random() >= 0.93:
            amounts = "Inclusive" if kind == "ACCREC" or rng.random() < 0.6 else "NoTax"
        doc = inv.new_invoice(self.desk, kind=kind, contact=contact, day=self.day(),
                              lines=lines or self.lines_for(kind, currency), currency=currency,
                              status="DRAFT" if draft else "AUTHORISED", line_amount_types=amounts,
                              repeating_id=repeating_id)
        if fate == "DRAFT":
            if rng.random() < 0.5:
                self.later(
                    rng.randint(0, 5), lambda: doc["Status"] == "DRAFT" and inv.edit_draft(self.desk, doc)
                )
        elif fate == "SUBMITTED":
            self.later(rng.randint(0, 3), lambda: inv.submit(self.desk, doc))
        elif fate == "DELETED":
            self.later(rng.randint(0, 20), lambda: inv.delete_draft(self.desk, doc))
        elif draft:
            def approve() -> None:
                if doc["Status"] == "DRAFT" and rng.random() < 0.4:
                    inv.edit_draft(self.desk, doc)
                inv.approve(self.desk, doc)
                self._after_approval(doc, fate)
            self.later(rng.randint(0, 6), approve)
        else:
            self._after_approval(doc, fate)
        return doc

    def _pay_delay(self, doc: Record) -> int:
        terms = (doc["DueDate"] - doc["Date"]).days
        return max(0, terms + round(self.rng.gauss(0, 8)) - (self.d - (doc["Date"] - self.first).days))

    def _after_approval(self, doc: Record, fate: str) -> None:
        rng, desk = self.rng, self.desk
        if fate == "OPEN":
            if doc["CurrencyCode"] == self.profile.currency:
                self.open_invoices[doc["Type"]].append(doc)
        elif fate == "VOIDED":
            self.later(rng.randint(1, 30), lambda: inv.void(desk, doc))
        elif fate == "EDITED":
            def edit() -> None:
                inv.edit_authorised(desk, doc)
                self.later(self._pay_delay(doc), lambda: self.pay_rest(doc))
            self.later(rng.randint(0, 5), edit)
        elif fate in ("PAID", "APPROVED_LATER"):
            self.later(self._pay_delay(doc), lambda: self.pay_rest(doc))
        elif fate in ("PAID_PARTS", "OPEN_PARTIAL"):
            parts = rng.choice((0.25, 0.4, 0.5, 0.6))

            def first_part() -> None:
                self.pay(doc, st.part_of(doc["AmountDue"], parts))
                if fate == "PAID_PARTS":
                    self.later(rng.randint(7, 45), lambda: self.pay_rest(doc))
            self.later(self._pay_delay(doc) // 2, first_part)
        elif fate in ("BATCH", "BATCH_DELETED"):
            self.later(self._pay_delay(doc), lambda: self._queue_batch(doc, fate == "BATCH_DELETED"))
        elif fate == "PAYMENT_DELETED":
            # A payment keyed against the wrong invoice is deleted, then paid again.
            def paid_twice() -> None:
                payment = self.pay(doc, doc["AmountDue"])
                if payment is not None:
                    self.later(rng.randint(1, 10), lambda: undo(payment))

            def undo(payment: Record) -> None:
                st.delete_payment(desk, payment)
                self.later(rng.randint(1, 10), lambda: self.pay_rest(doc))
            self.later(self._pay_delay(doc), paid_twice)
        elif fate == "CREDITED":
            self.later(rng.randint(2, 25), lambda: self._credit(doc))

    def pay(self, doc: Record, amount: Decimal) -> Record | None:
        if doc["Status"] != "AUTHORISED" or doc["AmountDue"] <= 0:
            return None
        amount = min(amount, doc["AmountDue"])
        payment = st.pay(self.desk, doc, amount=amount, day=self.day(),
                         bank=self.desk.chart.bank_for(self.rng),
                         reference=self.rng.choice(("", "", doc["InvoiceNumber"], "Thank you")))
        if self.d < self.last_index - 10 and self.rng.random() < 0.9:
            payment["IsReconciled"] = True  # reconciled later against the bank statement
        return payment

    def pay_rest(self, doc: Record) -> None:
        self.pay(doc, doc["AmountDue"])

    def _credit(self, doc: Record) -> None:
        """A credit note for part or all of the invoice, allocated to it; any rest is paid."""
        share = self.rng.choice((0.1, 0.25, 0.5, 1.0))
        kind = inv.CREDIT_TYPE[doc["Type"]]
        lines = [dict(ln, LineItemID=self.desk.id()) for ln in doc["LineItems"][:1]]
        for ln in lines:
            ln["Quantity"] = Decimal("1.0000")
            ln["UnitAmount"] = min(ln["LineAmount"], money(doc["SubTotal"] * Decimal(str(share))))
            ln.pop("DiscountRate", None)
            self.desk.price_line(ln, "Exclusive")
        contact = {"ContactID": doc["Contact"]["ContactID"], "Name": doc["Contact"]["Name"]}
        cn = inv.new_credit_note(self.desk, kind=kind, contact=contact, day=self.day(), lines=lines,
                                 currency=doc["CurrencyCode"], reference=f"Credit for {doc['InvoiceNumber']}",
                                 rate=doc["CurrencyRate"])
        if doc["Status"] == "AUTHORISED" and doc["AmountDue"] > 0:
            st.allocate(self.desk, cn, "CreditNotes", doc, amount=cn["RemainingCredit"], day=self.day())
        if doc["Status"] == "AUTHORISED":
            self.later(self._pay_delay(doc), lambda: self.pay_rest(doc))

    def _queue_batch(self, doc: Record, delete_later: bool) -> None:
        key = (self.d, doc["Type"])
        if key not in self._batches:
            self._batches[key] = []
            self.later(0, lambda: self._flush_batch(key))
        self._batches[key].append((doc, delete_later))

    def _flush_batch(self, key: tuple[int, str]) -> None:
        queued = [(d, x) for d, x in self._batches.pop(key, [])
                  if d["Status"] == "AUTHORISED" and d["AmountDue"] > 0]
        for delete_later, group in itertools.groupby(sorted(queued, key=lambda q: q[1]), key=lambda q: q[1]):
            docs = [d for d, _ in group]
            batch = st.batch_pay(self.desk, [(d, d["AmountDue"]) for d in docs], day=self.day(),
                                 bank=self.desk.chart.main_bank())
            if delete_later:
                def undo(batch=batch, docs=docs) -> None:
                    st.delete_batch(self.desk, batch)
                    for d in docs:
                        self.later(self.rng.randint(1, 10), lambda d=d: self.pay_rest(d))
                self.later(self.rng.randint(1, 7), undo)

    def open_invoice_for(self, kind: str) -> Record:
        """An authorised base-currency invoice with nothing scheduled, for allocations."""
        pool = self.open_invoices[kind]
        while pool:
            doc = pool[self.rng.randrange(len(pool))]
            if doc["Status"] == "AUTHORISED" and doc["AmountDue"] > 0:
                return doc
            pool.remove(doc)
        doc = self.new_invoice(kind, "OPEN")
        return doc


def _fate_weights(age: int) -> tuple:
    return _FATE_WEIGHTS["old" if age > 60 else "mid" if age > 20 else "new"]
