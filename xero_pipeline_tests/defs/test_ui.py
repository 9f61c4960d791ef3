"""The deployment an operator uses: `dagster dev` (webserver, daemon, code server) on loopback.

One test: start it against a sandbox with a temporary DAGSTER_HOME holding the project's
dagster.yaml, check that the daily schedule's cron and timezone came from the
environment at load, launch a `xero_sync` run for a tenant through the GraphQL API,
wait for it to succeed through the queue (the daemon dequeues it under dagster.yaml's
limits) and read its materialization metadata back through GraphQL.
"""

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import requests

from xero_pipeline.defs.partitions import TENANT_PARTITIONS_NAME
from xero_pipeline.registry import OBJECTS, REPORTS
from xero_pipeline.sandbox import Sandbox
from xero_pipeline_tests import ROOT
from xero_pipeline_tests.processes import free_port, stop, wait_until

CRON, TIMEZONE = "17 3 1 1 *", "Pacific/Auckland"  # never due while the test runs
# A subset of xero_sync keeps the run to seconds (the whole job is ~70 steps, each a few
# SQLite event writes); a multi-asset runs whole, so each object comes with its child tables.
SYNCED = [o for o in OBJECTS if o.table in ("organisations", "invoices")]
SELECTION = [{"path": ["xero", t]} for o in SYNCED for t in (o.table, *(c.table for c in o.children))]


class GraphQL:
    def __init__(self, url: str) -> None:
        self.url = url

    def __call__(self, query: str, **variables) -> dict:
        resp = requests.post(self.url, json={"query": query, "variables": variables}, timeout=30)
        resp.raise_for_status()
        body = resp.json()
        assert not body.get("errors"), body["errors"]
        return body["data"]


def wait_for(what: str, probe, *, timeout: float, proc: subprocess.Popen, log: Path):
    return wait_until(what, probe, timeout=timeout, proc=proc, log=log, fail=pytest.fail)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(tenants=1, scale=0.02, seed=5, limits=False) as sb:
        yield sb


