"""The command line: configuration errors before any work, read-only SQL, the demo."""

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from xero_pipeline.cli.main import main
from xero_pipeline.config import xero_settings
from xero_pipeline.errors import ConfigError
from xero_pipeline.warehouse.read import connect_read_only


def run_cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "xero_pipeline.cli.main", *args],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=300,
    )


def clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XERO_")}
    env["DAGSTER_HOME"] = str(tmp_path / "home")
    return env


def test_missing_credentials_are_named_before_any_work(tmp_path):
    result = run_cli("sync", env=clean_env(tmp_path), cwd=tmp_path)
    assert result.returncode == 2
    assert "XERO_CLIENT_ID is not set" in result.stderr
    assert not (tmp_path / "data").exists()  # nothing was started


def test_a_wrong_url_is_named():
    with pytest.raises(ConfigError, match="XERO_API_URL must be an http"):
        xero_settings(env={"XERO_CLIENT_ID": "a", "XERO_CLIENT_SECRET": "b", "XERO_API_URL": "api.xero.com"})


def test_settings_never_show_the_secret():
    s = xero_settings(env={"XERO_CLIENT_ID": "a", "XERO_CLIENT_SECRET": "s3cret", "XERO_REFRESH_TOKEN": "rt-123",
                           "XERO_TOKEN_STORE": "/tmp/xero-test-tokens.json"})
    assert "s3cret" not in repr(s) and "rt-123" not in repr(s)


def test_select_that_matches_nothing_lists_the_choices(capsys):
    with pytest.raises(ConfigError, match="matches no Xero object; choose from: accounts"):
        from xero_pipeline.cli.runner import select_objects

        select_objects("invoicez")


@pytest.mark.heavy(60)
def test_demo_then_sql(tmp_path, monkeypatch):
    """`make demo` in miniature: sandbox -> Dagster -> DuckDB, a summary, then a query."""
    env = clean_env(tmp_path)
    db = tmp_path / "data" / "warehouse.duckdb"
    result = run_cli("demo", "--scale", "0.01", "--tenants", "2", "--warehouse", str(db), env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Rows per table and organisation" in result.stdout
    assert "Demo Company (NZ)" in result.stdout and "Demo Company (UK)" in result.stdout
    assert f"xero-pipeline sql --warehouse {db}" in result.stdout  # the hint finds this demo's file
    assert db.exists() and (db.parent / "sandbox_tokens.json").exists()  # the demo's files sit together
    assert (tmp_path / "home" / "dagster.yaml").exists()  # a persistent instance, not a temporary one
    monkeypatch.setenv("DAGSTER_HOME", env["DAGSTER_HOME"])
    with dg.DagsterInstance.get() as instance:  # each tenant's run is findable by organisation name
        tagged = {r.tags.get("xero/tenant_name") for r in instance.get_runs() if "xero/tenant" in r.tags}
    assert tagged == {"Demo Company (NZ)", "Demo Company (UK)"}
    # The demo's books run up to today: some of what customers owe is not due yet.
    conn = connect_read_only(str(db))
    try:
        current = conn.execute("SELECT count(*) FROM ledger.receivables_ageing WHERE due_current > 0").fetchone()[0]
        latest = conn.execute("SELECT max(date) FROM xero.invoices WHERE status <> 'DRAFT'").fetchone()[0]
    finally:
        conn.close()
    assert current > 0
    assert 0 <= (datetime.now(UTC).date() - latest).days <= 5, latest
    env["XERO_WAREHOUSE"] = str(db)
    query = run_cli(
        "sql", "SELECT count(DISTINCT tenant_id) AS tenants, count(*) > 0 AS has_rows FROM xero.invoices",
        env=env, cwd=tmp_path,
    )
    assert query.returncode == 0, query.stderr
    assert query.stdout.split()[4:6] == ["2", "true"]  # after the header and its rule
    bad = run_cli("sql", "SELECT * FROM xero.no_such_table", env=env, cwd=tmp_path)
    assert bad.returncode == 2 and "query failed" in bad.stderr
    write = run_cli("sql", "DELETE FROM xero.invoices", env=env, cwd=tmp_path)
    assert write.returncode == 2 and "read-only" in write.stderr.lower()


def test_main_returns_an_exit_code_for_errors(tmp_path, monkeypatch):
    for key in list(os.environ):
        if key.startswith("XERO_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    assert main(["tenants"]) == 2
