"""Xero's rate limits in the sandbox: minute, day, concurrent and app-wide, with their headers."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from xero_pipeline.sandbox import Sandbox
from xero_pipeline.sandbox.api.limits import RateLimiter, ScaledTime
from xero_pipeline.sandbox.books.store import SandboxClock
from xero_pipeline_tests.conftest import Api, make_books


@pytest.fixture
def limited() -> Iterator[Sandbox]:
    """Limits on; Xero's minute lasts two real seconds."""
    clock = SandboxClock()
    with Sandbox(books=[make_books(clock, 0), make_books(clock, 1)], time_scale=30) as sb:
        yield sb


def test_headers_on_every_accounting_response(limited: Sandbox) -> None:
    api = Api(limited)
    first = api.get("Accounts")
    second = api.get("Nope")
    assert first.headers["X-MinLimit-Remaining"] == "59" and first.headers["X-DayLimit-Remaining"] == "4999"
    assert first.headers["X-AppMinLimit-Remaining"] == "9999"
    # An unknown path is rejected before a tenant is resolved: no quota, no headers.
    assert second.status_code == 404 and "X-MinLimit-Remaining" not in second.headers


def test_minute_limit(limited: Sandbox) -> None:
    api = Api(limited)
    remaining = [int(api.get("Accounts").headers["X-MinLimit-Remaining"]) for _ in range(60)]
    assert remaining == list(range(59, -1, -1))
    for _ in range(3):  # rejected calls do not count towards the minute
        resp = api.get("Accounts")
        assert resp.status_code == 429
        assert resp.headers["X-Rate-Limit-Problem"] == "minute" and resp.headers["Retry-After"] in ("1", "2")
        assert resp.headers["X-MinLimit-Remaining"] == "0"
    other = Api(limited, tenant_id=limited.tenant_ids[1], token=api.token)
    assert other.get("Accounts").status_code == 200  # the limit is per tenant
    time.sleep(2.05)
    assert api.get("Accounts").headers["X-MinLimit-Remaining"] == "59"
    stats = limited.stats()
    assert stats["rate_limited"] == {"minute": 3}
    assert stats["responses"][limited.tenant_ids[0]]["Accounts"] == {"200": 61, "429": 3}


def test_day_limit() -> None:
    # time_scale 43200: Xero's day lasts two seconds and its minute is too short to bite.
    with Sandbox(books=[make_books(SandboxClock())], time_scale=43_200, day_limit=5,
                 token_lifetime=10 * 86_400) as sb:
        api = Api(sb)
        left = [api.get("Accounts").headers["X-DayLimit-Remaining"] for _ in range(5)]
        assert left == ["4", "3", "2", "1", "0"]
        resp = api.get("Accounts")
        assert resp.status_code == 429 and resp.headers["X-Rate-Limit-Problem"] == "day"
        assert resp.headers["Retry-After"] in ("1", "2") and resp.headers["X-DayLimit-Remaining"] == "0"
        time.sleep(2.05)
        assert api.get("Accounts").status_code == 200


def test_concurrent_limit(limited: Sandbox) -> None:
    api = Api(limited)
    limited.inject("slow", tenant_id=api.tenant_id, path="Accounts", count=5, seconds=60)  # 2 s each
    results: list[int] = []

    def call() -> None:
        results.append(Api(limited, token=api.token).get("Accounts").status_code)

    threads = [threading.Thread(target=call) for _ in range(5)]
    for t in threads:
        t.start()
    time.sleep(0.8)
    resp = api.get("Accounts")
    assert resp.status_code == 429 and resp.headers["X-Rate-Limit-Problem"] == "concurrent"
    assert resp.headers["Retry-After"]
    for t in threads:
        t.join()
    assert results == [200] * 5
    stats = limited.stats()
    assert stats["max_concurrent"][api.tenant_id] == 5 and stats["rate_limited"]["concurrent"] == 1


def test_app_minute_limit_across_tenants() -> None:
    limiter = RateLimiter(time=ScaledTime(1.0), app_minute_limit=3)
    decisions = [limiter.acquire("app", f"tenant-{i}") for i in range(4)]
    assert [d.problem for d in decisions] == [None, None, None, "appminute"]
    assert decisions[2].headers["X-AppMinLimit-Remaining"] == "0"
    assert decisions[3].retry_after and decisions[3].retry_after <= 60
    assert limiter.acquire("other-app", "tenant-0").problem is None  # per app


def test_limits_off() -> None:
    with Sandbox(books=[make_books(SandboxClock())], limits=False) as sb:
        api = Api(sb)
        assert all(api.get("Accounts").status_code == 200 for _ in range(70))
