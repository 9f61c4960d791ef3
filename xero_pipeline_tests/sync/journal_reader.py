"""``python -m xero_pipeline_tests.sync.journal_reader``: one journals sync, for kill tests.

It imports no Dagster, so it starts in a fraction of a second and a test can kill many
of them during one long read. Settings come from the environment the test sets
(``pipeline_env`` of the sandbox, XERO_WAREHOUSE) plus CHECKPOINT_PAGES. It prints
"reading" once it has its token, and "done" with the result when the read completes.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

from xero_pipeline.config import xero_settings
from xero_pipeline.registry import BY_TABLE
from xero_pipeline.sync.objects import sync_object
from xero_pipeline.warehouse.connection import open_warehouse
from xero_pipeline.xero.auth import TokenManager, TokenStore
from xero_pipeline.xero.client import XeroClient
from xero_pipeline.xero.throttle import TenantThrottle


def main() -> None:
    s = xero_settings(dict(os.environ))
    tokens = TokenManager(client_id=s.client_id, client_secret=s.client_secret, refresh_token=s.refresh_token,
                          identity_url=s.identity_url, store=TokenStore(s.token_store))
    client = XeroClient(api_url=s.api_url, tokens=tokens,
                        throttle_factory=lambda: TenantThrottle(per_window=10_000, window_seconds=1.0))
    tenant = client.organisations().tenant_ids[0]
    tokens.access_token()
    print("reading", flush=True)

    @contextmanager
    def connect():
        conn = open_warehouse(os.environ["XERO_WAREHOUSE"])
        try:
            yield conn
        finally:
            conn.close()

    result = sync_object(BY_TABLE["journals"], client=client, tenant_id=tenant, connect=connect, cursor=None,
                         checkpoint_pages=int(os.environ["CHECKPOINT_PAGES"]))
    print(f"done {result.cursor} {result.pages} pages", flush=True)


if __name__ == "__main__":
    main()
