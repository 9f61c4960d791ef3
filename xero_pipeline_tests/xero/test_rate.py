"""A sync limited by Xero's 60-calls-a-minute runs at that limit, never over it.

The sandbox runs 30 times faster than real time, so Xero's minute is 2 s. Invoices are
read one per page to make the sync need several minutes' worth of calls. The sandbox
counts the calls it admits; a thread notes when each 60th one arrives. A client that
never exceeds 60 calls per rolling window needs at least m windows between call 1 and
call 1 + 60m, so m windows divided by the time it took is the share of the allowed rate
the sync used.
"""

from __future__ import annotations

import threading
import time

from xero_pipeline.registry import BY_TABLE
from xero_pipeline.sandbox import Sandbox
from xero_pipeline_tests.resource_helpers import (
    assert_matches_truth,
    run_sync,
    xero_resource,
)

TIME_SCALE = 30
WINDOW = 60 / TIME_SCALE
LIMIT = 60
INVOICES = [BY_TABLE["invoices"]]


class ArrivalLog:
    """When the sandbox's count of answered calls for one endpoint reached each value."""

    def __init__(self, sandbox: Sandbox, tenant: str, endpoint: str) -> None:
        self.sandbox, self.tenant, self.endpoint = sandbox, tenant, endpoint
        self.first_seen: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _count(self) -> int:
        calls = self.sandbox.stats()["responses"].get(self.tenant, {}).get(self.endpoint, {})
        return calls.get("200", 0)

    def _run(self) -> None:
        last = 0
        while True:
            stopping = self._stop.is_set()
            n = self._count()
            now = time.monotonic()
            for k in range(last + 1, n + 1):
                self.first_seen[k] = now
            last = max(last, n)
            if stopping:
                return
            self._stop.wait(0.002)

    def __enter__(self) -> ArrivalLog:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def test_a_sync_limited_by_xero_runs_at_the_limit_without_a_refusal(instance, tmp_path, watch):
    with Sandbox(tenants=1, scale=0.05, seed=11, limits=True, time_scale=TIME_SCALE) as sb:
        watch.sandboxes.append(sb)
        tenant = sb.tenant_ids[0]
        with ArrivalLog(sb, tenant, "Invoices") as arrivals:
            report = run_sync(instance, sb, tmp_path, objects=INVOICES, page_size=1,
                              rate_window_seconds=WINDOW)
        assert report.ok, report.failures
        stats = sb.stats()
        assert stats["rate_limited"] == {}, stats["rate_limited"]  # not one call refused
        assert set(stats["status"]) == {"200"}, stats["status"]
        calls = max(arrivals.first_seen)
        windows = (calls - 1) // LIMIT
        assert windows >= 3, f"only {calls} calls: the sync was not limited by Xero"
        took = arrivals.first_seen[1 + LIMIT * windows] - arrivals.first_seen[1]
        utilisation = windows * WINDOW / took
        print(f"\n{calls} calls; {windows} windows of {WINDOW} s took {took:.3f} s: "
              f"{utilisation:.1%} of Xero's allowed rate")
        assert utilisation >= 0.9
        assert utilisation <= 1.0 + 0.01  # the measurement itself is sound: nobody beats the limit
        assert_matches_truth(sb, tmp_path, INVOICES)


def test_two_processes_on_one_tenant_share_its_limit(tmp_path, watch):
    """Two clients with their own throttles (as two processes have) read one tenant at once;
    Xero's remaining-calls header is all they share."""
    with Sandbox(tenants=1, scale=0.05, seed=11, limits=True, time_scale=TIME_SCALE) as sb:
        watch.sandboxes.append(sb)
        tenant = sb.tenant_ids[0]
        clients = [xero_resource(sb, tmp_path, rate_window_seconds=WINDOW).get_client() for _ in range(2)]
        pages = 120
        errors: list[BaseException] = []

        def read(client) -> None:
            try:
                for page in range(1, pages + 1):
                    client.get_json("/api.xro/2.0/Invoices", tenant_id=tenant, what="invoices",
                                    params={"page": str(page), "pageSize": "1"})
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        with ArrivalLog(sb, tenant, "Invoices") as arrivals:
            threads = [threading.Thread(target=read, args=(c,)) for c in clients]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        assert not errors, errors
        refused = sum(sb.stats()["rate_limited"].values())
        calls = max(arrivals.first_seen)
        assert calls == 2 * pages
        assert refused <= 0.05 * calls, f"{refused} of {calls} calls refused"
        windows = (calls - 1) // LIMIT
        utilisation = windows * WINDOW / (arrivals.first_seen[1 + LIMIT * windows] - arrivals.first_seen[1])
        print(f"\ntwo clients: {calls} calls, {refused} refused, {utilisation:.1%} of Xero's allowed rate")
        assert utilisation >= 0.85
