"""Several tenants synced at once in one process, as one of many processes of one app.

    python -m benchmarks.app_limit_worker --tenants A,B,... --warehouse FILE --objects a,b --out FILE
        [--threads 12] [--page-size 10]

The XERO_* settings come from the environment; every worker of a bench shares one token
store, so one app-wide window (``xero.app_limit``) beside it. Without Dagster: the figure
is about the limiter shared by processes, and a Dagster run per tenant would only add
its own CPU.
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from xero_pipeline.defs.resources import WarehouseResource, XeroResource
from xero_pipeline.registry import BY_TABLE
from xero_pipeline.sync.objects import sync_object


def run(*, tenants: list[str], warehouse: str, objects: list[str], threads: int, page_size: int) -> dict[str, Any]:
    xero = XeroResource(page_size=page_size)
    client = xero.get_client()
    store = WarehouseResource(database=warehouse)
    errors: dict[str, str] = {}

    def one(tenant: str) -> None:
        for table in objects:
            try:
                sync_object(BY_TABLE[table], client=client, tenant_id=tenant, connect=store.get_connection,
                            cursor=None, page_size=page_size)
            except Exception as exc:  # noqa: BLE001 - a benchmark reports failures, it does not stop at one
                errors[f"{tenant}/{table}"] = f"{type(exc).__name__}: {exc}"

    started = time.monotonic()
    client.connections()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(one, tenants))
    return {"tenants": len(tenants), "wall_seconds": time.monotonic() - started, "calls": client.stats.calls,
            "rate_limited": client.stats.rate_limited, "errors": errors,
            "app_waited_seconds": client._app.waited_seconds if client._app else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", required=True)
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--objects", required=True)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--threads", type=int, default=12)
    parser.add_argument("--page-size", type=int, default=10)
    args = parser.parse_args(argv)
    result = run(tenants=args.tenants.split(","), warehouse=args.warehouse, objects=args.objects.split(","),
                 threads=args.threads, page_size=args.page_size)
    args.out.write_text(json.dumps(result))
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
