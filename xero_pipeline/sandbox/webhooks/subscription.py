"""One app's webhook subscription and Xero's rules for retrying and disabling it.

Xero retries a failed delivery "with decreasing frequency for up to 24 hours" and then
disables the webhook: at once, then every 15 minutes (secondary sources). Events that
happen meanwhile are kept and, once it is re-enabled, delivered in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xero_pipeline.registry import OBJECTS

ACTIVE = "ACTIVE"
ITR_FAILED = "INTENT_TO_RECEIVE_REQUIRED"  # the portal's state until the probes pass
DISABLED = "DISABLED"

CATEGORIES = tuple(o.webhook_category for o in OBJECTS if o.webhook_category)
RETRY_EVERY = 15 * 60.0  # Xero seconds between retries after the immediate one
GIVE_UP_AFTER = 24 * 3600.0  # Xero seconds of failing before the webhook is disabled


@dataclass
class Subscription:
    url: str
    key: str = field(repr=False)
    categories: frozenset[str] = frozenset(CATEGORIES)
    status: str = ITR_FAILED
    next_sequence: int = 1
    failing_since: float | None = None  # Xero seconds (ScaledTime) of the first failed attempt
    failed_attempts: int = 0
    next_attempt: float = 0.0

    def failed(self, now: float) -> None:
        """After a failed attempt: when to try again, or disable it after 24 h of failures."""
        if self.failing_since is None:
            self.failing_since = now
        self.failed_attempts += 1
        if now - self.failing_since >= GIVE_UP_AFTER:
            self.status = DISABLED
            return
        self.next_attempt = now if self.failed_attempts == 1 else now + RETRY_EVERY

    def delivered(self) -> None:
        self.failing_since, self.failed_attempts, self.next_attempt = None, 0, 0.0

    def describe(self) -> dict:
        return {"url": self.url, "status": self.status, "categories": sorted(self.categories),
                "failed_attempts": self.failed_attempts, "next_sequence": self.next_sequence}
