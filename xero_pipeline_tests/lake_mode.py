"""``XERO_TEST_WAREHOUSE=ducklake``: the existing suites against a DuckLake warehouse.

Every warehouse file a test names (``<tmp>/xero.duckdb``) becomes a DuckLake of its own:
a fresh database on the worker's throw-away PostgreSQL for its catalog, ``<file>.lake/``
for its data. The pipeline's one way in (``connection.as_target``, ``WarehouseResource.target``)
and the tests' own ``duckdb.connect(<file>)`` are redirected, so the same tests, merges,
views and checks run on DuckLake. Tests about the file itself (its lock, WAL, the DuckDB
CLI opening it) and tests that copy, delete or restore the file have nothing to redirect
and fail: that is expected. A subprocess given ``XERO_WAREHOUSE=<file>`` (the CLI, the
crash and kill tests) gets the lake's real settings instead.
Run once (sync, warehouse, defs), the others pass but ``test_views``' ageing as of a date
(``ledger.*_ageing_at`` is a macro, which DuckLake lacks; README).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import psycopg

from xero_pipeline.config import Lake
from xero_pipeline.defs.resources import WarehouseResource
from xero_pipeline.warehouse import connection

ENV = "XERO_TEST_WAREHOUSE"


def wanted() -> bool:
    value = os.environ.get(ENV, "").strip().lower()
    if value not in ("", "file", "ducklake"):
        raise ValueError(f"{ENV} must be file (the default) or ducklake, not {value!r}")
    return value == "ducklake"


def lake_url(server_url: str, name: str) -> str:
    """A libpq DSN for database ``name`` on the server of ``server_url`` (postgresql://user@host:port/db)."""
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def create_lake(server_url: str, file: str | Path) -> Lake:
    """A fresh DuckLake for ``file`` on the server, its data beside where the file would be."""
    name = "lake_" + hashlib.sha1(os.path.realpath(file).encode()).hexdigest()[:16]
    with psycopg.connect(server_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    data = Path(f"{file}.lake")
    data.mkdir(parents=True, exist_ok=True)
    return Lake(catalog=f"postgres:{lake_url(server_url, name)}", data_path=str(data))


@contextmanager
def redirected(server_url: str) -> Iterator[None]:
    """Every ``*.duckdb`` warehouse opened while inside is a DuckLake on ``server_url``."""
    lakes: dict[str, Lake] = {}

    def lake_of(where: Any) -> Any:
        if isinstance(where, Path | str) and str(where).endswith(".duckdb"):
            key = os.path.realpath(where)
            if key not in lakes:
                lakes[key] = create_lake(server_url, where)
            return lakes[key]
        return where

    as_target, target, path, connect = (connection.as_target, WarehouseResource.target, WarehouseResource.path,
                                        duckdb.connect)

    def connect_lake(database: Any = ":memory:", read_only: bool = False, config: dict | None = None, **kw: Any):
        found = lake_of(database)
        if isinstance(found, Lake):
            return connection.open_warehouse(found, read_only=read_only, config=config)
        return connect(database, read_only=read_only, config=config or {}, **kw)

    popen = subprocess.Popen

    class LakePopen(popen):  # the CLI in a subprocess: the same lake through the real settings
        def __init__(self, *args: Any, env: dict[str, str] | None = None, **kwargs: Any) -> None:
            file = (env or {}).get("XERO_WAREHOUSE", "")
            if file.endswith(".duckdb"):
                found = lake_of(file)
                env = {**env, "XERO_WAREHOUSE": f"ducklake:{found.catalog}", "XERO_WAREHOUSE_DATA": found.data_path}
            super().__init__(*args, env=env, **kwargs)

    subprocess.Popen = LakePopen
    connection.as_target = lambda where: lake_of(as_target(where))
    WarehouseResource.target = lambda self: lake_of(target(self))
    # Tests open ``warehouse.path()`` themselves: the file's name, which as_target maps to its lake.
    WarehouseResource.path = lambda self: str(target(self))
    duckdb.connect = connect_lake
    try:
        yield
    finally:
        connection.as_target, WarehouseResource.target, duckdb.connect = as_target, target, connect
        WarehouseResource.path = path
        subprocess.Popen = popen
