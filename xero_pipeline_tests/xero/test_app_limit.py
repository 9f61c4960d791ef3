"""Xero's app-wide limit (10,000 calls a minute across all organisations) is one window
shared by every client of the app on the machine, so tenants read at once never get an
``appminute`` 429; and when Xero does send one, every client of the app waits it out.

Each client below is built from its own resource, as a separate process's would be:
they share only the files beside the token store. The sandbox's app limit is lowered to
20 calls a (time-scaled) minute so three tenants reach it in seconds.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from xero_pipeline.sandbox import Sandbox
from xero_pipeline.xero.app_limit import app_limit_path
from xero_pipeline_tests.resource_helpers import xero_resource

APP_LIMIT = 20
CALLS_PER_TENANT = 15  # 45 calls in all: more than two of the app's minutes


def read_at_once(sandbox: Sandbox, tmp_path: Path, **settings: object) -> dict:
    """Each tenant read by its own client at the same time; Xero's 429 counts by problem."""
    sandbox.limiter.app_minute_limit = APP_LIMIT
    sandbox.reset_stats()

    def read(tenant: str) -> int:
        client = xero_resource(sandbox, tmp_path, rate_window_seconds=1.0, **settings).get_client()
        for _ in range(CALLS_PER_TENANT):
            body = client.get_json("/api.xro/2.0/Invoices", tenant_id=tenant, params={"page": "1"}, what="invoices")
            assert body["Invoices"], tenant
        return CALLS_PER_TENANT

    with ThreadPoolExecutor(len(sandbox.tenant_ids)) as pool:
        done = sum(pool.map(read, sandbox.tenant_ids))
    assert done == CALLS_PER_TENANT * len(sandbox.tenant_ids)
    return sandbox.stats()["rate_limited"]


def test_clients_of_one_app_share_its_minute_and_xero_never_refuses_one(tmp_path):
    with Sandbox(tenants=3, scale=0.01, seed=5, time_scale=60.0) as sandbox:
        refused = read_at_once(sandbox, tmp_path, app_calls_per_window=APP_LIMIT)
    assert refused.get("appminute", 0) == 0, refused
    assert app_limit_path(tmp_path / "tokens.json").exists()


def test_without_the_shared_window_xero_refuses_and_every_client_waits_it_out(tmp_path):
    with Sandbox(tenants=3, scale=0.01, seed=5, time_scale=60.0) as sandbox:
        # A window far larger than Xero's: the clients would run into the app's limit.
        refused = read_at_once(sandbox, tmp_path, app_calls_per_window=10 * APP_LIMIT)
    assert refused.get("appminute", 0) > 0, refused
    # The refusal was the app's: its Retry-After was shared with every client through the window's file.
    assert Path(f"{app_limit_path(tmp_path / 'tokens.json')}.blocked-until").exists()
