"""``xero-pipeline``: sync, query, demo, the Dagster UI and the sandbox from one command."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from xero_pipeline.cli.sql_output import FORMATS
from xero_pipeline.cli.sync_command import cmd_sync, pipeline_resources
from xero_pipeline.cli.webhooks_command import add_webhooks_command
from xero_pipeline.errors import XeroPipelineError

EXAMPLE_SQL = """\
-- Who owes us the most (open sales invoices, per organisation)?
SELECT o.name AS organisation, i.contact->>'Name' AS customer, sum(i.amount_due) AS owed
FROM xero.invoices i JOIN xero.organisations o USING (tenant_id)
WHERE i.type = 'ACCREC' AND i.status = 'AUTHORISED'
GROUP BY ALL ORDER BY owed DESC LIMIT 5;

-- Does every journal balance?
SELECT tenant_id, journal_id, sum(net_amount) AS off_by
FROM xero.journal_lines GROUP BY ALL HAVING sum(net_amount) <> 0;"""


def cmd_push(args: argparse.Namespace) -> int:
    from xero_pipeline.cli.push import push_tenants, select_writable
    from xero_pipeline.cli.runner import cli_instance

    try:
        objects = select_writable(args.object)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    xero, warehouse = pipeline_resources(args)
    with cli_instance() as instance:
        reports, synced = push_tenants(instance=instance, xero=xero, warehouse=warehouse, tenant_id=args.tenant,
                                       objects=objects, refresh=not args.no_refresh)
    stopped = any(r.stopped for r in reports)
    print(f"{sum(sum(r.outcomes.values()) for r in reports)} row(s) settled; outcomes in writeback.results")
    return 1 if stopped or (synced is not None and not synced.ok) else 0


def cmd_tenants(args: argparse.Namespace) -> int:
    xero, _ = pipeline_resources(args)
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

    xero, _ = pipeline_resources(args)
    run_auth(
        settings=xero.settings(), authorize_url=authorize_url_from_env(), port=args.port,
        open_browser=None if args.no_browser else open_in_browser, timeout_seconds=args.timeout,
        echo=lambda line: print(line, flush=True),
    )
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    from xero_pipeline.cli.sql_output import print_query
    from xero_pipeline.errors import ConfigError

    if args.max_rows < 0:
        raise ConfigError(f"--max-rows must be 0 or more, not {args.max_rows}")
    try:
        print_query(args.query, path=args.warehouse, fmt=args.format, max_rows=args.max_rows,
                    out=sys.stdout, err=sys.stderr)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader (`| head`) has had enough. Stop as a Unix filter does, and point stdout
        # at /dev/null so the flush at exit cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from xero_pipeline.cli.demo import run_demo

    return run_demo(tenants=args.tenants, scale=args.scale, seed=args.seed, warehouse=args.warehouse)


def cmd_dev(args: argparse.Namespace) -> int:
    from xero_pipeline.cli.demo import sandbox_environment
    from xero_pipeline.cli.runner import ensure_dagster_home

    # Before anything starts: `dagster dev` whose webserver cannot bind still starts its
    # daemon and code server, and leaves them running with no UI.
    _require_free_port(DEV_HOST, args.port)
    home = ensure_dagster_home()
    with sandbox_environment(tenants=args.tenants, scale=args.scale, seed=args.seed) as env:
        print(f"Dagster UI on http://{DEV_HOST}:{args.port} (Ctrl-C to stop)")
        root = Path(__file__).resolve().parents[2]
        proc = subprocess.Popen(
            [sys.executable, "-m", "dagster", "dev", "-w", str(root / "workspace.yaml"), "-h", DEV_HOST,
             "-p", str(args.port)],
            env={**os.environ, **env},
            # From the instance's folder: started in the checkout, dagster dev warns that the
            # project's dagster.yaml there "will not be used" (ensure_dagster_home copied it).
            cwd=home,
            start_new_session=True,  # its own process group, so we can stop all of it
        )
        # `dagster dev` shuts down cleanly on SIGINT but may ignore SIGTERM; a SIGTERM to
        # us must not orphan it (and its webserver, daemon and code servers).
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            return proc.wait()
        except KeyboardInterrupt:
            return _stop_group(proc)


def _require_free_port(host: str, port: int) -> None:
    from xero_pipeline.errors import ConfigError

    if not 1 <= port <= 65535:
        raise ConfigError(f"--port must be between 1 and 65535, not {port}")
    with socket.socket() as probe:
        # As the webserver binds: a port left in TIME_WAIT is free, one with a listener is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigError(
                f"port {port} on {host} is already in use ({exc.strerror}), perhaps by another `xero-pipeline dev`; "
                f"stop it, or choose another port with `xero-pipeline dev --port N`. Nothing was started."
            ) from None


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


DEV_HOST = "127.0.0.1"
DEV_PORT = 3000

WAREHOUSE_HELP = ("the DuckDB file (default: $XERO_WAREHOUSE, else data/warehouse.duckdb; "
                  "a relative XERO_WAREHOUSE starts at the checkout, a relative --warehouse here), "
                  "or ducklake:postgres:<DSN> with $XERO_WAREHOUSE_DATA")


def _command(sub: argparse._SubParsersAction, name: str, helptext: str, more: str = "") -> argparse.ArgumentParser:
    """A subcommand whose own --help starts with what it does."""
    return sub.add_parser(name, help=helptext, description=helptext[0].upper() + helptext[1:] + "." + more)


def build_parser() -> argparse.ArgumentParser:
    from xero_pipeline.sandbox.command import add_world_arguments

    parser = argparse.ArgumentParser(prog="xero-pipeline", description=(__doc__ or "").replace("``", ""))
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                help="what to do; `xero-pipeline COMMAND --help` tells more")

    p = _command(sub, "sync", "sync connected tenants into the warehouse through Dagster")
    p.add_argument("--tenant", action="append", help="a tenant id (repeatable); default: every connected tenant")
    p.add_argument("--select", help="tables to sync, e.g. 'invoices,contacts' or 'credit*'; default: all")
    p.add_argument("--warehouse", help=WAREHOUSE_HELP)
    p.add_argument("--parallel", type=int, metavar="N",
                   help="tenants synced at once, each in its own process (default: every tenant, up to 4 a CPU "
                        "core and 1 a GiB of memory); 1 syncs them one after the other in this process")
    # A tenant's process started by a parallel sync: the parent's session, and where progress goes.
    p.add_argument("--child-of", help=argparse.SUPPRESS)
    p.add_argument("--progress-fd", type=int, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_sync)

    p = _command(sub, "push", "send the outboxes' pending rows (writeback.<object>) to Xero",
                 " Each row gets one outcome in writeback.results (written, with the record's Xero id, or "
                 "invalid, with Xero's validation errors); the objects written are then synced again.")
    p.add_argument("--tenant", help="only this tenant's rows; default: every tenant's")
    p.add_argument("--object", action="append",
                   help="an outbox to push, e.g. invoices (repeatable); default: every writable object")
    p.add_argument("--no-refresh", action="store_true", help="do not sync the written objects afterwards")
    p.add_argument("--warehouse", help=WAREHOUSE_HELP)
    p.set_defaults(func=cmd_push)

    p = _command(sub, "auth", "authorise the app in a browser (OAuth 2.0 + PKCE) and save its tokens",
                 " A Web app needs XERO_CLIENT_ID and XERO_CLIENT_SECRET; a Mobile or desktop app, which has no "
                 "client secret, XERO_CLIENT_ID alone.")
    p.add_argument("--port", type=int, default=8749,
                   help="localhost port of the redirect URI http://localhost:PORT/callback (default 8749)")
    p.add_argument("--no-browser", action="store_true", help="only print the consent URL")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the redirect (default 300)")
    p.set_defaults(func=cmd_auth)

    p = _command(sub, "tenants", "list the organisations connected to the app",
                 " One line each: tenant id, type and name, as Xero's /connections returns them.")
    p.set_defaults(func=cmd_tenants)

    p = _command(sub, "sql", "run a read-only query against the warehouse",
                 " Tables are in the schema xero (xero.invoices, ...), views in ledger. Several statements "
                 "separated by ';' run in order; table and markdown show each one's result.")
    p.add_argument("query", help='SQL to run, e.g. "SELECT count(*) FROM xero.invoices" (quote it for the shell)')
    p.add_argument("--format", choices=FORMATS, default="table",
                   help="table (default), csv, json or markdown. NULL prints as NULL in a table or markdown, as "
                        "an empty field in csv and as null in json; csv and json print every row of the last "
                        "statement's result")
    p.add_argument("--max-rows", type=int, default=200, metavar="N",
                   help="rows a table or markdown result shows (default 200); csv and json show every row")
    p.add_argument("--warehouse", help=WAREHOUSE_HELP)
    p.set_defaults(func=cmd_sql)

    for name, helptext, func in (
        ("demo", "start the sandbox, sync every tenant through Dagster, print a summary", cmd_demo),
        ("dev", "open the Dagster UI against a local sandbox", cmd_dev),
    ):
        p = _command(sub, name, helptext, " The sandbox is an offline fake Xero on loopback; no account needed.")
        add_world_arguments(p)
        if name == "dev":
            p.add_argument("--port", type=int, default=DEV_PORT,
                           help=f"port of the Dagster UI on {DEV_HOST} (default {DEV_PORT})")
        if name == "demo":
            p.add_argument("--warehouse", help="the DuckDB file to fill, replaced when the sandbox changes "
                                               "(default data/warehouse.duckdb in the checkout)")
        p.set_defaults(func=func)

    add_webhooks_command(sub, _command)
    _command(sub, "sandbox", "serve the offline Xero sandbox", " Its options: `xero-pipeline sandbox --help`.")
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
