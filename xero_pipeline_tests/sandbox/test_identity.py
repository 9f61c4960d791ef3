"""The sandbox's identity service behaves like Xero's: token grants, rotation, PKCE, connections."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from xero_pipeline.sandbox import Sandbox
from xero_pipeline.sandbox.books.store import SandboxClock
from xero_pipeline_tests.conftest import Api, make_books

REDIRECT = "http://localhost:3000/callback"


def token(sb: Sandbox, data: dict, auth: tuple[str, str] | None = None, *,
          creds: bool = True) -> requests.Response:
    body = dict(data)
    if creds and auth is None:
        body.update(client_id=sb.client_id, client_secret=sb.client_secret)
    return requests.post(f"{sb.url}/connect/token", data=body, auth=auth, timeout=10)


def refresh(sb: Sandbox, rt: str) -> requests.Response:
    return token(sb, {"grant_type": "refresh_token", "refresh_token": rt})


def authorize(sb: Sandbox, **extra: str) -> dict[str, str]:
    params = {"response_type": "code", "client_id": sb.client_id, "redirect_uri": REDIRECT,
              "scope": "openid offline_access accounting.invoices.read accounting.settings.read",
              "state": "xyz", **extra}
    resp = requests.get(f"{sb.url}/identity/connect/authorize", params=params, allow_redirects=False,
                        timeout=10)
    assert resp.status_code == 302
    loc = resp.headers["Location"]
    assert loc.startswith(REDIRECT + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(loc).query).items()}


@pytest.fixture
def fast() -> Sandbox:
    """Xero's 30-minute lifetimes shrink to one second (time_scale 1800)."""
    with Sandbox(books=[make_books(SandboxClock())], limits=False, time_scale=1800) as sb:
        yield sb


