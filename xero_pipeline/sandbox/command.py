"""``xero-pipeline sandbox`` (and ``python -m xero_pipeline.sandbox``): serve the fake Xero until stopped."""

from __future__ import annotations

import argparse
import gc
import json
import shlex
import signal
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

from xero_pipeline.sandbox.app import Sandbox
from xero_pipeline.sandbox.identity.profile import PLAN_DAY_LIMITS, AppProfile

# The sandbox's organisations when nothing says otherwise; `xero-pipeline demo` and `dev` use the same.
DEFAULT_TENANTS = 2
DEFAULT_SCALE = 0.2
DEFAULT_SEED = 7


def add_world_arguments(parser: argparse.ArgumentParser) -> None:
    """--tenants, --scale and --seed: which made-up organisations (also for `demo` and `dev`)."""
    parser.add_argument("--tenants", type=int, default=DEFAULT_TENANTS,
                        help=f"how many sandbox organisations (default {DEFAULT_TENANTS})")
    parser.add_argument("--scale", type=float, default=DEFAULT_SCALE,
                        help=f"size of each organisation's books; 1 is about 3,000 invoices (default {DEFAULT_SCALE})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help=f"seed of the made-up books: the same seed makes the same data (default {DEFAULT_SEED})")


def export_lines(sandbox: Sandbox, *, token_store: str) -> list[str]:
    """``export XERO_...=...`` lines that point ``xero-pipeline sync`` (and ``auth``) at ``sandbox``.

    The token store is the sandbox's own file: its tokens must never overwrite a real
    app's store. A time-scaled sandbox also shortens the client's rate-limit minute, and a
    public app (no secret) unsets XERO_CLIENT_SECRET.
    """
    env = sandbox.pipeline_env(token_store=token_store)
    if sandbox.time.scale != 1:
        env["XERO_RATE_WINDOW_SECONDS"] = f"{60 / sandbox.time.scale:g}"
    lines = [f"export {name}={shlex.quote(value)}" for name, value in env.items()]
    # A real Web app's secret left in the shell would make the sandbox refuse its PKCE app.
    return lines if "XERO_CLIENT_SECRET" in env else ["unset XERO_CLIENT_SECRET", *lines]


def run_sandbox_command(argv: Sequence[str] | None = None) -> int:
    """``xero-pipeline sandbox``: serve until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(prog="xero-pipeline sandbox", description="Serve the offline fake Xero.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    add_world_arguments(parser)
    parser.add_argument("--time-scale", type=float, default=1.0, help="60 turns Xero's minute into a second")
    parser.add_argument("--plan", choices=list(PLAN_DAY_LIMITS), default="advanced",
                        help="the app's Xero plan: starter allows 1,000 calls a day per organisation, the others 5,000")
    parser.add_argument("--day-limit", type=int, default=None, help="overrides the plan's daily limit")
    parser.add_argument("--app-minute-limit", type=int, default=None, metavar="N",
                        help="the app's calls a minute over all organisations (Xero's: 10,000)")
    parser.add_argument("--app-created", default=None, metavar="YYYY-MM-DD",
                        help="apps created since 2026-03-02 get granular scopes only (no ExpenseClaims/Receipts)")
    parser.add_argument("--no-journals", action="store_true",
                        help="the app lacks the Advanced tier: /Journals answers 401 AuthorizationUnsuccessful")
    parser.add_argument("--custom-created", default=None, metavar="YYYY-MM-DD",
                        help="custom connections created since 2026-04-29 get no journal access")
    parser.add_argument("--history-journals", type=int, default=0, metavar="N",
                        help="N generated journals of history before each organisation's own (a large organisation)")
    parser.add_argument("--day-window", choices=("rolling", "fixed"), default="rolling",
                        help="Xero's day: rolling 24 h, or fixed from each organisation's first call")
    parser.add_argument("--no-limits", action="store_true", help="switch rate limits off")
    parser.add_argument("--public-app", action="store_true",
                        help='the app is a "Mobile or desktop app" (Auth Code with PKCE): a client id, no client secret')
    parser.add_argument("--token-store", metavar="PATH", default=None,
                        help="XERO_TOKEN_STORE in the printed export lines "
                             "(default: xero-sandbox-PORT-tokens.json in the temporary folder)")
    parser.add_argument("--json", action="store_true", help="print the connection details as one JSON line")
    args = parser.parse_args(argv)
    settings = {"plan": args.plan, "journals": not args.no_journals}
    settings |= {k: v for k, v in (("app_created", args.app_created), ("custom_created", args.custom_created)) if v}
    try:
        profile = AppProfile.from_mapping(settings)
    except ValueError as e:
        parser.error(str(e))

    sandbox = Sandbox(tenants=args.tenants, scale=args.scale, seed=args.seed, time_scale=args.time_scale,
                      limits=not args.no_limits, day_limit=args.day_limit, host=args.host, port=args.port,
                      profile=profile, history_journals=args.history_journals, day_window=args.day_window,
                      public_app=args.public_app)
    if args.app_minute_limit is not None:
        sandbox.limiter.app_minute_limit = args.app_minute_limit
    # This process only serves: move the seeded books out of the cyclic collector's reach,
    # or each full collection rescans millions of records (seconds at scale 100).
    gc.freeze()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    sandbox.start()
    info = sandbox.info()
    if args.json:
        print(json.dumps(info), flush=True)
    else:
        port = sandbox.url.rsplit(":", 1)[1]
        store = args.token_store or str(Path(tempfile.gettempdir()) / f"xero-sandbox-{port}-tokens.json")
        print("# Paste these lines into a shell: `xero-pipeline sync` there reads this sandbox, not Xero.")
        print("# (Set XERO_WAREHOUSE too, to keep the sandbox's organisations out of your warehouse.)")
        print("\n".join(export_lines(sandbox, token_store=store)))
        print()
        print(f"Xero sandbox at {sandbox.url}  (API {sandbox.api_url}, identity {sandbox.identity_url})")
        print(f"  client id:      {sandbox.client_id}")
        print(f"  client secret:  {sandbox.client_secret or 'none (a Mobile or desktop app: PKCE)'}")
        print(f"  refresh token:  {sandbox.refresh_token}")
        print(f"  custom connection (client_credentials): {sandbox.custom_client_id}"
              f" / {sandbox.custom_client_secret}")
        p = sandbox.profile
        print(f"  app profile:    plan {p.plan} ({sandbox.limiter.day_limit:,} calls a day per organisation),"
              f" created {p.app_created}, journals {'yes' if p.journals else 'no (not on the Advanced tier)'},"
              f" custom connection created {p.custom_created}")
        for t in info["tenants"]:
            print(f"  tenant {t['tenant_id']}  {t['name']}")
        print("Controls under /_sandbox/ (see xero_pipeline/sandbox/api/controls.py). Ctrl-C stops.", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(run_sandbox_command())
