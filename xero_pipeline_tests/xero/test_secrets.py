"""Secrets stay secret even in text the pipeline did not write itself.

Every test in this folder with a sandbox already ends with a scan (the ``watch`` fixture
of ``xero/conftest.py``) of its captured logs at DEBUG, its output, its subprocesses' output
and its Dagster event log for every token, code and secret the sandbox issued. These
tests force the failures most likely to quote a token.
"""

from __future__ import annotations

import json
import time

import pytest

from xero_pipeline.errors import XeroAuthError, XeroRequestError
from xero_pipeline.sandbox import Sandbox
from xero_pipeline_tests.resource_helpers import (
    cli_env,
    run_cli,
    run_sync,
    xero_resource,
)


def spoil_the_stored_access_token(sandbox: Sandbox, tmp_path) -> str:
    """A store whose access token ends in a newline (hand-edited, say): ``requests``
    refuses the header and quotes its whole value in the exception."""
    xero_resource(sandbox, tmp_path).get_client().connections()
    path = tmp_path / "tokens.json"
    data = json.loads(path.read_text())
    data["access_token"] += "\n"
    data["expires_at"] = time.time() + 3600
    path.write_text(json.dumps(data))
    return data["access_token"].strip()


def test_a_request_library_error_quoting_the_token_is_redacted(sandbox, tmp_path, watch):
    token = spoil_the_stored_access_token(sandbox, tmp_path)
    client = xero_resource(sandbox, tmp_path).get_client()
    with pytest.raises(XeroRequestError) as caught:
        client.get_json("/api.xro/2.0/Invoices", tenant_id=sandbox.tenant_ids[0], what="invoices")
    text = str(caught.value)
    assert "InvalidHeader" in text and "[redacted]" in text and token not in text
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    # The same failure through the command line: a clean message, no traceback, no token.
    result = run_cli("tenants", env=cli_env(sandbox, tmp_path), watch=watch)
    assert result.returncode == 2 and "[redacted]" in result.stderr and "Traceback" not in result.stderr


def test_failures_inside_dagster_runs_carry_no_secret(sandbox, instance, tmp_path, watch):
    tenant = sandbox.tenant_ids[0]
    # A step that exhausts its retries, then one whose token refresh is refused.
    sandbox.inject("503", tenant_id=tenant, path="Invoices", count=10)
    report = run_sync(instance, sandbox, tmp_path, max_retries=2)
    assert {step for _, step, _ in report.failures} == {"xero_invoices"}
    assert "503" in report.failures[0][2] and "failed 3 times" in report.failures[0][2]
    sandbox.identity.grace = 0
    sandbox.expire_tokens()
    (tmp_path / "tokens.json").unlink()  # the seed refresh token is long spent
    with pytest.raises(XeroAuthError, match="invalid_grant"):
        run_sync(instance, sandbox, tmp_path)
    assert watch.check() > 0