def test_refresh_with_form_credentials_returns_xero_shaped_token(fixture_sandbox: Sandbox) -> None:
    resp = refresh(fixture_sandbox, fixture_sandbox.new_refresh_token())
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) == {"id_token", "access_token", "expires_in", "token_type", "refresh_token", "scope"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 1800
    assert "offline_access" in body["scope"].split() and body["id_token"].count(".") == 2


def test_refresh_with_basic_client_auth(fixture_sandbox: Sandbox) -> None:
    sb = fixture_sandbox
    resp = token(sb, {"grant_type": "refresh_token", "refresh_token": sb.new_refresh_token()},
                 auth=(sb.client_id, sb.client_secret))
    assert resp.status_code == 200 and resp.json()["refresh_token"]


def test_bad_client_is_invalid_client(fixture_sandbox: Sandbox) -> None:
    sb = fixture_sandbox
    rt = sb.new_refresh_token()
    for auth, form in [((sb.client_id, "wrong"), {}), (None, {"client_id": "NOPE", "client_secret": "x"}),
                       (None, {"client_id": sb.client_id, "client_secret": "wrong"})]:
        resp = token(sb, {"grant_type": "refresh_token", "refresh_token": rt, **form}, auth=auth, creds=False)
        assert (resp.status_code, resp.json()) == (400, {"error": "invalid_client"})
    assert refresh(sb, rt).status_code == 200  # the failures did not burn the token


def test_unknown_refresh_token_and_grant_type(fixture_sandbox: Sandbox) -> None:
    assert refresh(fixture_sandbox, "not-a-token").json() == {"error": "invalid_grant"}
    resp = token(fixture_sandbox, {"grant_type": "password"})
    assert (resp.status_code, resp.json()) == (400, {"error": "unsupported_grant_type"})


def test_refresh_rotates_and_old_token_has_a_grace_period(fast: Sandbox) -> None:
    rt0 = fast.new_refresh_token()
    first = refresh(fast, rt0).json()
    assert first["refresh_token"] != rt0
    replay = refresh(fast, rt0)  # within the 30-minute grace (1 s here)
    assert replay.status_code == 200
    assert replay.json()["refresh_token"] not in (rt0, first["refresh_token"])
    assert refresh(fast, first["refresh_token"]).status_code == 200
    time.sleep(1.2)
    resp = refresh(fast, rt0)
    assert (resp.status_code, resp.json()) == (400, {"error": "invalid_grant"})


def test_access_token_expires_with_time_scale(fast: Sandbox) -> None:
    body = refresh(fast, fast.new_refresh_token()).json()
    assert body["expires_in"] == 1  # 1800 Xero seconds at time_scale 1800
    api = Api(fast, token=body["access_token"])
    assert api.get("Organisation").status_code == 200
    time.sleep(1.1)
    resp = api.get("Organisation")
    assert resp.status_code == 401
    assert resp.json()["Detail"].startswith("TokenExpired: token expired at ")


def test_revocation_ends_the_grant_and_connections(fixture_sandbox: Sandbox) -> None:
    sb = Sandbox(books=[make_books(SandboxClock())], limits=False).start()
    try:
        body = refresh(sb, sb.new_refresh_token()).json()
        resp = requests.post(f"{sb.url}/connect/revocation", data={"token": body["refresh_token"]},
                             auth=(sb.client_id, sb.client_secret), timeout=10)
        assert resp.status_code == 200
        assert refresh(sb, body["refresh_token"]).json() == {"error": "invalid_grant"}
        assert Api(sb, token=body["access_token"]).get("Organisation").status_code == 401
        other = Api(sb)  # a fresh grant: the organisation is no longer connected
        assert other.get("Organisation").status_code == 403
        bad = requests.post(f"{sb.url}/connect/revocation", data={"token": "x"}, auth=(sb.client_id, "no"))
        assert bad.json() == {"error": "invalid_client"}
    finally:
        sb.stop()


def test_client_credentials_custom_connection(fixture_sandbox: Sandbox) -> None:
    sb = fixture_sandbox
    resp = requests.post(f"{sb.url}/connect/token", data={"grant_type": "client_credentials"},
                         auth=(sb.custom_client_id, sb.custom_client_secret), timeout=10)
    body = resp.json()
    assert resp.status_code == 200 and "refresh_token" not in body and body["token_type"] == "Bearer"
    api = Api(sb, token=body["access_token"])
    org = api.get("Organisation", headers={"xero-tenant-id": ""})  # no tenant header needed
    assert org.status_code == 200
    assert org.json()["Organisations"][0]["OrganisationID"] == sb.tenant_ids[0]
    elsewhere = Api(sb, tenant_id=sb.tenant_ids[1], token=body["access_token"])
    assert elsewhere.get("Organisation").status_code == 403
    demo = token(sb, {"grant_type": "client_credentials"})
    assert demo.json() == {"error": "unauthorized_client"}


def test_authorization_code_flow_single_use(fixture_sandbox: Sandbox) -> None:
    sb = fixture_sandbox
    q = authorize(sb)
    assert q["state"] == "xyz" and q["scope"].split()[0] == "openid"
    form = {"grant_type": "authorization_code", "code": q["code"], "redirect_uri": REDIRECT}
    first = token(sb, form)
    assert first.status_code == 200 and first.json()["refresh_token"]
    assert token(sb, form).json() == {"error": "invalid_grant"}
    alias = requests.get(f"{sb.url}/connect/authorize", allow_redirects=False, params={
        "response_type": "code", "client_id": sb.client_id, "redirect_uri": REDIRECT})
    assert alias.status_code == 302


def test_scope_limits_what_the_token_reads(fixture_sandbox: Sandbox) -> None:
    sb = fixture_sandbox
    q = authorize(sb, scope="openid offline_access accounting.settings.read")
    tok = token(sb, {"grant_type": "authorization_code", "code": q["code"], "redirect_uri": REDIRECT}).json()
    api = Api(sb, token=tok["access_token"])
    assert api.get("Accounts").status_code == 200
    resp = api.get("Invoices")
    assert resp.status_code == 401 and resp.json()["Detail"] == "AuthorizationUnsuccessful"


@pytest.fixture
def public() -> Sandbox:
    """The demo app as a "Mobile or desktop app": PKCE, a client id and no client secret."""
    with Sandbox(books=[make_books(SandboxClock())], limits=False, public_app=True) as sb:
        yield sb


def challenge_of(verifier: str, method: str = "S256") -> str:
    if method == "plain":
        return verifier
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


VERIFIER = "a-very-long-code-verifier-with-enough-entropy-0123456789"


@pytest.mark.parametrize("method", ["S256", "plain"])
def test_pkce_verifier_checked(fixture_sandbox: Sandbox, method: str) -> None:
    sb = fixture_sandbox
    for attempt, sent in [("mismatch", VERIFIER + "x"), ("match", VERIFIER)]:
        q = authorize(sb, code_challenge=challenge_of(VERIFIER, method), code_challenge_method=method)
        resp = token(sb, {"grant_type": "authorization_code", "code": q["code"], "redirect_uri": REDIRECT,
                          "code_verifier": sent})
        if attempt == "mismatch":
            assert (resp.status_code, resp.json()) == (400, {"error": "invalid_grant"})
        else:
            assert resp.status_code == 200 and resp.json()["refresh_token"]


def test_a_public_app_authorises_with_pkce_and_refreshes_with_its_client_id_alone(public: Sandbox) -> None:
    sb = public
    assert sb.client_secret is None and "XERO_CLIENT_SECRET" not in sb.pipeline_env(token_store="t.json")
    q = authorize(sb, code_challenge=challenge_of(VERIFIER), code_challenge_method="S256")
    code = {"grant_type": "authorization_code", "code": q["code"], "redirect_uri": REDIRECT,
            "client_id": sb.client_id}
    wrong = token(sb, {**code, "code_verifier": VERIFIER + "x"}, creds=False)
    assert (wrong.status_code, wrong.json()) == (400, {"error": "invalid_grant"})
    q = authorize(sb, code_challenge=challenge_of(VERIFIER), code_challenge_method="S256")
    first = token(sb, {**code, "code": q["code"], "code_verifier": VERIFIER}, creds=False)
    assert first.status_code == 200, first.text
    rt = first.json()["refresh_token"]
    again = token(sb, {"grant_type": "refresh_token", "refresh_token": rt, "client_id": sb.client_id},
                  creds=False)
    assert again.status_code == 200 and again.json()["refresh_token"] != rt  # rotated, as for a web app
    assert Api(sb, token=again.json()["access_token"]).get("Organisation").status_code == 200
    # The seeded first refresh token (what `xero-pipeline sandbox` prints) refreshes the same way.
    seeded = token(sb, {"grant_type": "refresh_token", "refresh_token": sb.refresh_token,
                        "client_id": sb.client_id}, creds=False)
    assert seeded.status_code == 200


def test_a_public_app_sending_a_secret_or_a_basic_header_is_refused(public: Sandbox) -> None:
    sb = public
    rt = sb.new_refresh_token()
    refresh_form = {"grant_type": "refresh_token", "refresh_token": rt}
    for auth, form in [((sb.client_id, ""), {}), ((sb.client_id, "anything"), {}),
                       (None, {"client_id": sb.client_id, "client_secret": "anything"}),
                       (None, {})]:  # no client id at all
        resp = token(sb, {**refresh_form, **form}, auth=auth, creds=False)
        assert (resp.status_code, resp.json()) == (400, {"error": "invalid_client"}), (auth, form)
    ok = token(sb, {**refresh_form, "client_id": sb.client_id}, creds=False)
    assert ok.status_code == 200  # the refusals did not burn the token


def test_a_public_app_must_use_pkce(public: Sandbox) -> None:
    q = authorize(public)  # no code_challenge
    assert q == {"error": "invalid_request", "state": "xyz"}


def test_a_web_app_request_without_its_secret_is_refused(fixture_sandbox: Sandbox) -> None:
    sb = fixture_sandbox
    q = authorize(sb, code_challenge=challenge_of(VERIFIER), code_challenge_method="S256")
    code = {"grant_type": "authorization_code", "code": q["code"], "redirect_uri": REDIRECT,
            "client_id": sb.client_id, "code_verifier": VERIFIER}
    resp = token(sb, code, creds=False)  # PKCE does not stand in for a confidential app's secret
    assert (resp.status_code, resp.json()) == (400, {"error": "invalid_client"})
    assert token(sb, {**code, "client_secret": sb.client_secret}, creds=False).status_code == 200
    resp = token(sb, {"grant_type": "refresh_token", "refresh_token": sb.new_refresh_token(),
                      "client_id": sb.client_id}, creds=False)
    assert (resp.status_code, resp.json()) == (400, {"error": "invalid_client"})


def test_authorization_code_expires_after_five_minutes(fast: Sandbox) -> None:
    q = authorize(fast)
    time.sleep(0.25)  # 300 s / 1800
    resp = token(fast, {"grant_type": "authorization_code", "code": q["code"], "redirect_uri": REDIRECT})
    assert resp.json() == {"error": "invalid_grant"}


def test_connections_bare_array_and_delete() -> None:
    clock = SandboxClock()
    with Sandbox(books=[make_books(clock, 0), make_books(clock, 1)], limits=False) as sb:
        api = Api(sb, tenant_id=sb.tenant_ids[1])
        h = {"Authorization": f"Bearer {api.token}"}
        for path in ("/connections", "/Connections"):
            resp = requests.get(sb.url + path, headers=h, timeout=10)
            conns = resp.json()
            assert resp.status_code == 200 and isinstance(conns, list) and len(conns) == 2
        assert set(conns[0]) == {"id", "authEventId", "tenantId", "tenantType", "tenantName",
                                 "createdDateUtc", "updatedDateUtc"}
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}", conns[0]["createdDateUtc"])
        assert {c["tenantId"] for c in conns} == set(sb.tenant_ids)
        event = conns[0]["authEventId"]
        by_event = requests.get(sb.url + "/connections", params={"authEventId": event}, headers=h).json()
        assert len(by_event) == 2
        victim = next(c for c in conns if c["tenantId"] == sb.tenant_ids[1])
        assert requests.delete(f"{sb.url}/connections/{victim['id']}", headers=h).status_code == 204
        assert requests.delete(f"{sb.url}/connections/{victim['id']}", headers=h).status_code == 404
        assert api.get("Organisation").status_code == 403
        assert requests.get(sb.url + "/connections", timeout=10).status_code == 401
        # Consenting again reconnects it: same connection id, a later updatedDateUtc.
        authorize(sb)
        again = {c["tenantId"]: c for c in requests.get(sb.url + "/connections", headers=h).json()}
        back = again[sb.tenant_ids[1]]
        assert back["id"] == victim["id"] and back["updatedDateUtc"] > back["createdDateUtc"]
        assert api.get("Organisation").status_code == 200
