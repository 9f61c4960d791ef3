"""2026 Xero apps in the sandbox: plans, granular scopes, the journals tier, custom-connection age,
and access tokens that carry their scopes (fact sheet §2, §3, §7)."""

from __future__ import annotations

import base64
import json
import time
from datetime import date

import requests

from xero_pipeline.sandbox import AppProfile, Sandbox
from xero_pipeline.sandbox.books.store import SandboxClock
from xero_pipeline_tests.conftest import Api, make_books

CLASSIC = "accounting.classicexpenses.read"
JOURNALS = "accounting.journals.read"


def claims(jwt: str) -> dict:
    parts = jwt.split(".")
    assert len(parts) == 3
    head = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    assert head == {"alg": "HS256", "typ": "JWT"}
    return json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))


def refresh(sb: Sandbox, refresh_token: str) -> dict:
    resp = requests.post(f"{sb.url}/connect/token", data={
        "grant_type": "refresh_token", "refresh_token": refresh_token,
        "client_id": sb.client_id, "client_secret": sb.client_secret}, timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.json()


def custom_token(sb: Sandbox) -> dict:
    resp = requests.post(f"{sb.url}/connect/token", data={"grant_type": "client_credentials"},
                         auth=(sb.custom_client_id, sb.custom_client_secret), timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.json()


def assert_refused(resp: requests.Response) -> None:
    """Xero's 401 for a scope or tier the app lacks (fact sheet §5)."""
    assert resp.status_code == 401
    body = resp.json()
    assert {k: body[k] for k in ("Type", "Title", "Status", "Detail", "Extensions")} == {
        "Type": None, "Title": "Unauthorized", "Status": 401, "Detail": "AuthorizationUnsuccessful",
        "Extensions": {}}
    assert body["Instance"] == resp.headers["Xero-Correlation-Id"]


def test_starter_plan_day_ends_at_the_1001st_call_per_app_and_tenant() -> None:
    # time_scale 4320: Xero's day lasts 20 real seconds, its minute 14 ms (never reached).
    clock = SandboxClock()
    with Sandbox(books=[make_books(clock, 0), make_books(clock, 1)], time_scale=4320,
                 profile=AppProfile(plan="starter"), token_lifetime=30 * 86_400) as sb:
        api = Api(sb)
        left = [api.get("Currencies").headers["X-DayLimit-Remaining"] for _ in range(1000)]
        assert left == [str(n) for n in range(999, -1, -1)]
        over = api.get("Currencies")
        assert over.status_code == 429 and over.headers["X-Rate-Limit-Problem"] == "day"
        assert 1 <= int(over.headers["Retry-After"]) <= 20  # the rest of a 20-second day
        # The budget is per (app, tenant): the other tenant and the custom connection have theirs.
        other = Api(sb, tenant_id=sb.tenant_ids[1], token=api.token).get("Currencies")
        assert other.status_code == 200 and other.headers["X-DayLimit-Remaining"] == "999"
        custom = Api(sb, token=custom_token(sb)["access_token"]).get("Currencies")
        assert custom.status_code == 200 and custom.headers["X-DayLimit-Remaining"] == "999"
        assert sb.stats()["rate_limited"] == {"day": 1}


def test_day_window_is_time_scaled_and_explicit_day_limit_overrides_the_plan() -> None:
    # time_scale 1440: a day is one real minute; limit 3 so the test stays short.
    with Sandbox(books=[make_books(SandboxClock())], time_scale=1440, day_limit=3,
                 profile=AppProfile(plan="starter"), token_lifetime=30 * 86_400) as sb:
        api = Api(sb)
        assert [api.get("Currencies").headers["X-DayLimit-Remaining"] for _ in range(3)] == ["2", "1", "0"]
        over = api.get("Currencies")
        assert over.status_code == 429 and over.headers["X-Rate-Limit-Problem"] == "day"
        assert 55 <= int(over.headers["Retry-After"]) <= 60  # a day of 60 real seconds, not 86,400
        sb.set_profile(plan="core")  # the explicit day_limit still wins
        assert sb.limiter.day_limit == 3


def test_plan_change_at_run_time_moves_the_day_limit() -> None:
    with Sandbox(books=[make_books(SandboxClock())], profile=AppProfile(plan="starter")) as sb:
        api = Api(sb)
        assert api.get("Currencies").headers["X-DayLimit-Remaining"] == "999"
        changed = requests.post(f"{sb.url}/_sandbox/profile", json={"plan": "plus"}, timeout=10)
        assert changed.status_code == 200 and changed.json()["day_limit"] == 5000
        assert api.get("Currencies").headers["X-DayLimit-Remaining"] == "4998"
        bad = requests.post(f"{sb.url}/_sandbox/profile", json={"plan": "gold"}, timeout=10)
        assert bad.status_code == 400 and "starter" in bad.json()["error"]


def test_journals_refused_without_the_tier_and_served_after_the_upgrade() -> None:
    with Sandbox(books=[make_books(SandboxClock())], limits=False, profile=AppProfile(journals=False)) as sb:
        api = Api(sb)
        assert JOURNALS in claims(api.token)["scope"]  # the scope is granted; the tier is missing
        assert_refused(api.get("Journals"))
        assert_refused(api.get("Journals", offset=0))
        assert api.get("Accounts").status_code == 200
        upgraded = requests.post(f"{sb.url}/_sandbox/profile", json={"journals": True}, timeout=10)
        assert upgraded.status_code == 200 and upgraded.json()["journals"] is True
        served = api.get("Journals")  # the same token: nothing about it changed
        assert served.status_code == 200 and served.json()["Journals"][0]["JournalNumber"] == 1
        assert sb.stats()["responses"][api.tenant_id]["Journals"] == {"401": 2, "200": 1}


def test_classic_expenses_refused_to_an_app_created_since_march_2026() -> None:
    with Sandbox(books=[make_books(SandboxClock())], limits=False,
                 profile=AppProfile(app_created=date(2026, 6, 1))) as sb:
        body = refresh(sb, sb.new_refresh_token())
        assert CLASSIC not in body["scope"].split()
        assert claims(body["access_token"])["scope"] == body["scope"].split()
        api = Api(sb, token=body["access_token"])
        assert_refused(api.get("ExpenseClaims"))
        assert_refused(api.get("Receipts"))
        assert api.get("Invoices").status_code == 200 and api.get("Journals").status_code == 200
    with Sandbox(books=[make_books(SandboxClock())], limits=False,
                 profile=AppProfile(app_created=date(2026, 3, 1))) as sb:
        api = Api(sb)
        assert CLASSIC in claims(api.token)["scope"]
        assert api.get("ExpenseClaims").status_code == 200 and api.get("Receipts").status_code == 200


def test_custom_connection_created_since_29_april_2026_gets_no_journals() -> None:
    with Sandbox(books=[make_books(SandboxClock())], limits=False,
                 profile=AppProfile(custom_created=date(2026, 5, 4))) as sb:
        body = custom_token(sb)
        assert JOURNALS not in body["scope"].split() and JOURNALS not in claims(body["access_token"])["scope"]
        custom = Api(sb, token=body["access_token"])
        assert_refused(custom.get("Journals"))
        assert_refused(custom.get("ExpenseClaims"))  # created after March too: granular scopes only
        assert custom.get("Invoices").status_code == 200
        assert Api(sb).get("Journals").status_code == 200  # the demo app is not affected
        sb.set_profile(custom_created=date(2026, 4, 28))
        older = Api(sb, token=custom_token(sb)["access_token"])
        assert older.get("Journals").status_code == 200


def test_access_token_is_a_jwt_whose_scope_claim_lists_the_granted_scopes() -> None:
    with Sandbox(books=[make_books(SandboxClock())], limits=False) as sb:
        rt = sb.new_refresh_token()
        body = refresh(sb, rt)
        c = claims(body["access_token"])
        assert {"nbf", "exp", "iss", "aud", "client_id", "sub", "auth_time", "xero_userid",
                "global_session_id", "jti", "authentication_event_id", "scope"} <= set(c)
        assert c["iss"] == "https://identity.xero.com" and c["aud"] == "https://identity.xero.com/resources"
        assert c["client_id"] == sb.client_id and c["exp"] - c["nbf"] == body["expires_in"] == 1800
        assert c["scope"] == body["scope"].split() and {CLASSIC, JOURNALS, "offline_access"} <= set(c["scope"])
        old_token = body["access_token"]
        # The user consents again with fewer scopes: the next refresh carries them.
        sb.set_profile(scopes=["openid", "offline_access", "accounting.settings.read", "accounting.invoices.read"])
        again = refresh(sb, body["refresh_token"])
        assert claims(again["access_token"])["scope"] == again["scope"].split() == [
            "openid", "offline_access", "accounting.settings.read", "accounting.invoices.read"]
        assert_refused(Api(sb, token=again["access_token"]).get("Journals"))
        # Tokens already issued keep the claims they were signed with, and still work.
        assert claims(old_token)["scope"] == c["scope"]
        assert Api(sb, token=old_token).get("Journals").status_code == 200
        sb.expire_tokens()
        assert Api(sb, token=old_token).get("Journals").json()["Detail"].startswith("TokenExpired")



def test_fixed_day_window_resets_a_scaled_day_after_the_first_call() -> None:
    # time_scale 43200: Xero's day lasts two real seconds.
    def calls_after_a_day(window: str) -> list[int]:
        with Sandbox(books=[make_books(SandboxClock())], time_scale=43_200, day_limit=2, day_window=window,
                     token_lifetime=30 * 86_400) as sb:
            api = Api(sb)
            assert api.get("Currencies").status_code == 200
            time.sleep(1.0)  # half a day
            assert api.get("Currencies").status_code == 200
            over = api.get("Currencies")
            assert over.status_code == 429 and over.headers["X-Rate-Limit-Problem"] == "day"
            assert over.headers["Retry-After"] == "1"  # both windows: the first call's day ends in 1 s
            time.sleep(1.1)
            return [api.get("Currencies").status_code for _ in range(3)]

    # A fixed day starts afresh; a rolling one still holds the call made half a day ago.
    assert calls_after_a_day("fixed") == [200, 200, 429]
    assert calls_after_a_day("rolling") == [200, 429, 429]
