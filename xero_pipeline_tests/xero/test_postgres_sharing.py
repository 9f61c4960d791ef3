"""Several machines of one app share its rotating tokens and its limits through PostgreSQL
(XERO_POSTGRES_URL), against a real throw-away server (``postgres_url``).

Each "machine" is a client built from its own resource with a token-store folder of its
own: the machines share no file, only the database, as on separate hosts. Against the
local-file default, the same scenes end in ``invalid_grant``, ``appminute`` 429s and
requests spent on a tenant whose day is over.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from xero_pipeline.errors import XeroDailyLimitError
from xero_pipeline.sandbox import Sandbox
from xero_pipeline.xero.client import XeroClient
from xero_pipeline_tests.resource_helpers import authorise_in_process, xero_resource

pytestmark = pytest.mark.xdist_group("postgres")

INVOICES = "/api.xro/2.0/Invoices"


def machine(sb: Sandbox, tmp_path: Path, name: str, postgres_url: str, **settings: object) -> XeroClient:
    folder = tmp_path / name
    folder.mkdir()
    return xero_resource(sb, folder, postgres_url=postgres_url, **settings).get_client()


def read(client: XeroClient, tenant: str, calls: int) -> int:
    for _ in range(calls):
        body = client.get_json(INVOICES, tenant_id=tenant, params={"page": "1"}, what="invoices")
        assert body["Invoices"], tenant
    return calls


def test_machines_share_one_rotating_refresh_token(tmp_path, postgres_url, watch):
    """Four machines, tokens living a second, no grace for a used refresh token: every
    refresh happens once, under the database's lock, and the rotated token is kept."""
    with Sandbox(tenants=4, scale=0.01, seed=5, limits=False, token_lifetime=1) as sb:
        watch.sandboxes.append(sb)
        sb.identity.grace = 0
        clients = [machine(sb, tmp_path, f"m{i}", postgres_url) for i in range(4)]
        for tenant in sb.tenant_ids:  # each machine's reading outlives the first token
            sb.inject("slow", tenant_id=tenant, path="Invoices", count=1, seconds=1.2)
        with ThreadPoolExecutor(4) as pool:
            assert sum(pool.map(read, clients, sb.tenant_ids, [6] * 4)) == 24
        events = sb.stats()["events"]
        assert not any(e.startswith("token_error") or e == "token_reuse" for e in events), events
        assert events["token:refresh_token"] >= 2, events  # the tokens did expire as they read
        # A fifth machine, started later, continues from the stored token without a refresh.
        refreshes = events["token:refresh_token"]
        assert read(machine(sb, tmp_path, "m5", postgres_url), sb.tenant_ids[0], 1) == 1
        assert sb.stats()["events"]["token:refresh_token"] in (refreshes, refreshes + 1)
        assert not list(tmp_path.rglob("tokens.json*")), "the machines kept token files"


def test_auth_on_one_machine_serves_every_machine(tmp_path, postgres_url, watch):
    """`xero-pipeline auth` writes the row; a machine without XERO_REFRESH_TOKEN reads with it."""
    with Sandbox(tenants=1, scale=0.01, seed=5, limits=False) as sb:
        watch.sandboxes.append(sb)
        lines: list[str] = []
        (tmp_path / "m1").mkdir()
        authorise_in_process(sb, tmp_path / "m1", echo=lines.append, postgres_url=postgres_url)
        watch.texts += lines
        assert any("xero_pipeline.tokens" in line for line in lines), lines
        assert read(machine(sb, tmp_path, "m2", postgres_url, refresh_token=None), sb.tenant_ids[0], 1) == 1
        assert not list(tmp_path.rglob("tokens.json*"))


def test_machines_share_the_apps_minute(tmp_path, postgres_url, watch):
    """Three machines reading three tenants at once never meet Xero's app-wide limit."""
    app_limit = 20
    with Sandbox(tenants=3, scale=0.01, seed=5, time_scale=60.0) as sb:
        watch.sandboxes.append(sb)
        sb.limiter.app_minute_limit = app_limit
        clients = [machine(sb, tmp_path, f"m{i}", postgres_url, rate_window_seconds=1.0,
                           app_calls_per_window=app_limit) for i in range(3)]
        with ThreadPoolExecutor(3) as pool:
            assert sum(pool.map(read, clients, sb.tenant_ids, [15] * 3)) == 45
        refused = sb.stats()["rate_limited"]
    assert refused.get("appminute", 0) == 0, refused


def test_machines_share_a_tenants_minute(tmp_path, postgres_url, watch):
    """Three machines reading one tenant at once stay inside its 60 calls a minute."""
    with Sandbox(tenants=1, scale=0.01, seed=5, time_scale=60.0) as sb:
        watch.sandboxes.append(sb)
        sb.limiter.minute_limit = 10
        clients = [machine(sb, tmp_path, f"m{i}", postgres_url, rate_window_seconds=1.0, calls_per_window=10)
                   for i in range(3)]
        tenant = sb.tenant_ids[0]
        with ThreadPoolExecutor(3) as pool:
            assert sum(pool.map(read, clients, [tenant] * 3, [5] * 3)) == 15
        refused = sb.stats()["rate_limited"]
    assert refused.get("minute", 0) == 0, refused


def test_a_tenant_whose_day_is_over_is_parked_on_every_machine(tmp_path, postgres_url, watch):
    with Sandbox(tenants=1, scale=0.01, seed=5, limits=False) as sb:
        watch.sandboxes.append(sb)
        tenant = sb.tenant_ids[0]
        first = machine(sb, tmp_path, "m1", postgres_url)
        sb.inject("429_day", tenant_id=tenant, path="Invoices", count=1)
        with pytest.raises(XeroDailyLimitError):
            read(first, tenant, 1)
        calls = sb.stats()["calls_total"]
        with pytest.raises(XeroDailyLimitError) as parked:
            read(machine(sb, tmp_path, "m2", postgres_url), tenant, 1)
        assert parked.value.retry_after > 3600  # Xero's Retry-After, not a guess
        assert sb.stats()["calls_total"] == calls  # the second machine sent nothing
        assert sb.stats()["rate_limited"] == {"day": 1}


def test_an_unreachable_server_is_named_without_its_password(tmp_path, watch):
    with Sandbox(tenants=1, scale=0.01, seed=5, limits=False) as sb:
        watch.sandboxes.append(sb)
        url = "postgresql://xero:Sup3rSecretPassw0rd@127.0.0.1:9/xero"
        with pytest.raises(Exception) as failed:
            read(machine(sb, tmp_path, "m1", url), sb.tenant_ids[0], 1)
        message = str(failed.value)
        watch.texts.append(message)
        assert "Sup3rSecretPassw0rd" not in message
        assert "127.0.0.1:9" in message and "XERO_POSTGRES_URL" in message, message
