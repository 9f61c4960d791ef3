"""``xero-pipeline webhooks``: the receiver Xero posts its webhook events to.

It serves plain HTTP on loopback by default: Xero requires HTTPS on 443, so a reverse
proxy terminates TLS and forwards ``/webhooks/xero`` here (see the README).
"""

from __future__ import annotations

import argparse
import logging


def add_webhooks_command(sub: argparse._SubParsersAction, command) -> None:
    from xero_pipeline.webhooks.receiver import PATH

    p = command(sub, "webhooks", "receive Xero's webhook events into the event store",
                f" Xero posts to https://YOUR-HOST{PATH} (a reverse proxy forwards it here); each verified event "
                "is stored in $XERO_WEBHOOK_STORE, and the Dagster sensor xero_webhooks syncs what changed. "
                "Needs XERO_WEBHOOK_KEY.")
    p.add_argument("--port", type=int, default=8750, help="port to listen on (default 8750)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: only the reverse proxy reaches it)")
    p.add_argument("--store", help="the event store file (default: $XERO_WEBHOOK_STORE, else "
                                   "data/webhook_events.sqlite3 in the checkout)")
    p.set_defaults(func=cmd_webhooks)


def cmd_webhooks(args: argparse.Namespace) -> int:
    import uvicorn

    from xero_pipeline.errors import ConfigError
    from xero_pipeline.webhooks.receiver import build_app
    from xero_pipeline.webhooks.settings import store_path, webhook_key
    from xero_pipeline.webhooks.store import EventStore

    if not 1 <= args.port <= 65535:
        raise ConfigError(f"--port must be between 1 and 65535, not {args.port}")
    key = webhook_key()
    path = store_path(args.store)
    store = EventStore(path)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    print(f"receiving Xero webhooks on http://{args.host}:{args.port}/webhooks/xero into {path}", flush=True)
    # No Server/Date header games and no cookies: Xero wants a bare 200. The access log would
    # repeat what the receiver logs already.
    uvicorn.run(build_app(key=key, store=store), host=args.host, port=args.port, access_log=False,
                log_level="info", server_header=False)
    return 0
