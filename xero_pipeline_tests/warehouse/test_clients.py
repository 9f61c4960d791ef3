"""The warehouse opens in the DuckDB clients people have, and `xero.invoices` just works there.

A synced warehouse (under the default file name) is opened by plain ``duckdb.connect``
of the pinned library and by the DuckDB CLI from PyPI (``duckdb-cli``, the test extra),
with no ATTACH or catalog prefix: the counts must equal the sandbox's ground truth.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from xero_pipeline.config import DEFAULTS
from xero_pipeline.sandbox import Sandbox
from xero_pipeline_tests.resource_helpers import FAST_PACING, cli_env, run_cli

DEFAULT_NAME = Path(DEFAULTS["XERO_WAREHOUSE"]).name
CLI = Path(sys.executable).parent / "duckdb"  # the `duckdb` command the duckdb-cli package installs

# The module's one sync is half a minute of work: keep its tests on one pytest worker, so the
# module fixture is built once rather than once per worker (`make test` uses --dist loadgroup).
pytestmark = [pytest.mark.xdist_group("clients"), pytest.mark.heavy(30)]


@pytest.fixture(scope="module")
def synced(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess, dict]:
    """`xero-pipeline sync` of every object (so the ledger views too) of one tenant, into a
    warehouse named as the default one is."""
    tmp = tmp_path_factory.mktemp("clients")
    db = tmp / "data" / DEFAULT_NAME
    with Sandbox(tenants=1, scale=0.01, seed=7, limits=False) as sandbox:
        tenant = sandbox.tenant_ids[0]
        result = run_cli("sync", "--tenant", tenant, env=cli_env(sandbox, tmp, XERO_WAREHOUSE=str(db), **FAST_PACING))
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        return db, result, sandbox.ground_truth(tenant_id=tenant)


def invoices_in(truth: dict) -> int:
    return sum(len(collections["Invoices"]) for collections in truth.values())


def test_plain_duckdb_connect_reads_xero_invoices(synced):
    db, _, truth = synced
    with duckdb.connect(str(db), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM xero.invoices").fetchone()[0] == invoices_in(truth)
        # The ledger views resolve their tables under whatever catalog the client gives the file.
        assert conn.execute("SELECT count(*) FROM ledger.general_ledger").fetchone()[0] > 0


def cli(db: Path, sql: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(CLI), "-readonly", str(db), "-csv", "-noheader", "-c", sql],
                          capture_output=True, text=True, timeout=120)


def test_the_duckdb_cli_from_pypi_reads_the_warehouse(synced):
    db, _, truth = synced
    version = subprocess.run([str(CLI), "--version"], capture_output=True, text=True, timeout=60)
    assert version.stdout.startswith("v1."), version.stdout + version.stderr
    result = cli(db, "SELECT count(*) FROM xero.invoices")
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) == invoices_in(truth)
    views = cli(db, "SELECT count(*) > 0 FROM ledger.trial_balance")
    assert views.returncode == 0 and views.stdout.strip() == "true", views.stderr


def test_sync_output_counts_calls_grammatically(synced):
    _, result, _ = synced
    assert re.search(r"\b1 call\b", result.stdout), result.stdout[-2000:]
    assert not re.search(r"\b1 calls\b", result.stdout), result.stdout[-2000:]
