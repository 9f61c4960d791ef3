"""Xero's ``/connections`` also lists Xero HQ (PRACTICE) and Practice Manager tenants; the
Accounting API serves only ORGANISATION tenants. The others are listed (and kept in
``xero.tenants`` with their type) but never become partitions, runs or syncs."""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import pytest

from xero_pipeline.cli.runner import sync_tenants
from xero_pipeline.definitions import load_definitions
from xero_pipeline.defs.partitions import TENANT_PARTITIONS_NAME
from xero_pipeline.defs.resources import WarehouseResource
from xero_pipeline.defs.sensors import tenant_sensor
from xero_pipeline.errors import ConfigError
from xero_pipeline.registry import BY_TABLE
from xero_pipeline.sandbox import Sandbox
from xero_pipeline.warehouse.read import connect_read_only
from xero_pipeline_tests.resource_helpers import authorise_in_process, cli_env, run_cli, xero_resource

KINDS = ("PRACTICE", "PRACTICEMANAGER")
ORGANISATIONS = [BY_TABLE["organisations"]]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(tenants=1, scale=0.02, seed=13, limits=False, practices=KINDS) as sb:
        yield sb


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.ephemeral() as inst:
        yield inst


def skipped_lines(text: str, sandbox: Sandbox) -> list[str]:
    return [line for line in text.splitlines() if any(p in line for p in sandbox.practice_ids)]


def test_the_sandbox_lists_practices_beside_the_organisation(sandbox, tmp_path):
    listed = xero_resource(sandbox, tmp_path).get_client().connections()
    assert sorted(c["tenantType"] for c in listed) == ["ORGANISATION", *KINDS]
    assert {c["tenantId"] for c in listed} == {*sandbox.tenant_ids, *sandbox.practice_ids}


def test_sync_skips_practices_and_says_why(sandbox, instance, tmp_path):
    lines: list[str] = []
    report = sync_tenants(instance=instance, xero=xero_resource(sandbox, tmp_path),
                          warehouse=WarehouseResource(database=str(tmp_path / "xero.duckdb")),
                          objects=ORGANISATIONS, echo=lines.append)
    assert report.ok, report.failures
    assert instance.get_dynamic_partitions(TENANT_PARTITIONS_NAME) == sandbox.tenant_ids
    said = skipped_lines("\n".join(lines), sandbox)
    assert len(said) == 2 and all("skipped" in line and "ORGANISATION" in line for line in said), lines
    with connect_read_only(str(tmp_path / "xero.duckdb")) as conn:
        types = dict(conn.execute("SELECT tenant_id, tenant_type FROM xero.tenants").fetchall())
    assert types == {sandbox.tenant_ids[0]: "ORGANISATION", **dict(zip(sandbox.practice_ids, KINDS, strict=True))}

    with pytest.raises(ConfigError, match="PRACTICE.*ORGANISATION"):
        sync_tenants(instance=instance, xero=xero_resource(sandbox, tmp_path),
                     warehouse=WarehouseResource(database=str(tmp_path / "xero.duckdb")),
                     tenant_ids=[sandbox.practice_ids[0]], objects=ORGANISATIONS, echo=lines.append)


def test_the_tenant_sensor_registers_only_the_organisation(sandbox, instance, tmp_path):
    with dg.build_sensor_context(instance=instance, resources={"xero": xero_resource(sandbox, tmp_path)},
                                 definitions=load_definitions()) as context:
        result = tenant_sensor(context)
    assert [r.partition_key for r in result.run_requests] == sandbox.tenant_ids
    [add] = result.dynamic_partitions_requests
    assert list(add.partition_keys) == sandbox.tenant_ids


def test_the_tenants_command_and_auth_mark_the_practices_skipped(sandbox, tmp_path):
    shown = run_cli("tenants", env=cli_env(sandbox, tmp_path))
    assert shown.returncode == 0, shown.stderr
    said = skipped_lines(shown.stdout, sandbox)
    assert len(said) == 2 and all("skipped" in line for line in said), shown.stdout
    assert sandbox.tenant_ids[0] in shown.stdout

    lines: list[str] = []
    authorise_in_process(sandbox, tmp_path, echo=lines.append)
    assert "1 organisation(s) connected" in "\n".join(lines), lines
    assert len(skipped_lines("\n".join(lines), sandbox)) == 2
