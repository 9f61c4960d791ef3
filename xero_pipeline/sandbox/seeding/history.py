"""The history clock of a demo organisation: 18 months replayed one day at a time.

Every id comes from the history's ``random.Random`` and every timestamp from a clock
that runs from 548 days before the sandbox clock's start (``EPOCH`` unless the sandbox
is given another today) to just before it, never from the wall clock, so the same seed
and start always give the same records (``tenants`` builds them).

History is simulated in day order. Each document is created on its day with a
*fate* (paid, paid in parts, credited, voided, left as a draft, …) and the fate's
later steps (approval, payments, voids, allocations) are scheduled on later days,
never past the last day. Because everything happens in time order through one
``Desk``, journal numbers, journal CreatedDateUTC and record UpdatedDateUTC all grow
together, and open items at the start are the ones whose story was still running.
Every fate is forced at least once per stream, so even ``scale=0.01`` shows each
status, allocation, batch, reversal and archive at least once.

``History`` owns the clock, the day buckets and the contacts and items every stream
trades with; the streams themselves (``invoices``, ``streams``, ``orders``) plan
their documents on it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from xero_pipeline.sandbox.books import invoicing as inv
from xero_pipeline.sandbox.books.chart import Chart
from xero_pipeline.sandbox.books.desk import Desk
from xero_pipeline.sandbox.books.parties import ContactFactory, make_item
from xero_pipeline.sandbox.books.profiles import Profile
from xero_pipeline.sandbox.books.store import Record, TenantBooks
from xero_pipeline.sandbox.seeding.org import create_settings

HISTORY_DAYS = 548
INVOICES_PER_SCALE = 3000

_LINE_COUNTS = (1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5)


class History:
    """Replays 18 months of one organisation's bookkeeping, one day at a time."""

    def __init__(self, books: TenantBooks, *, profile: Profile, scale: float, rng: random.Random) -> None:
        self.books, self.profile, self.scale, self.rng = books, profile, scale, rng
        self.first = books.clock.start.date() - timedelta(days=HISTORY_DAYS)
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
        # The invoice stream's state (see ``invoices``): base-currency invoices left
        # open for allocations, and batch payments queued per (day, type).
        self.open_invoices: dict[str, list[Record]] = {"ACCREC": [], "ACCPAY": []}
        self.batches: dict[tuple[int, str], list[tuple[Record, bool]]] = {}
        self.items: list[Record] = []
        self.desk: Desk | None = None  # set in begin(), once the settings exist

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

    def begin(self) -> None:
        """Settings, the desk, and the contacts and items every stream trades with."""
        create_settings(self.books, profile=self.profile, rng=self.rng, at=self.now())
        self.desk = Desk(self.books, rng=self.rng, now=self.now, chart=Chart(self.books))
        self._plan_contacts_and_items()

    def replay(self) -> None:
        """Run every planned action in day order; actions may plan more on later days."""
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

    # --- what the streams draw on ---------------------------------------------------------

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
