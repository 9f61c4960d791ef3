"""What the client knows of each tenant's Xero day: the calls left, and when a spent day returns.

Xero limits each organisation to a number of calls a day (1,000 on the Starter plan,
5,000 on the others) and says how many are left on every answer
(``X-DayLimit-Remaining``). Two uses:

* a step that must leave calls for later work (``keep``) stops before spending them,
  judged from the last reading, which stands for at most ``TRUSTED_SECONDS``: Xero's day
  resets at a time it does not announce, so an old reading would block a new day;
* once Xero answers 429 ``day`` the tenant is parked until its ``Retry-After``: every
  later call for it fails at once with the same error, without spending a request.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from xero_pipeline.errors import XeroBudgetReached, XeroDailyLimitError

TRUSTED_SECONDS = 3600.0


class TenantDays:
    def __init__(self) -> None:
        self._resets: dict[str, datetime] = {}  # tenant -> when Xero takes its calls again
        self._left: dict[str, tuple[int, float]] = {}  # tenant -> (calls left, monotonic time read)

    def saw(self, tenant_id: str, remaining: int) -> None:
        self._left[tenant_id] = (remaining, time.monotonic())

    def left(self, tenant_id: str) -> int | None:
        """The tenant's calls left today as Xero last said (None: no recent answer)."""
        seen = self._left.get(tenant_id)
        if seen is None or time.monotonic() - seen[1] > TRUSTED_SECONDS:
            return None
        return seen[0]

    def park(self, tenant_id: str, until: datetime) -> None:
        if until > datetime.now(UTC):
            self._resets[tenant_id] = until

    def parked(self, tenant_id: str) -> XeroDailyLimitError | None:
        """The error every call for a parked tenant gets, or None once its day is back."""
        resets_at = self._resets.get(tenant_id)
        if resets_at is None:
            return None
        wait = (resets_at - datetime.now(UTC)).total_seconds()
        if wait <= 0:
            del self._resets[tenant_id]
            return None
        return XeroDailyLimitError(tenant_id=tenant_id, retry_after=wait, resets_at=resets_at)

    def refusal(self, tenant_id: str, *, keep: int | None) -> XeroDailyLimitError | XeroBudgetReached | None:
        """Why the next call for the tenant must not be sent, if it must not."""
        if (parked := self.parked(tenant_id)) is not None:
            return parked
        left = self.left(tenant_id)
        if keep is not None and left is not None and left <= keep:
            return XeroBudgetReached(tenant_id=tenant_id, remaining=left, keep=keep)
        return None
