"""The sender: events caused by the books' changes, queued, batched, signed and delivered
in order by one thread, with Xero's retries. Its clock is the sandbox's ``ScaledTime``, so
a test at ``time_scale=3600`` sees 15-minute retries every quarter of a second."""

from __future__ import annotations

import random
import string
import threading
from collections.abc import Callable
from datetime import datetime

from xero_pipeline.registry import BY_PATH
from xero_pipeline.sandbox.api.limits import ScaledTime
from xero_pipeline.sandbox.books.store import TenantBooks
from xero_pipeline.sandbox.webhooks.delivery import ITR_BODY, Answer, batch_body, post
from xero_pipeline.sandbox.webhooks.subscription import ACTIVE, ITR_FAILED, Subscription

RESOURCE_BASE = "https://api.xero.com/api.xro/2.0/"
MAX_BATCH = 100  # Xero publishes no limit: an assumption (see the package docstring)


def _wrong_key(key: str) -> str:
    return key[::-1] + "x"


class WebhookSender:
    """Queue of events for the one subscription (an app has one webhook), sent by a thread."""

    def __init__(self, *, time: ScaledTime, connected: Callable[[str], bool], seed: int = 7,
                 batch_seconds: float = 1.0, timeout: float = 5.0) -> None:
        self.time, self.connected = time, connected
        self.batch_seconds = batch_seconds  # Xero seconds events wait to travel together
        self.timeout = timeout  # real seconds: Xero's 5 s answer deadline is the receiver's, not scaled
        self.subscription: Subscription | None = None
        self._pending: list[tuple[float, int, dict]] = []  # (queued at, sequence, event)
        self._cond = threading.Condition()
        self._rng = random.Random(f"{seed}:webhooks")
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.attempts: list[Answer] = []  # every delivery attempt's answer, for tests and stats
        self.delivered_events = 0

    # --- subscription ---------------------------------------------------------------------

    def subscribe(self, url: str, key: str | None, categories: frozenset[str] | None = None) -> Subscription:
        """Create (or re-point) the webhook, and probe it as Xero does before it goes live."""
        if not key:
            raise ValueError("a webhook needs a signing key (webhook_key)")
        with self._cond:
            old = self.subscription
            sub = Subscription(url=url, key=key, **({"categories": categories} if categories else {}))
            if old is not None:
                sub.next_sequence = old.next_sequence
            self.subscription = sub
        self.probe()
        return sub

    def probe(self) -> bool:
        """Intent to receive: correctly and incorrectly signed probes; 200 with no body or cookie to
        each good one and 401 to each bad one makes the webhook ACTIVE (also re-enables it)."""
        sub = self.subscription
        if sub is None:
            raise ValueError("no webhook subscription: subscribe first")
        keys = [sub.key, _wrong_key(sub.key), sub.key, _wrong_key(sub.key)]
        self._rng.shuffle(keys)
        passed = True
        for key in keys:
            answer = post(sub.url, ITR_BODY, key, timeout=self.timeout)
            good = key == sub.key
            passed &= (answer.status == 200 and not answer.body and not answer.cookies) if good \
                else answer.status == 401
        with self._cond:
            sub.status = ACTIVE if passed else ITR_FAILED
            sub.delivered()
            self._cond.notify_all()
        return passed

    def unsubscribe(self) -> None:
        with self._cond:
            self.subscription = None
            self._pending.clear()

    def status(self) -> dict:
        with self._cond:
            sub = self.subscription.describe() if self.subscription else None
            return {"subscription": sub, "pending": len(self._pending), "attempts": len(self.attempts),
                    "failed_attempts": sum(not a.ok for a in self.attempts),
                    "delivered_events": self.delivered_events}

    # --- events ---------------------------------------------------------------------------

    def watch(self, books: TenantBooks) -> None:
        """Hear of every write to ``books``: each put and delete bumps a record's revision
        (``api.query.VersionedRevisions``), whichever code made the change."""
        books.revisions.on_change = lambda path, key, rev: self.record_changed(
            books.tenant_id, path, key, rev, books.collections[path].get(key), books.clock.now)

    def record_changed(self, tenant_id: str, path: str, key: str, revision: int, record: dict | None,
                       now: Callable[[], datetime]) -> None:
        """A record of the books was written (called under the books' lock: only queue here)."""
        sub = self.subscription
        obj = BY_PATH.get(path.lower())
        if sub is None or obj is None or record is None or obj.webhook_category not in sub.categories:
            return
        if not self.connected(tenant_id):  # Xero sends events only for organisations connected to the app
            return
        when = record.get("UpdatedDateUTC")
        when = when if isinstance(when, datetime) else now()
        event = {"resourceUrl": f"{RESOURCE_BASE}{obj.path}/{key}", "resourceId": key,
                 "eventDateUtc": when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3], "eventType":
                 "CREATE" if revision == 1 else "UPDATE", "eventCategory": obj.webhook_category,
                 "tenantId": tenant_id, "tenantType": "ORGANISATION"}
        if obj.webhook_category == "CREDITNOTE":
            event["data"] = {"Type": record.get("Type"), "Status": record.get("Status")}
        with self._cond:
            self._pending.append((self.time.now(), sub.next_sequence, event))
            sub.next_sequence += 1
            self._cond.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Whether every queued event was delivered within ``timeout`` real seconds."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending, timeout)

    # --- the thread -----------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(self.timeout + 5)
            self._thread = None

    def _next_batch(self) -> tuple[Subscription, list[tuple[float, int, dict]]] | None:
        """Under the lock: the batch due now, or None after waiting as long as nothing is due."""
        sub = self.subscription
        if sub is None or sub.status != ACTIVE or not self._pending:
            self._cond.wait()
            return None
        now = self.time.now()
        due = max(sub.next_attempt, self._pending[0][0] + self.batch_seconds)
        if due > now:
            self._cond.wait(self.time.real(due - now))
            return None
        return sub, self._pending[:MAX_BATCH]

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stopping:
                    return
                picked = self._next_batch()
            if picked is None:
                continue
            sub, batch = picked
            entropy = "".join(self._rng.choices(string.ascii_uppercase, k=20))
            answer = post(sub.url, batch_body([e for _, _, e in batch], batch[0][1], entropy), sub.key,
                          timeout=self.timeout)
            with self._cond:
                self.attempts.append(answer)
                if self.subscription is not sub:
                    continue
                if answer.ok:
                    del self._pending[:len(batch)]
                    self.delivered_events += len(batch)
                    sub.delivered()
                else:
                    sub.failed(self.time.now())
                self._cond.notify_all()

