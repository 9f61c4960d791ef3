"""The names every Dagster definition shares: asset keys, groups, kinds and metadata keys."""

from __future__ import annotations

import dagster as dg

GROUP = "xero"
KINDS = {"xero", "duckdb"}
ITEM_COUNT_KEY = "xero/item_count"  # pagination.itemCount of the sync's first page
ITEM_COUNT_SINCE_KEY = "xero/item_count_since"  # the If-Modified-Since it counted from ("" = all)
READ_STARTED_KEY = "xero/read_started"  # Xero's clock at that first page
DAY_LIMIT_KEY = "day_limit"  # the plan's daily calls per tenant, from the Xero resource
LAST_WEBHOOK_KEY = "xero/last_webhook_at"  # when the object's latest webhook event arrived (observation)


def asset_key(table: str) -> dg.AssetKey:
    """``xero/<table>``: the asset of one warehouse table."""
    return dg.AssetKey([GROUP, table])
