"""When an If-Modified-Since object is read whole again: the periodic reconciliation read.

Xero's If-Modified-Since sees only what moved ``UpdatedDateUTC``. Some changes do not
(a contact's Balances and IsCustomer/IsSupplier flags, an invoice's SentToContact, the
DueDate of a partly paid document), and Accounts and Users can be deleted outright with
no tombstone. An object synced only incrementally would keep those stale for ever, so
each (tenant, object) is read whole every ``every_days`` days: the merge updates what
changed and marks what vanished with ``_deleted_at``.

The cost is one full read of each If-Modified-Since object per period. To keep any one
day's runs from paying for all of them, each (tenant, object) has its own day in the
period (a stable hash of the pair), and is read whole on that day, or at once when
a period has passed without it (a missed run, or a new setting).
"""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta

DEFAULT_EVERY_DAYS = 7


def reconcile_slot(tenant_id: str, table: str, every_days: int) -> int:
    """The day of the period (0 .. every_days - 1) on which this pair is read whole."""
    return zlib.crc32(f"{tenant_id}:{table}".encode()) % every_days


def reconciliation_due(
    *, tenant_id: str, table: str, last_full_read: datetime | None, now: datetime, every_days: int,
) -> bool:
    """Should this sync read the whole collection instead of what changed?"""
    if every_days <= 0:
        return False  # switched off
    if last_full_read is None:
        return True  # never read whole by this warehouse (or before this rule existed)
    age = now - last_full_read
    if age >= timedelta(days=every_days):
        return True
    # Its own day of the period, unless it was already read whole within the last day.
    on_its_day = now.date().toordinal() % every_days == reconcile_slot(tenant_id, table, every_days)
    return on_its_day and age >= timedelta(hours=20)
