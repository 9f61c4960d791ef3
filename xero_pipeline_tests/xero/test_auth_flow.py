"""``xero-pipeline auth``: consent in a (test) browser, PKCE, the loopback callback, the
token store, and runs afterwards that need no XERO_REFRESH_TOKEN."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import webbrowser
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from xero_pipeline.errors import XeroAuthError
from xero_pipeline.registry import BY_TABLE
from xero_pipeline.sandbox import Sandbox
from xero_pipeline.xero.oauth_flow import requested_scopes
from xero_pipeline_tests.resource_helpers import (
    FAST_PACING,
    assert_matches_truth,
    authorise_in_process,
    cli_env,
    follow_consent,
    run_cli,
    run_sync,
)

INVOICES = [BY_TABLE["invoices"]]


@pytest.fixture
def sandbox(two_tenants: Sandbox) -> Sandbox:
    # Consent connects every organisation of the user: with two, "all" cannot pass for "the first".
    return two_tenants


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def answer_callback(redirect_uri: str, answer: dict[str, str]) -> int:
    """Load the callback with ``answer`` as its query, as a browser Xero redirected would; the HTTP status.

    urllib, not requests: the callback URL carries the code, and urllib3 logs request lines.
    """
    try:
        with urllib.request.urlopen(f"{redirect_uri}?{urlencode(answer)}", timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_auth_connects_the_organisations_and_later_runs_need_no_refresh_token(
    sandbox, instance, tmp_path, watch
):
    opened: list[str] = []
    lines: list[str] = []

    def browser(url: str) -> None:
        opened.append(url)
        follow_consent(url)

    result = authorise_in_process(sandbox, tmp_path, browser=browser, echo=lines.append)
    watch.texts += lines
    asked = query_of(opened[0])
    assert opened[0].startswith(f"{sandbox.url}/identity/connect/authorize?")
    assert asked["response_type"] == "code" and asked["client_id"] == sandbox.client_id
    assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) == 43
    assert asked["redirect_uri"] == result.redirect_uri
    assert asked["redirect_uri"].startswith("http://localhost:")
    assert asked["redirect_uri"].endswith("/callback")
    assert len(asked["state"]) >= 32
    scopes = asked["scope"].split()
    assert scopes == requested_scopes()
    assert {"offline_access", "openid", "profile", "email", "accounting.journals.read",
            "accounting.reports.trialbalance.read", "accounting.reports.aged.read"} <= set(scopes)
    assert not {"accounting.transactions", "accounting.reports.read"} & set(scopes)  # granular only
    assert {c["tenantId"] for c in result.connections} == set(sandbox.tenant_ids)
    assert all(any(t in line for line in lines) for t in sandbox.tenant_ids)

    store = tmp_path / "tokens.json"
    assert stat.S_IMODE(os.stat(store).st_mode) == 0o600
    assert json.loads(store.read_text())["grant"] == "authorization_code"
    report = run_sync(instance, sandbox, tmp_path, objects=INVOICES, refresh_token=None)
    assert report.ok, report.failures
    assert_matches_truth(sandbox, tmp_path, INVOICES)


def auth_in_cli(env: dict[str, str], watch) -> str:
    """``xero-pipeline auth`` in a subprocess, the test following the printed consent URL; its output."""
    proc = subprocess.Popen([sys.executable, "-m", "xero_pipeline.cli.main", "auth", "--no-browser", "--port", "0",
                             "--timeout", "60"], env=env, cwd=env["DAGSTER_HOME"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    printed = []
    for line in proc.stdout:
        printed.append(line)
        if line.strip().startswith("http"):
            follow_consent(line.strip())
            break
    out, err = proc.communicate(timeout=120)
    printed.append(out)
    watch.texts += [*printed, err]
    assert proc.returncode == 0, "".join(printed) + err
    return "".join(printed)


def test_the_auth_command_end_to_end(sandbox, tmp_path, watch):
    """The CLI as a user runs it; the test follows the printed consent URL."""
    env = cli_env(sandbox, tmp_path, XERO_AUTHORIZE_URL=f"{sandbox.url}/identity/connect/authorize")
    del env["XERO_REFRESH_TOKEN"]
    # Before any consent there is no refresh token, and this app is no custom connection.
    before = run_cli("tenants", env=env, watch=watch)
    assert before.returncode == 2 and "run `xero-pipeline auth`" in before.stderr, before.stderr

    out = auth_in_cli(env, watch)
    assert "2 organisation(s) connected" in out and all(t in out for t in sandbox.tenant_ids)

    after = run_cli("tenants", env=env, watch=watch)
    assert after.returncode == 0, after.stderr
    assert all(t in after.stdout for t in sandbox.tenant_ids)


@pytest.fixture
def public_app(watch) -> Iterator[Sandbox]:
    """Two tenants; the app is a "Mobile or desktop app" (PKCE): a client id and no client secret."""
    with Sandbox(tenants=2, scale=0.02, seed=11, limits=False, public_app=True) as sb:
        watch.sandboxes.append(sb)
        yield sb


def test_an_app_without_a_client_secret_authorises_syncs_and_rotates_with_its_client_id(
    public_app, tmp_path, watch
):
    sb = public_app
    sb.identity.grace = 0  # a spent refresh token is refused at once: the old one must be dead
    env = cli_env(sb, tmp_path, XERO_AUTHORIZE_URL=f"{sb.url}/identity/connect/authorize", **FAST_PACING)
    del env["XERO_REFRESH_TOKEN"]
    assert "XERO_CLIENT_SECRET" not in env  # only XERO_CLIENT_ID identifies the app

    out = auth_in_cli(env, watch)
    assert "2 organisation(s) connected" in out and all(t in out for t in sb.tenant_ids)
    store = tmp_path / "tokens.json"
    saved = json.loads(store.read_text())["refresh_token"]

    sb.expire_tokens()  # the access token from auth has run out: the sync must refresh
    result = run_cli("sync", "--select", "invoices", env=env, watch=watch)
    assert result.returncode == 0, result.stdout + result.stderr
    rotated = json.loads(store.read_text())["refresh_token"]
    assert rotated and rotated != saved
    spent = requests.post(f"{sb.url}/connect/token", timeout=10, data={
        "grant_type": "refresh_token", "refresh_token": saved, "client_id": sb.client_id})
    assert (spent.status_code, spent.json()) == (400, {"error": "invalid_grant"})
    assert_matches_truth(sb, tmp_path, INVOICES)


def test_a_web_app_without_its_client_secret_is_told_to_set_it(sandbox, tmp_path, watch):
    env = cli_env(sandbox, tmp_path, **FAST_PACING)
    del env["XERO_CLIENT_SECRET"]
    result = run_cli("sync", "--select", "invoices", env=env, watch=watch)
    assert result.returncode != 0
    assert "invalid_client" in result.stderr and "XERO_CLIENT_SECRET is not set" in result.stderr, result.stderr
    assert "Web app" in result.stderr
    assert "Traceback" not in result.stderr


def test_auth_repairs_a_dead_connection_even_with_the_old_refresh_token_still_set(
    sandbox, instance, tmp_path
):
    sandbox.identity.grace = 0  # a spent refresh token is refused at once
    assert run_sync(instance, sandbox, tmp_path, objects=INVOICES).ok
    (tmp_path / "tokens.json").unlink()  # the store is lost; XERO_REFRESH_TOKEN is spent
    with pytest.raises(XeroAuthError, match="invalid_grant.*xero-pipeline auth"):
        run_sync(instance, sandbox, tmp_path, objects=INVOICES)

    authorise_in_process(sandbox, tmp_path, keep_refresh_token=True)
    # XERO_REFRESH_TOKEN still holds the dead token: the store written by auth wins.
    report = run_sync(instance, sandbox, tmp_path, objects=INVOICES)
    assert report.ok, report.failures
    assert_matches_truth(sandbox, tmp_path, INVOICES)


def test_a_callback_with_someone_elses_state_is_refused(sandbox, tmp_path):
    def forged(url: str) -> None:
        location = requests.get(url, allow_redirects=False, timeout=10).headers["Location"]
        answer_callback(location.split("?")[0], {**query_of(location), "state": "not-the-one-we-sent"})

    with pytest.raises(XeroAuthError, match="did not carry the state"):
        authorise_in_process(sandbox, tmp_path, browser=forged)
    assert not (tmp_path / "tokens.json").exists()


def test_a_declined_consent_saves_nothing(sandbox, tmp_path):
    statuses: list[int] = []

    def decline(url: str) -> None:
        asked = query_of(url)
        answer = {"error": "access_denied", "state": asked["state"]}
        statuses.append(answer_callback(asked["redirect_uri"], answer))

    with pytest.raises(XeroAuthError, match="access_denied"):
        authorise_in_process(sandbox, tmp_path, browser=decline)
    # Checked here, not in the browser: run_auth carries on past anything the browser raises.
    assert statuses == [400]
    assert not (tmp_path / "tokens.json").exists()


def test_without_a_browser_the_printed_url_is_enough(sandbox, tmp_path):
    def no_browser(url: str) -> None:
        raise webbrowser.Error("could not locate runnable browser")

    def user_reads(line: str) -> None:
        url = line.strip()
        if url.startswith("http"):
            threading.Thread(target=follow_consent, args=(url,), daemon=True).start()

    result = authorise_in_process(sandbox, tmp_path, browser=no_browser, echo=user_reads)
    assert {c["tenantId"] for c in result.connections} == set(sandbox.tenant_ids)


def test_no_answer_times_out_with_the_redirect_uri_to_check(sandbox, tmp_path):
    with pytest.raises(XeroAuthError, match=r"no answer from Xero on http://localhost:\d+/callback"):
        authorise_in_process(sandbox, tmp_path, browser=lambda url: None, timeout_seconds=0.5)
