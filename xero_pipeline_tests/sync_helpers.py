"""Helpers for the coverage, checks and crash-safety tests: resources and Dagster runs.

``run_tenant`` mirrors what ``runner.sync_tenants`` does for one tenant (object assets
plus their checks in one run) without the report and ledger assets a full CLI sync adds,
so these tests spend their time on the objects they are about.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dagster as dg

from xero_pipeline.cli.runner import register_tenants
from xero_pipeline.defs.assets import build_object_asset
from xero_pipeline.defs.checks import build_checks
from xero_pipeline.defs.resources import WarehouseResource
from xero_pipeline.registry import OBJECTS, XeroObject
from xero_pipeline.sandbox import Sandbox
from xero_pipeline_tests.resource_helpers import xero_resource

QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


def resources(sandbox: Sandbox, tmp_path: Path) -> dict[str, Any]:
    # The sandbox runs with limits off; a one-second window keeps the client's own
    # 60-a-minute pacing from stretching a test that makes ~40 calls per tenant.
    xero = xero_resource(sandbox, tmp_path, rate_window_seconds=1.0)
    return {"xero": xero, "warehouse": WarehouseResource(database=str(tmp_path / "xero.duckdb"))}


def run_tenant(
    instance: dg.DagsterInstance, res: dict[str, Any], tenant: str, objects: Sequence[XeroObject] = OBJECTS,
    *, extra: Sequence[Any] = (),
) -> dg.ExecuteInProcessResult:
    register_tenants(instance, [tenant])
    return dg.materialize(
        [*(build_object_asset(o) for o in objects), *build_checks(objects), *extra],
        instance=instance, partition_key=tenant, resources=res, raise_on_error=False, run_config=QUIET,
    )


def run_checks_only(
    instance: dg.DagsterInstance, res: dict[str, Any], tenant: str, objects: Sequence[XeroObject] = OBJECTS,
) -> dg.ExecuteInProcessResult:
    # Dagster 1.13 refuses partition_key when only partitioned checks are selected ("no
    # PartitionsDefinition shared by all the provided assets"); the partition tag works.
    return dg.materialize(
        [*(build_object_asset(o) for o in objects), *build_checks(objects)],
        instance=instance, tags={"dagster/partition": tenant}, resources=res, raise_on_error=False,
        run_config=QUIET, selection=dg.AssetSelection.all_asset_checks(),
    )


def step_failures(result: dg.ExecuteInProcessResult) -> dict[str, str]:
    out = {}
    for event in result.all_events:
        if event.is_step_failure:
            data = event.step_failure_data
            text = data.user_failure_data.description if data.user_failure_data else None
            out[event.step_key or "?"] = text or (data.error.message if data.error else "")
    return out


def evaluations(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], Any]:
    """(table, check name) -> the check's evaluation."""
    return {(e.asset_key.path[-1], e.check_name): e for e in result.get_asset_check_evaluations()}


def failed_checks(result: dg.ExecuteInProcessResult, *, include_warnings: bool = False) -> dict[tuple[str, str], str]:
    return {
        key: e.description or ""
        for key, e in evaluations(result).items()
        if not e.passed and (include_warnings or e.severity == dg.AssetCheckSeverity.ERROR)
    }
