"""A day in the life of a demo organisation, applied at the sandbox clock's now.

``simulate_day`` moves the clock a day ahead (unless the caller already did, as the
facade does once for all tenants sharing a clock) and then makes the changes an
incremental sync has to cope with: new invoices and bills, drafts edited, approved and
deleted, payments (full and partial), voids with reversal journals, an authorised
invoice edited (reversal plus re-post), archived contacts, a hard-deleted item, spend
money created and re-coded, a manual journal, a tracking option deleted, a contact
taken out of a group. Every change goes through the same bookkeeping code as the
seed, so the ledger stays balanced and UpdatedDateUTC moves with each record.

Assumptions where the fact sheet is silent:

* Nothing is posted into a locked period: voids and edits only touch documents dated
  after the organisation's ``PeriodLockDate``, and a draft older than that is re-dated
  to today before it is approved.
* Deleting a tracking option is only allowed for options no transaction uses; the
  simulated bookkeeper only ever removes the unused ``Campaign …`` options, and adds a
  new one each day so there is always one to remove.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta

from xero_pipeline.sandbox.books import banking, manual_journals
from xero_pipeline.sandbox.books import invoicing as inv
from xero_pipeline.sandbox.books import settlement as st
from xero_pipeline.sandbox.books.chart import SPARE_OPTION_PREFIX, money, new_id
from xero_pipeline.sandbox.books.desk import Desk
from xero_pipeline.sandbox.books.parties import ContactFactory, make_item
from xero_pipeline.sandbox.books.store import Record, TenantBooks

_HISTORY_DAYS = 548


def simulate_day(books: TenantBooks, *, rng: random.Random, advance_clock: bool = True) -> dict[str, int]:
    """Advance a day and apply one day of bookkeeping; returns counts per kind of change."""
    if advance_clock:
        books.clock.advance(86400)
    with books.lock:
        return _Day(books, rng).run()


class _Day:
    def __init__(self, books: TenantBooks, rng: random.Random) -> None:
        self.books, self.rng = books, rng
        self.desk = Desk(books, rng=rng)
        self.today: date = self.desk.now().date()
        self.lock: date = self.desk.chart.org.get("PeriodLockDate") or date.min
        self.counts: Counter[str] = Counter()
        base = self.desk.chart.base
        active = [c for c in books.records("Contacts") if c["ContactStatus"] == "ACTIVE"]
        self.customers = [c for c in active if c["IsCustomer"] and c.get("DefaultCurrency", base) == base]
        self.suppliers = [c for c in active if c["IsSupplier"] and c.get("DefaultCurrency", base) == base]
        self.foreign = [c for c in active if c.get("DefaultCurrency", base) != base and c["IsCustomer"]]
        self.invoices = books.records("Invoices")
        self.per_day = max(2, round(len(self.invoices) / _HISTORY_DAYS))

    def run(self) -> dict[str, int]:
        self._new_contact()
        self._new_documents()
        self._work_drafts()
        self._payments()
        self._void_and_repost()
        self._banking()
        self._housekeeping()
        return dict(self.counts)

    # --- documents ------------------------------------------------------------------------

    def _contact(self, kind: str) -> Record:
        pool = self.customers if kind == "ACCREC" else self.suppliers
        return self.rng.choice(pool or self.customers or self.suppliers)

    def _invoice(self, kind: str, *, status: str, foreign: bool = False) -> Record:
        contact = self.rng.choice(self.foreign) if foreign and self.foreign else self._contact(kind)
        currency = contact.get("DefaultCurrency", self.desk.chart.base)
        count = self.rng.choice((1, 1, 2, 3, 4, 5))
        lines = (inv.sales_lines(self.desk, count=count, currency=currency, items=self.books.records("Items"))
                 if kind == "ACCREC" else inv.purchase_lines(self.desk, count=count, currency=currency))
        doc = inv.new_invoice(
            self.desk,
            kind=kind,
            contact=contact,
            day=self.today,
            lines=lines,
            status=status,
            currency=currency,
        )
        self.counts["drafts_created" if status == "DRAFT" else "invoices_created"] += 1
        return doc

    def _new_documents(self) -> None:
        for i in range(self.per_day):
            kind = "ACCREC" if i % 5 < 3 else "ACCPAY"
            self._invoice(kind, status="AUTHORISED", foreign=i == 1 and self.rng.random() < 0.3)
        for kind in ("ACCREC", "ACCPAY", "ACCREC"):
            self._invoice(kind, status="DRAFT")
        if self.rng.random() < 0.5:
            self._credit_note()

    def _credit_note(self) -> None:
        open_ = [d for d in self.invoices if d["Type"] == "ACCREC" and d["Status"] == "AUTHORISED"
                 and d["CurrencyCode"] == self.desk.chart.base and d["AmountDue"] > 0]
        if not open_:
            return
        target = self.rng.choice(open_)
        line = dict(target["LineItems"][0], LineItemID=self.desk.id())
        line.pop("DiscountRate", None)
        self.desk.price_line(line, "Exclusive")
        contact = {"ContactID": target["Contact"]["ContactID"], "Name": target["Contact"]["Name"]}
        cn = inv.new_credit_note(
            self.desk,
            kind="ACCRECCREDIT",
            contact=contact,
            day=self.today,
            lines=[line],
            reference=f"Credit for {target['InvoiceNumber']}",
        )
        st.allocate(self.desk, cn, "CreditNotes", target, amount=cn["RemainingCredit"], day=self.today)
        self.counts["credit_notes_allocated"] += 1

    def _drafts(self) -> list[Record]:
        return [d for d in self.books.records("Invoices") if d["Status"] in ("DRAFT", "SUBMITTED")]

    def _work_drafts(self) -> None:
        drafts = self._drafts()
        self.rng.shuffle(drafts)
        edited = next((d for d in drafts if d["Status"] == "DRAFT"), None)
        if edited is not None:
            inv.edit_draft(self.desk, edited)
            self.counts["drafts_edited"] += 1
            drafts.remove(edited)
        for doc in drafts[: max(1, self.per_day // 2)]:
            if doc["Date"] <= self.lock:
                doc["Date"] = self.today  # re-dated out of the locked period before approval
                doc["DueDate"] = self.today + timedelta(days=20)
            inv.approve(self.desk, doc)
            self.counts["drafts_approved"] += 1
        for doc in drafts[max(1, self.per_day // 2):][:1]:
            inv.delete_draft(self.desk, doc)
            self.counts["drafts_deleted"] += 1

    def _payments(self) -> None:
        due = [
            d for d in self.books.records("Invoices") if d["Status"] == "AUTHORISED" and d["AmountDue"] > 0
        ]
        self.rng.shuffle(due)
        full = max(1, self.per_day)
        for doc in due[:full]:
            st.pay(self.desk, doc, amount=doc["AmountDue"], day=self.today,
                   bank=self.desk.chart.bank_for(self.rng))
            self.counts["invoices_paid"] += 1
        for doc in due[full: full + max(1, self.per_day // 3)]:
            st.pay(self.desk, doc, amount=st.part_of(doc["AmountDue"], 0.4), day=self.today,
                   bank=self.desk.chart.bank_for(self.rng))
            self.counts["partial_payments"] += 1

    def _void_and_repost(self) -> None:
        clean = [
            d
            for d in self.books.records("Invoices")
            if d["Status"] == "AUTHORISED"
            and not d["Payments"]
            and not d["AmountCredited"]
            and d["Date"] > self.lock
        ]
        self.rng.shuffle(clean)
        if clean:
            inv.void(self.desk, clean.pop())
            self.counts["invoices_voided"] += 1
        if clean:
            inv.edit_authorised(self.desk, clean.pop())
            self.counts["invoices_reposted"] += 1

    # --- banking ----------------------------------------------------------------------------

    def _banking(self) -> None:
        desk, ch = self.desk, self.desk.chart
        for _ in range(max(1, self.per_day // 3)):
            lines = inv.purchase_lines(desk, count=self.rng.choice((1, 2)), currency=ch.base)
            banking.new_bank_transaction(
                desk,
                kind="SPEND",
                bank=ch.bank_for(self.rng),
                day=self.today,
                lines=lines,
                contact=self._contact("ACCPAY"),
                reference="Card purchase",
            )
            self.counts["bank_transactions_created"] += 1
        spends = [t for t in self.books.records("BankTransactions") if t["Type"] == "SPEND"
                  and t["Status"] == "AUTHORISED" and t["Date"] > self.lock]
        if spends:
            banking.edit_bank_transaction(desk, self.rng.choice(spends))
            self.counts["bank_transactions_edited"] += 1
        amount = money(self.rng.randrange(200, 3000) * max(1, self.per_day // 5))
        manual_journals.new_manual_journal(desk, day=self.today, narration="Daily accrual",
                                           lines=[(ch.by_code["412"], amount, "Accrued fees"),
                                                  (ch.by_code["800"], -amount, "Accrued fees")])
        self.counts["manual_journals"] += 1

    # --- settings and contacts --------------------------------------------------------------

    def _new_contact(self) -> None:
        factory = ContactFactory(self.books, self.desk.chart.profile, self.rng)
        contact = factory.make(customer=True, supplier=self.rng.random() < 0.2, currency=self.desk.chart.base,
                               contact_id=self.desk.id())
        self.desk.save("Contacts", contact)
        self.customers.append(contact)
        self.counts["contacts_created"] += 1

    def _housekeeping(self) -> None:
        desk, rng = self.desk, self.rng
        candidates = [c for c in self.customers + self.suppliers if c["ContactStatus"] == "ACTIVE"]
        if len(candidates) > 2:
            victim = rng.choice(candidates)
            victim["ContactStatus"] = "ARCHIVED"
            desk.save("Contacts", victim)
            self.counts["contacts_archived"] += 1
        items = self.books.records("Items")
        if len(items) < 4:
            item = make_item(profile=desk.chart.profile, rng=rng, index=len(items) + rng.randrange(1000),
                             item_id=desk.id())
            item["Code"] = f"{item['Code']}-{self.today:%y%m%d}"
            desk.save("Items", item)
            items.append(item)
            self.counts["items_created"] += 1
        self.books.delete("Items", rng.choice(items)["ItemID"])
        self.counts["items_deleted"] += 1
        self._rotate_tracking_option()
        self._regroup()

    def _rotate_tracking_option(self) -> None:
        cats = [c for c in self.books.records("TrackingCategories") if c["Status"] == "ACTIVE"]
        if not cats:
            return
        cat = self.rng.choice(cats)
        added = {"TrackingOptionID": new_id(self.rng), "Name": f"{SPARE_OPTION_PREFIX}{self.today:%d %b %Y}",
                 "Status": "ACTIVE", "TrackingCategoryID": cat["TrackingCategoryID"]}
        if any(o["Name"] == added["Name"] for o in cat["Options"]):
            added["Name"] += f" ({len(cat['Options'])})"
        cat["Options"] = [*cat["Options"], added]
        self.desk.save("TrackingCategories", cat)
        self.counts["tracking_options_added"] += 1
        for victim_cat in cats:
            spare = [o for o in victim_cat["Options"] if o["Name"].startswith(SPARE_OPTION_PREFIX)
                     and o is not added]
            if spare:
                victim_cat["Options"] = [o for o in victim_cat["Options"] if o is not spare[0]]
                self.desk.save("TrackingCategories", victim_cat)
                self.counts["tracking_options_deleted"] += 1
                return

    def _regroup(self) -> None:
        groups = [g for g in self.books.records("ContactGroups") if g["Status"] == "ACTIVE"]
        members = [g for g in groups if g["Contacts"]]
        if members:
            group = self.rng.choice(members)
            gone = self.rng.choice(group["Contacts"])
            group["Contacts"] = [c for c in group["Contacts"] if c is not gone]
            self.desk.save("ContactGroups", group)
            self.counts["contact_group_removals"] += 1
        if groups and self.customers:
            group = self.rng.choice(groups)
            joiner = self.rng.choice(self.customers)
            if all(c["ContactID"] != joiner["ContactID"] for c in group["Contacts"]):
                group["Contacts"] = [
                    *group["Contacts"],
                    {"ContactID": joiner["ContactID"], "Name": joiner["Name"]},
                ]
                self.desk.save("ContactGroups", group)
                self.counts["contact_group_additions"] += 1
