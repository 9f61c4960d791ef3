"""What the Dagster instance recorded for one tenant's partition of an asset.

The one place that reads a partition's latest materialization: the asset steps take
their cursor from it, the checks read what the sync counted.
"""

from __future__ import annotations

from typing import Any

import dagster as dg

CURSOR_KEY = "xero/cursor"  # the sync's cursor, shown in the UI beside the other metadata


def latest_metadata(instance: dg.DagsterInstance, key: dg.AssetKey, partition: str) -> dict[str, Any]:
    """The plain values of the latest materialization of ``key`` for ``partition`` ({} if none)."""
    # get_latest_materialization_event ignores partitions; this filter does not.
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition]), limit=1
    ).records
    materialization = records[0].asset_materialization if records else None
    if materialization is None:
        return {}
    return {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}


def stored_cursor(instance: dg.DagsterInstance, key: dg.AssetKey, partition: str) -> str | None:
    """The cursor recorded by the latest materialization of this tenant's partition."""
    raw = latest_metadata(instance, key, partition).get(CURSOR_KEY)
    return str(raw) if raw not in (None, "") else None
