"""With XERO_POSTGRES_URL set, a new $DAGSTER_HOME gets dagster.postgres.yaml: Dagster's runs
and events (the incremental cursors among them) and the app's tokens live in PostgreSQL,
where every machine finds them, and nothing of either is left in local files."""

from __future__ import annotations

import psycopg
import pytest
import yaml

from xero_pipeline.cli.runner import PROJECT_DAGSTER_YAML, PROJECT_POSTGRES_YAML

from xero_pipeline.defs.keys import asset_key
from xero_pipeline.defs.materializations import stored_cursor
from xero_pipeline.sandbox import Sandbox
from xero_pipeline_tests.resource_helpers import cli_env, run_cli

pytestmark = pytest.mark.xdist_group("postgres")


def test_a_sync_keeps_its_runs_cursors_and_tokens_in_postgres(tmp_path, postgres_url, monkeypatch):
    import dagster as dg

    with Sandbox(tenants=1, scale=0.01, seed=3, limits=False) as sb:
        env = cli_env(sb, tmp_path, XERO_POSTGRES_URL=postgres_url)
        result = run_cli("sync", "--select", "invoices,contacts", env=env)
        assert result.returncode == 0, result.stdout + result.stderr
        tenant = sb.tenant_ids[0]

    home = tmp_path / "dagster_home"
    assert "postgres_url" in (home / "dagster.yaml").read_text()
    assert not [p.name for p in home.rglob("*.db")], "Dagster wrote SQLite storage"
    assert not list(tmp_path.glob("tokens.json*")) and not list(tmp_path.glob("*.sqlite"))

    with psycopg.connect(postgres_url) as conn:
        statuses = [r[0] for r in conn.execute("SELECT status FROM runs")]
        tokens = conn.execute("SELECT data->>'grant' FROM xero_pipeline.tokens").fetchall()
    assert statuses and set(statuses) == {"SUCCESS"}, statuses
    assert tokens == [("authorization_code",)]

    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("XERO_POSTGRES_URL", postgres_url)
    with dg.DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert stored_cursor(instance, asset_key("invoices"), tenant)
        assert stored_cursor(instance, asset_key("contacts"), tenant)


def test_the_postgres_instance_settings_are_the_one_machine_settings_plus_storage():
    one_machine = yaml.safe_load(PROJECT_DAGSTER_YAML.read_text())
    several = yaml.safe_load(PROJECT_POSTGRES_YAML.read_text())
    assert several.pop("storage") == {"postgres": {"postgres_url": {"env": "XERO_POSTGRES_URL"}}}
    assert several == one_machine
