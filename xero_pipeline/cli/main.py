"""``xero-pipeline``: sync, query, demo, the Dagster UI and the sandbox from one command."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from xero_pipeline.errors import XeroPipelineError

if TYPE_CHECKING:
    from xero_pipeline.cli.interrupts import SignalWatch

EXAMPLE_SQL = """\
-- Who owes us the most (open sales invoices, per organisation)?
SELECT o.name AS organisation, i.contact->>'Name' AS customer, sum(i.amount_due) AS owed
FROM xero.invoices i JOIN xero.organisations o USING (tenant_id)
WHERE i.type = 'ACCREC' AND i.status = 'AUTHORISED'
GROUP BY ALL ORDER BY owed DESC LIMIT 5;

-- Does every journal balance?
SELECT tenant_id, journal_id, sum(net_amount) AS off_by
FROM xero.journal_lines GROUP BY ALL HAVING sum(net_amount) <> 0;"""


def _resources(args: argparse.Namespace):
    from xero_pipeline.defs.resources import WarehouseResource, XeroResource

    xero = XeroResource()
    xero.settings()  # checks the configuration before any work starts
    return xero, WarehouseResource(database=getattr(args, "warehouse", None) or "")


def cmd_sync(args: argparse.Namespace) -> int:
    from xero_pipeline.cli.interrupts import SignalWatch, SyncInterrupted

    # From the first line: a Ctrl-C while Dagster loads is as clean as one mid-sync.
    with SignalWatch() as signals:
        try:
            return _sync(args, signals)
        except KeyboardInterrupt as exc:
            if not isinstance(exc, SyncInterrupted):
                exc = SyncInterrupted(where=None, signum=signals.received())
            print(exc, file=sys.stderr, flush=True)
            return 130


def _sync(args: argparse.Namespace, signals: SignalWatch) -> int:
    import dagster as dg

    from xero_pipeline.cli.runner import (
        ensure_dagster_home,
        select_objects,
        sync_tenants,
    )

    objects = select_objects(args.select)
    xero, warehouse = _resources(args)
    ensure_dagster_home()
    with dg.DagsterInstance.get() as instance:
        report = sync_tenants(instance=instance, xero=xero, warehouse=warehouse, tenant_ids=args.tenant or None,
                              objects=objects, signals=signals)
    print(f"{len(report.outcomes)} materialization(s), {len(report.failures)} failure(s)")
    return 0 if report.ok else 1


def cmd_tenants(args: argparse.Namespace) -> int:
    xero, _ = _resources(args)
    connected = xero.get_client().organisations()
    for c in connected.every:
        print(connected.describe(c))
    return 0


def cmd_auth(args: argparse.Namespace) -> int:
    from xero_pipeline.xero.oauth_flow import (
        authorize_url_from_env,
        open_in_browser,
        run_auth,
    )

    xero, _ = _resources(args)
    run_auth(
        settings=xero.settings(), authorize_url=authorize_url_from_env(), port=args.port,
        open_browser=None if args.no_browser else open_in_browser, timeout_seconds=args.timeout,
        echo=lambda line: print(line, flush=True),
    )
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    from xero_pipeline.warehouse.read import run_query

    print(run_query(args.query, path=args.warehouse))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from xero_pipeline.cli.demo import run_demo

    return run_demo(tenants=args.tenants, scale=args.scale, seed=args.seed, warehouse=args.warehouse)


def cmd_dev(args: argparse.Namespace) -> int:
    from xero_pipeline.cli.demo import sandbox_environment
    from xero_pipeline.cli.runner import ensure_dagster_home

    ensure_dagster_home()
    with sandbox_environment(tenants=args.tenants, scale=args.scale, seed=args.seed) as env:
        print("Dagster UI on http://127.0.0.1:3000 (Ctrl-C to stop)")
        root = Path(__file__).resolve().parents[2]
        proc = subprocess.Popen(
            [sys.executable, "-m", "dagster", "dev", "-w", str(root / "workspace.yaml"), "-h", "127.0.0.1", "-p", "3000"],
            env={**os.environ, **env},
            start_new_session=True,  # its own process group, so we can stop all of it
        )
        # `dagster dev` shuts down cleanly on SIGINT but may ignore SIGTERM; a SIGTERM to
        # us must not orphan it (and its webserver, daemon and code servers).
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            return proc.wait()
        except KeyboardInterrupt:
            return _stop_group(proc)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _stop_group(proc: subprocess.Popen) -> int:
    for sig, grace in ((signal.SIGINT, 20), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            return proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
    return proc.wait()


def cmd_sandbox(argv: Sequence[str]) -> int:
    from xero_pipeline.sandbox.command import run_sandbox_command

    return run_sandbox_command(list(argv))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xero-pipeline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("sync", help="sync connected tenants into the warehouse through Dagster")
    p.add_argument("--tenant", action="append", help="a tenant id (repeatable); default: every connected tenant")
    p.add_argument("--select", help="tables to sync, e.g. 'invoices,contacts' or 'credit*'; default: all")
    p.add_argument("--warehouse", help="DuckDB file (default $XERO_WAREHOUSE or data/xero.duckdb)")
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("auth", help="authorise the app in a browser (OAuth 2.0 + PKCE) and save its tokens")
    p.add_argument("--port", type=int, default=8749,
                   help="localhost port of the redirect URI http://localhost:PORT/callback (default 8749)")
    p.add_argument("--no-browser", action="store_true", help="only print the consent URL")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the redirect")
    p.set_defaults(func=cmd_auth)

    p = sub.add_parser("tenants", help="list the organisations connected to the app")
    p.set_defaults(func=cmd_tenants)

    p = sub.add_parser("sql", help="run a read-only query against the warehouse")
    p.add_argument("query")
    p.add_argument("--warehouse", help="DuckDB file (default $XERO_WAREHOUSE or data/xero.duckdb)")
    p.set_defaults(func=cmd_sql)

    for name, helptext, func in (
        ("demo", "start the sandbox, sync every tenant through Dagster, print a summary", cmd_demo),
        ("dev", "open the Dagster UI against a local sandbox", cmd_dev),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--tenants", type=int, default=2)
        p.add_argument("--scale", type=float, default=0.2, help="1 is about 3,000 invoices per tenant")
        p.add_argument("--seed", type=int, default=7)
        if name == "demo":
            p.add_argument("--warehouse", default="data/xero.duckdb")
        p.set_defaults(func=func)

    sub.add_parser("sandbox", help="serve the offline Xero sandbox (see `xero-pipeline sandbox --help`)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "sandbox":
        return cmd_sandbox(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except XeroPipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
