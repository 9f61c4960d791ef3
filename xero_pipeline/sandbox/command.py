"""``xero-pipeline sandbox`` (and ``python -m xero_pipeline.sandbox``): serve the fake Xero until stopped."""

from __future__ import annotations

import argparse
import gc
import json
import signal
import sys
import threading
from collections.abc import Sequence

from xero_pipeline.sandbox.api.limits import DAY_LIMIT
from xero_pipeline.sandbox.app import Sandbox


def run_sandbox_command(argv: Sequence[str] | None = None) -> int:
    """``xero-pipeline sandbox``: serve until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(prog="xero-pipeline sandbox", description="Serve the offline fake Xero.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--tenants", type=int, default=2)
    parser.add_argument("--scale", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--time-scale", type=float, default=1.0, help="60 turns Xero's minute into a second")
    parser.add_argument("--day-limit", type=int, default=DAY_LIMIT, help="1000 for the Starter plan")
    parser.add_argument("--no-limits", action="store_true", help="switch rate limits off")
    parser.add_argument("--json", action="store_true", help="print the connection details as one JSON line")
    args = parser.parse_args(argv)

    sandbox = Sandbox(tenants=args.tenants, scale=args.scale, seed=args.seed, time_scale=args.time_scale,
                      limits=not args.no_limits, day_limit=args.day_limit, host=args.host, port=args.port)
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
