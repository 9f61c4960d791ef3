"""The token store and rotation under the conditions that strand real connections:
concurrent processes, a crash between rotation and save, expiry mid-sync, revocation."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading

import dagster as dg
import pytest
import requests

from xero_pipeline.cli.runner import ensure_dagster_home, register_tenants
from xero_pipeline.registry import BY_TABLE
from xero_pipeline.sandbox import Sandbox
from xero_pipeline.xero import auth, token_store
from xero_pipeline.xero.auth import TokenManager, TokenStore
from xero_pipeline_tests.resource_helpers import (
    assert_matches_truth,
    cli_env,
    run_cli,
    run_sync,
)
from xero_pipeline_tests.truth import diff_warehouse

ORGANISATIONS = [BY_TABLE["organisations"]]

# Run first in a CLI process: dies (no cleanup, like a kill -9) right after Xero rotated
# the refresh token and before the new one reaches the token store.
DIE_BEFORE_SAVE = """
import os
from xero_pipeline.xero import auth
from xero_pipeline.xero import token_store
_save = auth.TokenStore.save
def _save_or_die(self, data):
    if data.get("refresh_token") != self.load().get("refresh_token"):
        os._exit(9)
    _save(self, data)
auth.TokenStore.save = _save_or_die
"""


def manager(sb: Sandbox, store: TokenStore, **kwargs: object) -> TokenManager:
    settings = {"refresh_token": sb.refresh_token, **kwargs}
    return TokenManager(client_id=sb.client_id, client_secret=sb.client_secret, identity_url=sb.url,
                        store=store, **settings)


def test_the_store_is_private_durable_and_marks_its_grant(sandbox, tmp_path):
    store = TokenStore(tmp_path / "tokens.json")
    token = manager(sandbox, store).access_token()
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(str(store.path) + ".lock").st_mode) == 0o600
    saved = json.loads(store.path.read_text())
    assert saved["access_token"] == token and saved["grant"] == "authorization_code"
    assert saved["refresh_token"] and saved["refresh_token"] != sandbox.refresh_token
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tokens.json", "tokens.json.lock"]


def test_a_failed_write_leaves_the_previous_store_intact(sandbox, tmp_path, monkeypatch):
    store = TokenStore(tmp_path / "tokens.json")
    manager(sandbox, store).access_token()
    before = store.path.read_bytes()

    def half_written(data, handle):
        handle.write('{"access_token": "')
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(token_store.json, "dump", half_written)
    with pytest.raises(OSError):
        store.save({"access_token": "x"})
    assert store.path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tokens.json", "tokens.json.lock"]


def test_many_token_users_at_once_cause_exactly_one_refresh(sandbox, tmp_path):
    """Each thread has its own manager and its own lock handle, as separate processes do."""
    store_path = tmp_path / "tokens.json"
    tokens: list[str] = []
    start = threading.Barrier(8)

    def use() -> None:
        m = manager(sandbox, TokenStore(store_path))
        start.wait()
        tokens.append(m.access_token())

    threads = [threading.Thread(target=use) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(tokens) == 8 and len(set(tokens)) == 1
    assert sandbox.stats()["token_refreshes"] == 1


def test_processes_sharing_one_refresh_token_end_with_one_valid_token(tmp_path, monkeypatch, watch):
    """Three CLI syncs of three tenants at once, with tokens living two seconds.

    The sandbox's grace period is set to zero so that a refresh token used twice is
    refused: without the store's lock two processes would sooner or later both refresh
    with the same token and one of them would get invalid_grant.
    """
    with Sandbox(tenants=3, scale=0.01, seed=5, limits=False, token_lifetime=2) as sb:
        watch.sandboxes.append(sb)
        sb.identity.grace = 0
        env = cli_env(sb, tmp_path)
        monkeypatch.setenv("DAGSTER_HOME", env["DAGSTER_HOME"])
        ensure_dagster_home()
        with dg.DagsterInstance.get() as inst:
            register_tenants(inst, sb.tenant_ids)  # so the processes do not race to create partitions
        # Each sync outlives its token whatever the machine's speed: two slow answers per
        # tenant take longer than the token's two seconds, so every process needs a refresh.
        for tenant in sb.tenant_ids:
            sb.inject("slow", tenant_id=tenant, path="Invoices", count=2, seconds=1.5)
        procs = [
            subprocess.Popen([sys.executable, "-m", "xero_pipeline.cli.main", "sync", "--tenant", tenant,
                              "--select", "invoices,contacts,journals"],
                             env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
            for tenant in sb.tenant_ids
        ]
        outputs = [p.communicate(timeout=300)[0] for p in procs]
        watch.texts += outputs
        assert [p.returncode for p in procs] == [0, 0, 0], "\n".join(outputs)
        events = sb.stats()["events"]
        assert not any(e.startswith("token_error") for e in events), events
        assert sb.stats()["faults_fired"], "the slow answers did not happen"
        assert events["token:refresh_token"] >= 2  # they really did need new tokens as they went
        assert_matches_truth(sb, tmp_path)
        # The store holds the one live refresh token: unused (grace 0 would refuse a used one).
        stored = json.loads((tmp_path / "tokens.json").read_text())
        resp = requests.post(f"{sb.url}/connect/token", data={"grant_type": "refresh_token",
                             "refresh_token": stored["refresh_token"]},
                             auth=(sb.client_id, sb.client_secret), timeout=10)
        assert resp.status_code == 200, resp.text


def test_a_process_killed_before_saving_a_rotated_token_does_not_strand_the_connection(
    sandbox, tmp_path, watch
):
    env = cli_env(sandbox, tmp_path)
    killed = run_cli("sync", "--select", "organisations", env=env, watch=watch, prelude=DIE_BEFORE_SAVE)
    assert killed.returncode == 9, killed.stdout + killed.stderr
    assert sandbox.stats()["token_refreshes"] == 1  # Xero rotated the token; we never saved the new one
    # A new run repeats the previous refresh token, inside Xero's 30-minute grace period.
    again = run_cli("sync", "--select", "organisations", env=env, watch=watch)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "token_error:invalid_grant" not in sandbox.stats()["events"]
    assert_matches_truth(sandbox, tmp_path, ORGANISATIONS)


def test_after_the_grace_period_the_run_ends_and_says_to_run_auth(sandbox, tmp_path, watch):
    env = cli_env(sandbox, tmp_path)
    killed = run_cli("sync", "--select", "organisations", env=env, watch=watch, prelude=DIE_BEFORE_SAVE)
    assert killed.returncode == 9
    sandbox.identity.grace = 0  # the 30 minutes have passed
    result = run_cli("sync", "--select", "organisations", env=env, watch=watch)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "invalid_grant" in result.stderr and "run `xero-pipeline auth`" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "xero.duckdb").exists()


def test_a_failed_save_of_a_rotated_token_fails_the_run_and_the_next_run_recovers(
    sandbox, instance, tmp_path, monkeypatch
):
    real_save = TokenStore.save
    failures = []

    def disk_full_once(self, data):
        if not failures and data.get("refresh_token") != self.load().get("refresh_token"):
            failures.append(data)
            raise OSError(28, "No space left on device")
        real_save(self, data)

    monkeypatch.setattr(TokenStore, "save", disk_full_once)
    with pytest.raises(auth.XeroAuthError, match="No space left on device.*previous refresh token.*30 min"):
        run_sync(instance, sandbox, tmp_path, objects=ORGANISATIONS)
    report = run_sync(instance, sandbox, tmp_path, objects=ORGANISATIONS)
    assert report.ok, report.failures
    assert_matches_truth(sandbox, tmp_path, ORGANISATIONS)


def test_tokens_expiring_mid_sync_are_refreshed_once_and_the_call_replayed(
    sandbox, instance, tmp_path
):
    tenant = sandbox.tenant_ids[0]
    # After the second page of invoices Xero expires every access token (the "mutation"
    # hook runs between two pages, so the next call carries a token Xero no longer takes).
    sandbox.api.mutate = lambda fault, books, path: sandbox.expire_tokens()
    sandbox.inject("mutate", tenant_id=tenant, path="Invoices", after_page=2)
    report = run_sync(instance, sandbox, tmp_path, page_size=20)
    assert report.ok, report.failures
    stats = sandbox.stats()
    # A 401 resolves no tenant, so the sandbox books it under "-".
    assert stats["responses"]["-"]["Invoices"] == {"401": 1}, stats["responses"]
    assert stats["status"]["401"] == 1
    assert stats["token_refreshes"] == 2  # the first token, then one refresh for the 401
    assert_matches_truth(sandbox, tmp_path)


def test_short_lived_tokens_are_refreshed_before_xero_expires_them(instance, tmp_path, watch):
    # Time runs 30 times faster: tokens live 3 s and Xero's minute is 2 s. Reading 182
    # invoices one per call needs at least two full rate windows (4 s): whatever the speed
    # of this machine, the first token cannot last the whole sync.
    with Sandbox(tenants=1, scale=0.05, seed=11, limits=True, time_scale=30, token_lifetime=90) as sb:
        watch.sandboxes.append(sb)
        report = run_sync(instance, sb, tmp_path, objects=[BY_TABLE["invoices"]], page_size=1,
                          rate_window_seconds=2.0)
        assert report.ok, report.failures
        stats = sb.stats()
        assert stats["token_refreshes"] >= 2
        assert "401" not in stats["status"], stats["status"]  # refreshed ahead, never refused
        assert_matches_truth(sb, tmp_path, [BY_TABLE["invoices"]])


def test_a_revoked_connection_fails_with_what_to_do(sandbox, instance, tmp_path):
    assert run_sync(instance, sandbox, tmp_path, objects=ORGANISATIONS).ok
    stored = json.loads((tmp_path / "tokens.json").read_text())
    requests.post(f"{sandbox.url}/connect/revocation", data={"token": stored["refresh_token"]},
                  auth=(sandbox.client_id, sandbox.client_secret), timeout=10).raise_for_status()
    with pytest.raises(auth.XeroAuthError, match="xero-pipeline auth"):
        run_sync(instance, sandbox, tmp_path, objects=ORGANISATIONS)
    # The dead token is not sent again and again: the rejection is remembered.
    store = TokenStore(tmp_path / "tokens.json")
    m = manager(sandbox, store, refresh_token=None)
    for _ in range(3):
        with pytest.raises(auth.XeroAuthError, match="invalid_grant"):
            m.access_token()
    assert sandbox.stats()["events"]["token_error:invalid_grant"] == 2


def test_a_new_xero_refresh_token_replaces_the_store(sandbox, instance, tmp_path):
    """Someone re-authorised elsewhere and set XERO_REFRESH_TOKEN to the new token."""
    sandbox.identity.grace = 0
    assert run_sync(instance, sandbox, tmp_path, objects=ORGANISATIONS).ok
    store = TokenStore(tmp_path / "tokens.json")
    m = manager(sandbox, store)
    m.invalidate(m.access_token())
    m.access_token()  # the store's rotated token, not the spent seed
    fresh = sandbox.new_refresh_token()
    manager(sandbox, store, refresh_token=fresh).access_token()
    assert json.loads(store.path.read_text())["seed"] == auth._fingerprint(fresh)
    assert not any(e.startswith("token_error") for e in sandbox.stats()["events"])


def test_a_custom_connection_needs_no_refresh_token(sandbox, instance, tmp_path):
    custom = {"client_id": sandbox.custom_client_id, "client_secret": sandbox.custom_client_secret,
              "refresh_token": None}
    tenant = sandbox.tenant_ids[0]  # the organisation the custom connection is bound to
    for _ in range(2):
        report = run_sync(instance, sandbox, tmp_path, objects=[BY_TABLE["invoices"]], **custom)
        assert report.ok, report.failures
    saved = json.loads((tmp_path / "tokens.json").read_text())
    assert saved["grant"] == "client_credentials" and not saved["refresh_token"]
    assert sandbox.stats()["events"]["token:client_credentials"] == 1  # the second run reused it
    truth = sandbox.ground_truth(tenant_id=tenant)
    problems = diff_warehouse(tmp_path / "xero.duckdb", truth, [BY_TABLE["invoices"]])
    assert not problems, problems[:5]
