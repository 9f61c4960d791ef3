"""The memory a write session may use is what the warehouse resource says: a machine sized
for N concurrent runs relies on each run's DuckDB staying inside these settings."""

from __future__ import annotations

import os

from xero_pipeline.defs.resources import WarehouseResource


def settings(warehouse: WarehouseResource, *, queries: bool = False) -> dict[str, str]:
    names = ("memory_limit", "temp_directory", "preserve_insertion_order", "threads",
             "allocator_bulk_deallocation_flush_threshold")
    with warehouse.get_connection(queries=queries) as conn:
        return {n: str(conn.execute(f"SELECT current_setting('{n}')").fetchone()[0]) for n in names}


def test_a_write_session_runs_inside_the_configured_memory(tmp_path, monkeypatch):
    monkeypatch.delenv("XERO_WAREHOUSE_MEMORY", raising=False)
    monkeypatch.delenv("XERO_WAREHOUSE_QUERY_MEMORY", raising=False)
    db = tmp_path / "xero.duckdb"
    got = settings(WarehouseResource(database=str(db)))
    assert got["memory_limit"] == "152.5 MiB"  # 160MB
    assert got["threads"] == "2"  # what memory_limit is sized for, whatever the machine    assert got["temp_directory"] == f"{db}.tmp"
    assert got["preserve_insertion_order"] == "False"

    settings(WarehouseResource(database=str(db), connection_config={"threads": 1}))  # one session before
    queries = settings(WarehouseResource(database=str(db)), queries=True)
    assert queries["memory_limit"] == "953.6 MiB"  # 1GB
    assert queries["threads"] == str(os.cpu_count())  # not what the session before left

    monkeypatch.setenv("XERO_WAREHOUSE_MEMORY", "512MB")
    assert settings(WarehouseResource(database=str(db)))["memory_limit"] == "488.2 MiB"


def test_connection_config_overrides_the_defaults(tmp_path, monkeypatch):
    monkeypatch.delenv("XERO_WAREHOUSE_MEMORY", raising=False)
    db = tmp_path / "xero.duckdb"
    # The two levers README "Scaling out" gives a machine short of memory.
    lean = {"threads": 1, "allocator_bulk_deallocation_flush_threshold": "4MB", "memory_limit": "300MB"}
    got = settings(WarehouseResource(database=str(db), connection_config=lean))
    assert got["threads"] == "1"
    assert got["allocator_bulk_deallocation_flush_threshold"] == "3.8 MiB"
    assert got["memory_limit"] == "286.1 MiB"
    # The process's one DuckDB instance takes each session's memory_limit afresh.
    assert settings(WarehouseResource(database=str(db)))["memory_limit"] == "152.5 MiB"
    # A session's end hands its memory back by moving DuckDB's thread count and back
    # (host.release_memory): the next session still runs on the one thread asked for.
    assert settings(WarehouseResource(database=str(db), connection_config=lean))["threads"] == "1"
