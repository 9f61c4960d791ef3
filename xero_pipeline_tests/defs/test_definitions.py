"""The Dagster definitions load, and every registry object is a tenant-partitioned asset."""

import os
import subprocess
import sys

import dagster as dg

from xero_pipeline.definitions import defs
from xero_pipeline.registry import OBJECTS


def test_every_object_and_child_table_is_a_partitioned_asset():
    repo = defs.get_repository_def()
    graph = repo.asset_graph
    for obj in OBJECTS:
        for table in (obj.table, *(c.table for c in obj.children)):
            key = dg.AssetKey(["xero", table])
            assert graph.has(key), key
            node = graph.get(key)
            assert node.group_name == "xero"
            assert isinstance(node.partitions_def, dg.DynamicPartitionsDefinition)
            assert node.partitions_def.name == "xero_tenant"
            assert node.description and f"xero.{table}" in node.description
    job = repo.get_job("xero_sync")
    assert job.partitions_def is not None


def test_dagster_validates_the_code_location(tmp_path):
    # Its own instance directory: the project's .dagster need not exist on a fresh clone.
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-m", "xero_pipeline.definitions"],
        capture_output=True, text=True, timeout=180, env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
