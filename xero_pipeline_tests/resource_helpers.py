"""Shared pieces of the tests that sync a sandbox: resources pointed at it, syncs through
Dagster, the CLI in a subprocess, and a watch that fails a test whose logs, output or
Dagster events contain any secret the sandbox ever issued (the ``watch`` fixture of
``xero/conftest.py``)."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import dagster as dg
import requests

from xero_pipeline.cli.runner import SyncReport, sync_tenants
from xero_pipeline.defs.resources import WarehouseResource, XeroResource
from xero_pipeline.registry import BY_TABLE, XeroObject
from xero_pipeline.sandbox import Sandbox
from xero_pipeline.xero.oauth_flow import AuthResult, run_auth
from xero_pipeline_tests.truth import diff_warehouse

SMALL = [BY_TABLE["invoices"], BY_TABLE["contacts"], BY_TABLE["journals"]]


def xero_resource(sandbox: Sandbox, tmp_path: Path, **overrides: object) -> XeroResource:
    settings: dict[str, object] = {
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "refresh_token": sandbox.refresh_token,
        "api_url": sandbox.url,
        "identity_url": sandbox.url,
        "token_store": str(tmp_path / "tokens.json"),
        "backoff_seconds": 0.05,
    }
    settings.update(overrides)
    return XeroResource(**settings)


def run_sync(
    instance: dg.DagsterInstance,
    sandbox: Sandbox,
    tmp_path: Path,
    *,
    objects: Sequence[XeroObject] = SMALL,
    tenant_ids: Sequence[str] | None = None,
    warehouse: Mapping[str, object] | None = None,
    **overrides: object,
) -> SyncReport:
    """One ``xero-pipeline sync`` in this process (Dagster ``materialize`` per tenant).

    ``overrides`` are ``XeroResource`` settings, ``warehouse`` ``WarehouseResource`` ones.
    """
    return sync_tenants(
        instance=instance,
        xero=xero_resource(sandbox, tmp_path, **overrides),
        warehouse=WarehouseResource(database=str(tmp_path / "xero.duckdb"), **(warehouse or {})),
        tenant_ids=tenant_ids,
        objects=objects,
        echo=lambda _: None,
    )


def assert_matches_truth(sandbox: Sandbox, tmp_path: Path, objects: Sequence[XeroObject] = SMALL) -> None:
    problems = diff_warehouse(tmp_path / "xero.duckdb", sandbox.ground_truth(), objects)
    assert not problems, "\n".join(problems[:20])


def follow_consent(url: str) -> None:
    """The test's browser: the sandbox consents at once and redirects to the callback."""
    resp = requests.get(url, allow_redirects=False, timeout=10)
    assert resp.status_code == 302, resp.text
    # urllib, not requests: the callback URL carries the code, and urllib3 logs request lines.
    urllib.request.urlopen(resp.headers["Location"], timeout=10).read()


def authorise_in_process(sandbox: Sandbox, tmp_path: Path, *, scopes: Sequence[str] | None = None,
                         browser=follow_consent, echo=lambda _: None, keep_refresh_token: bool = False,
                         timeout_seconds: float = 30, **settings: object) -> AuthResult:
    """``xero-pipeline auth`` against the sandbox (by default with no XERO_REFRESH_TOKEN);
    ``settings``: more ``XeroResource`` settings."""
    overrides = settings if keep_refresh_token else {"refresh_token": None, **settings}
    settings = xero_resource(sandbox, tmp_path, **overrides).settings()
    return run_auth(settings=settings, authorize_url=sandbox.url + "/identity/connect/authorize", port=0,
                    scopes=scopes, open_browser=browser, timeout_seconds=timeout_seconds, echo=echo)


# For a sandbox with its limits off: the client still paces itself to Xero's 60 calls a
# minute, so a full sync (~80 calls) would wait out a minute that tests nothing.
FAST_PACING = {"XERO_RATE_WINDOW_SECONDS": "1"}


def cli_env(sandbox: Sandbox, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XERO_")}
    env.update({
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        **sandbox.pipeline_env(token_store=str(tmp_path / "tokens.json")),
        "XERO_WAREHOUSE": str(tmp_path / "xero.duckdb"),
    })
    env.update(extra)
    (tmp_path / "dagster_home").mkdir(exist_ok=True)
    return env


def run_cli(*args: str, env: dict[str, str], watch: SecretWatch | None = None,
            prelude: str = "") -> subprocess.CompletedProcess:
    """``python -m xero_pipeline.cli.main ARGS``; ``prelude`` is Python run first in that process."""
    code = f"{prelude}\nimport sys\nfrom xero_pipeline.cli.main import main\nsys.exit(main(sys.argv[1:]))"
    result = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True,
                            timeout=240, cwd=env.get("DAGSTER_HOME"))
    if watch is not None:
        watch.texts += [result.stdout, result.stderr]
    return result


class SecretWatch:
    """Everything a test's run wrote where people look, checked for secrets at the end."""

    def __init__(self) -> None:
        self.sandboxes: list[Sandbox] = []
        self.instances: list[dg.DagsterInstance] = []
        self.texts: list[str] = []

    def secrets(self) -> set[str]:
        found: set[str] = set()
        for sb in self.sandboxes:
            found |= {sb.client_secret, sb.custom_client_secret, sb.refresh_token}
            # Every token and code the sandbox ever issued, including those that only
            # lived in a subprocess's memory (the identity service keeps them all).
            ident = sb.identity
            found |= set(ident._access) | set(ident._refresh) | set(ident._codes)
        return {s for s in found if s}

    def dagster_text(self) -> Iterator[str]:
        for instance in self.instances:
            yield from _runs_and_events(instance)

    def release(self, instance: dg.DagsterInstance) -> None:
        """Keep ``instance``'s runs and events as text for ``check``, before the instance is disposed of."""
        self.instances.remove(instance)
        self.texts += _runs_and_events(instance)

    def check(self, extra: Sequence[str] = ()) -> int:
        secrets = self.secrets()
        assert secrets, "the watch saw no sandbox"
        texts = [*self.texts, *extra, *self.dagster_text()]
        for text in texts:
            assert "Bearer " not in text, "an authorization header reached a log or event"
            for secret in secrets:
                assert secret not in text, "a token or secret reached a log, an output or a Dagster event"
        return len(texts)


def _runs_and_events(instance: dg.DagsterInstance) -> list[str]:
    texts: list[str] = []
    for run in instance.get_runs():
        texts.append(str(run))
        texts += (str(entry) for entry in instance.all_logs(run.run_id))
    return texts
