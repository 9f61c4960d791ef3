"""The two-machine rehearsal: two worker "machines" (separate working folders, no local
file shared), two `xero-pipeline sync` processes on each, all at once, eight tenants, one
PostgreSQL for Dagster's instance (dagster.postgres.yaml, which the CLI copies into each
machine's new $DAGSTER_HOME since XERO_POSTGRES_URL is set), the rotating tokens and the
limits, and one DuckLake warehouse (its catalog in a second database of that server, its
data in a folder outside both machines, standing for the object store).

The sandbox refuses a refresh token used twice (no grace) and its access tokens live three
seconds, so the processes refresh while they sync: one refresh by two machines would be
``invalid_grant``, or ``token_reuse`` within a grace. The lake must end equal to the
sandbox's ground truth for every tenant, with no process having waited for a lock.
"""

from __future__ import annotations

import re
import subprocess
import sys
import uuid

import dagster as dg
import psycopg
import pytest
import yaml

from xero_pipeline.cli.runner import PROJECT_DAGSTER_YAML, PROJECT_POSTGRES_YAML, ensure_dagster_home, register_tenants
from xero_pipeline.config import lake_from
from xero_pipeline.defs.keys import asset_key
from xero_pipeline.defs.materializations import stored_cursor
from xero_pipeline.sandbox import Sandbox
from xero_pipeline_tests.postgres_server import create_database
from xero_pipeline_tests.resource_helpers import SMALL, cli_env
from xero_pipeline_tests.truth import diff_warehouse

pytestmark = [pytest.mark.xdist_group("two_machines"), pytest.mark.heavy(30)]

MACHINES, PROCESSES_PER_MACHINE, TENANTS = 2, 2, 8
OBJECTS = SMALL[:2]  # invoices (paged) and contacts
TABLES = ",".join(o.table for o in OBJECTS)


def test_two_machines_sync_at_once_through_one_postgres(tmp_path, postgres_cluster, postgres_url, monkeypatch):
    lake_catalog = create_database(postgres_cluster, f"lake_{uuid.uuid4().hex[:16]}")
    shared = {"XERO_POSTGRES_URL": postgres_url, "XERO_WAREHOUSE": f"ducklake:postgres:{lake_catalog}",
              # An object store in production: the one place outside both machines' folders.
              "XERO_WAREHOUSE_DATA": str(tmp_path / "object-store")}
    with Sandbox(tenants=TENANTS, scale=0.01, seed=21, limits=False, token_lifetime=3) as sb:
        sb.identity.grace = 0
        workers = []
        for m in range(MACHINES):
            machine = tmp_path / f"machine{m}"
            machine.mkdir()
            for p in range(PROCESSES_PER_MACHINE):
                n = m * PROCESSES_PER_MACHINE + p
                tenants = sb.tenant_ids[2 * n:2 * n + 2]
                workers.append((machine, tenants, cli_env(sb, machine, **shared)))
        # The tenants are partitions before the workers start, as the tenant sensor makes them.
        monkeypatch.setenv("DAGSTER_HOME", workers[0][2]["DAGSTER_HOME"])
        monkeypatch.setenv("XERO_POSTGRES_URL", postgres_url)
        ensure_dagster_home()
        with dg.DagsterInstance.get() as instance:
            register_tenants(instance, sb.tenant_ids)
        procs = [
            subprocess.Popen([sys.executable, "-m", "xero_pipeline.cli.main", "sync", "--parallel", "1",
                              "--select", TABLES, *(a for t in tenants for a in ("--tenant", t))],
                             env=env, cwd=machine, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for machine, tenants, env in workers
        ]
        outputs = [p.communicate(timeout=240)[0] for p in procs]
        assert [p.returncode for p in procs] == [0] * len(procs), "\n".join(outputs)

        stats = sb.stats()
        events = stats["events"]
        assert not any(e.startswith("token_error") or e == "token_reuse" for e in events), events
        # Each process runs for several of the tokens' lives: they were refreshed as they went.
        assert events["token:refresh_token"] >= 3, events
        lake = lake_from(shared["XERO_WAREHOUSE"], shared["XERO_WAREHOUSE_DATA"])
        problems = diff_warehouse(lake, sb.ground_truth(), OBJECTS)
        assert not problems, "\n".join(problems[:20])

    for m in range(MACHINES):  # nothing of the instance or the tokens stayed on a machine
        machine = tmp_path / f"machine{m}"
        assert not list(machine.rglob("*.db")) and not list(machine.rglob("tokens.json*"))
        assert not list(machine.rglob("*.sqlite")) and not list(machine.rglob("*.duckdb"))
    with psycopg.connect(postgres_url) as conn:
        runs = conn.execute("SELECT status, count(*) FROM runs GROUP BY status").fetchall()
        waits = conn.execute("SELECT count(*) FROM event_logs WHERE event LIKE '%%is locked by%%' "
                             "OR event LIKE '%%lock acquired after%%'").fetchone()[0]
        app_window = conn.execute("SELECT count(*) FROM ratelimit___xero_app").fetchone()[0]
    assert runs == [("SUCCESS", TENANTS)], runs
    assert waits == 0
    # Every API call of the four processes counted in the app's one window (within its minute).
    api_calls = sum(n for per in stats["calls"].values() for path, n in per.items() if not path.startswith("connect/"))
    assert app_window == api_calls, (app_window, stats["calls"])
    assert all(not re.search(r"invalid_grant", out) for out in outputs)
    with dg.DagsterInstance.get() as instance:  # the cursors the next run starts from
        assert all(stored_cursor(instance, asset_key("invoices"), t) for t in sb.tenant_ids)


def test_the_postgres_instance_settings_are_the_one_machine_settings_plus_storage():
    one_machine = yaml.safe_load(PROJECT_DAGSTER_YAML.read_text())
    several = yaml.safe_load(PROJECT_POSTGRES_YAML.read_text())
    assert several.pop("storage") == {"postgres": {"postgres_url": {"env": "XERO_POSTGRES_URL"}}}
    assert several == one_machine