@pytest.mark.heavy(20)
def test_dagster_dev_runs_a_tenant_sync_launched_through_graphql(sandbox, tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(ROOT / "dagster.yaml", home / "dagster.yaml")
    tenant = sandbox.tenant_ids[0]
    # What the tenant sensor does on its first tick; done before the daemon starts so the
    # run launched below is the only one, rather than racing the sensor's first sync.
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.add_dynamic_partitions(TENANT_PARTITIONS_NAME, [tenant])

    port = free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        **sandbox.pipeline_env(token_store=str(tmp_path / "tokens.json")),
        "XERO_WAREHOUSE": str(tmp_path / "xero.duckdb"),
        "XERO_SCHEDULE_CRON": CRON,
        "XERO_SCHEDULE_TIMEZONE": TIMEZONE,
    }
    log = tmp_path / "dagster_dev.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dagster", "dev", "-w", str(ROOT / "workspace.yaml"),
             "-h", "127.0.0.1", "-p", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        gql = GraphQL(f"http://127.0.0.1:{port}/graphql")

        def loaded_location():
            data = gql("""{ workspaceOrError { ... on Workspace { locationEntries {
                name loadStatus locationOrLoadError { __typename ... on PythonError { message }
                ... on RepositoryLocation { repositories { name } } } } } } }""")
            for entry in data["workspaceOrError"]["locationEntries"]:
                loc = entry["locationOrLoadError"]
                if loc and loc["__typename"] == "PythonError":
                    pytest.fail(f"the code location failed to load: {loc['message']}")
                if entry["loadStatus"] == "LOADED" and loc:
                    return entry["name"], loc["repositories"][0]["name"]
            return None

        location, repository = wait_for("the code location", loaded_location, timeout=60, proc=proc, log=log)
        repo = {"repositoryLocationName": location, "repositoryName": repository}

        schedule = gql("""query($s: ScheduleSelector!) { scheduleOrError(scheduleSelector: $s) {
            __typename ... on Schedule { cronSchedule executionTimezone } } }""",
                       s={**repo, "scheduleName": "xero_daily"})["scheduleOrError"]
        assert (schedule["cronSchedule"], schedule["executionTimezone"]) == (CRON, TIMEZONE), schedule

        launched = gql("""mutation($p: ExecutionParams!) { launchRun(executionParams: $p) { __typename
            ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
            ... on RunConfigValidationInvalid { errors { message } } ... on InvalidSubsetError { message } } }""",
                       p={"selector": {**repo, "jobName": "xero_sync", "assetSelection": SELECTION},
                          "runConfigData": {},
                          "executionMetadata": {"tags": [{"key": "dagster/partition", "value": tenant},
                                                         {"key": "xero/tenant", "value": tenant}]}})["launchRun"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        run_id = launched["run"]["runId"]

        def finished():
            run = gql("""query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }""", id=run_id)
            status = run["runOrError"]["status"]
            return status if status in ("SUCCESS", "FAILURE", "CANCELED") else None

        status = wait_for(f"run {run_id}", finished, timeout=75, proc=proc, log=log)
        if status != "SUCCESS":
            events = gql("""query($id: ID!) { logsForRun(runId: $id) { ... on EventConnection { events {
                __typename ... on MessageEvent { message } } } } }""", id=run_id)
            messages = [e.get("message", "") for e in events["logsForRun"]["events"]
                        if "FAIL" in e["__typename"].upper()]
            pytest.fail(f"run {run_id} ended {status}: {messages[:5]}")

        asset = gql("""query($k: AssetKeyInput!, $p: [String!]) { assetOrError(assetKey: $k) { ... on Asset {
            assetMaterializations(partitions: $p, limit: 1) { runId partition metadataEntries { label
              ... on IntMetadataEntry { intValue } ... on FloatMetadataEntry { floatValue }
              ... on TextMetadataEntry { text }
              ... on TableSchemaMetadataEntry { schema { columns { name type description } } } } } } } }""",
                    k={"path": ["xero", "invoices"]}, p=[tenant])["assetOrError"]
        [mat] = asset["assetMaterializations"]
        assert (mat["runId"], mat["partition"]) == (run_id, tenant)
        meta = {e["label"]: e for e in mat["metadataEntries"]}
        expected = len(sandbox.ground_truth(tenant_id=tenant)[tenant]["Invoices"])
        assert meta["dagster/row_count"]["intValue"] == expected > 0
        assert meta["rows_inserted"]["intValue"] == expected
        assert meta["api_calls"]["intValue"] >= 1
        assert meta["seconds"]["floatValue"] >= 0
        columns = {c["name"]: c["description"] for c in meta["dagster/column_schema"]["schema"]["columns"]}
        assert {"tenant_id", "invoice_id", "total"} <= set(columns)
        # Xero's words for Xero's fields, ours for the pipeline's columns.
        assert "Amount remaining to be paid" in columns["amount_due"]
        assert "alpha numeric code identifying invoice" in columns["invoice_number"]
        assert "partition key" in columns["tenant_id"] and "UTC" in columns["_synced_at"]
        # A run launched from the UI has no name tag: the step asked Xero for the name.
        name = next(t["name"] for t in sandbox.info()["tenants"] if t["tenant_id"] == tenant)
        assert meta["tenant_name"]["text"] == name

        # The daemon's xero_health sensor has judged the tenant; the UI shows it per partition.
        def health_results():
            return gql("""query($k: AssetKeyInput!, $p: String) { assetCheckExecutions(assetKey: $k,
                checkName: "tenant_health", partition: $p, limit: 5) { partition status
                evaluation { severity description } } }""",
                       k={"path": ["xero", "organisations"]}, p=tenant)["assetCheckExecutions"]

        [latest, *_] = wait_for("a tenant_health result", health_results, timeout=30, proc=proc, log=log)
        assert latest["partition"] == tenant and latest["evaluation"]["description"]
    finally:
        stop(proc)


def test_the_operator_guide_lists_every_scope_the_app_must_request():
    readme = (ROOT / "README.md").read_text()
    guide = readme[readme.index("### Connecting a real organisation"):readme.index("### Running the UI")]
    needed = {"offline_access"} | {o.scope for o in OBJECTS} | {r.scope for r in REPORTS}
    missing = sorted(s for s in needed if f"`{s}`" not in guide)
    assert not missing, f"README's operator guide does not list {missing}"
