"""``xero-pipeline sandbox`` (and ``python -m xero_pipeline.sandbox``): serve the fake Xero until stopped."""

from __future__ import annotations

import argparse
import gc
import json
import signal
import sys
import threading
from collections.abc import Sequence

from xero_pipeline.sandbox.app import Sandbox
from xero_pipeline.sandbox.identity.profile import PLAN_DAY_LIMITS, AppProfile


def run_sandbox_command(argv: Sequence[str] | None = None) -> int:
    """``xero-pipeline sandbox``: serve until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(prog="xero-pipeline sandbox", description="Serve the offline fake Xero.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--tenants", type=int, default=2)
    parser.add_argument("--scale", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--time-scale", type=float, default=1.0, help="60 turns Xero's minute into a second")
    parser.add_argument("--plan", choices=list(PLAN_DAY_LIMITS), default="advanced",
                        help="the app's Xero plan: starter allows 1,000 calls a day per organisation, the others 5,000")
    parser.add_argument("--day-limit", type=int, default=None, help="overrides the plan's daily limit")
    parser.add_argument("--app-created", default=None, metavar="YYYY-MM-DD",
                        help="apps created since 2026-03-02 get granular scopes only (no ExpenseClaims/Receipts)")
    parser.add_argument("--no-journals", action="store_true",
                        help="the app lacks the Advanced tier: /Journals answers 401 AuthorizationUnsuccessful")
    parser.add_argument("--custom-created", default=None, metavar="YYYY-MM-DD",
                        help="custom connections created since 2026-04-29 get no journal access")
    parser.add_argument("--history-journals", type=int, default=0, metavar="N",
                        help="N generated journals of history before each organisation's own (a large organisation)")
    parser.add_argument("--no-limits", action="store_true", help="switch rate limits off")
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
                      profile=profile, history_journals=args.history_journals)
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
        print(f"Xero sandbox at {sandbox.url}  (API {sandbox.api_url}, identity {sandbox.identity_url})")
        print(f"  client id:      {sandbox.client_id}")
        print(f"  client secret:  {sandbox.client_secret}")
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
