"""A leftover XERO_REFRESH_TOKEN in a daemon's environment never beats a newer token store.

The store remembers a digest of the variable it was seeded from; the variable wins only
when it differs from that digest (someone set a new one after re-authorising). Here the
daemon's variable is long spent (Xero's 30-minute grace is over) and someone ran
``xero-pipeline auth`` in another shell, without the variable.
"""

from __future__ import annotations

import json

import pytest

from xero_pipeline.registry import BY_TABLE
from xero_pipeline.sandbox import Sandbox
from xero_pipeline.xero import auth
from xero_pipeline.xero.auth import TokenManager, TokenStore
from xero_pipeline_tests.resource_helpers import (
    assert_matches_truth,
    authorise_in_process,
    run_sync,
)

INVOICES = [BY_TABLE["invoices"]]


@pytest.fixture
def sandbox() -> Sandbox:
    """Xero's 30-minute grace is over: a spent refresh token is refused at once."""
    sb = Sandbox(tenants=1, scale=0.02, seed=11, limits=False)
    sb.identity.grace = 0
    with sb:
        yield sb


def daemon(sb: Sandbox, store: TokenStore) -> TokenManager:
    """The daemon's manager: its XERO_REFRESH_TOKEN is the sandbox's first token, for ever."""
    return TokenManager(client_id=sb.client_id, client_secret=sb.client_secret, refresh_token=sb.refresh_token,
                        identity_url=sb.url, store=store)


def invalid_grants(sb: Sandbox) -> int:
    return sb.stats()["events"].get("token_error:invalid_grant", 0)


def test_auth_in_another_shell_beats_the_daemons_leftover_variable(sandbox, instance, tmp_path, watch):
    watch.sandboxes.append(sandbox)
    watch.instances.append(instance)
    store = TokenStore(tmp_path / "tokens.json")
    leftover = sandbox.refresh_token
    first = daemon(sandbox, store)
    first.access_token()  # seeds the store; Xero rotates, the leftover is spent
    first.invalidate(first.access_token())
    first.access_token()  # and rotates again: the store holds a newer token
    authorise_in_process(sandbox, tmp_path)  # another shell, no XERO_REFRESH_TOKEN
    from_auth = json.loads(store.path.read_text())["refresh_token"]
    assert json.loads(store.path.read_text())["seed"] == auth._fingerprint(leftover)
    assert leftover not in store.path.read_text()

    # The daemon restarts with the old variable still set.
    report = run_sync(instance, sandbox, tmp_path, objects=INVOICES, refresh_token=leftover)
    assert report.ok, report.failures
    assert invalid_grants(sandbox) == 0
    assert_matches_truth(sandbox, tmp_path, INVOICES)
    # Later refreshes rotate the grant auth made, not the leftover.
    daemon(sandbox, store).invalidate(json.loads(store.path.read_text())["access_token"])
    assert run_sync(instance, sandbox, tmp_path, objects=INVOICES, refresh_token=leftover).ok
    assert json.loads(store.path.read_text())["refresh_token"] != from_auth
    assert invalid_grants(sandbox) == 0


def test_a_store_rebuilt_by_auth_recovers_a_daemon_whose_variable_is_spent(sandbox, instance, tmp_path, watch):
    """The store was lost, then rebuilt by auth without the variable: nothing recorded it."""
    watch.sandboxes.append(sandbox)
    watch.instances.append(instance)
    assert run_sync(instance, sandbox, tmp_path, objects=INVOICES).ok
    (tmp_path / "tokens.json").unlink()
    authorise_in_process(sandbox, tmp_path)

    report = run_sync(instance, sandbox, tmp_path, objects=INVOICES)
    assert report.ok, report.failures
    assert invalid_grants(sandbox) == 1  # the variable, tried once, then the store's token
    assert run_sync(instance, sandbox, tmp_path, objects=INVOICES).ok
    assert invalid_grants(sandbox) == 1  # never tried again: the store now records it
    assert_matches_truth(sandbox, tmp_path, INVOICES)
