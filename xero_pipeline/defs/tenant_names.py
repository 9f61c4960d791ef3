"""Organisation names beside tenant ids, wherever Dagster shows a tenant.

The partition key is the tenant id, because it never changes; people know their
organisations by name. Every run the schedule, the tenant sensor and ``xero-pipeline
sync`` start carries the name in the ``xero/tenant_name`` tag (filterable on the Runs
page), read from the same ``/connections`` answer that chose the tenant. A step takes
the name from that tag; a run started another way (the UI's Materialize, a backfill)
asks ``/connections`` once for the whole run (``XeroResource.tenant_names``).

A name is cosmetic: when it cannot be had, the id alone is shown and nothing fails.
"""

from __future__ import annotations

import dagster as dg

from xero_pipeline.defs.resources import XeroResource

TENANT_TAG = "xero/tenant"
TENANT_NAME_TAG = "xero/tenant_name"
NAME_KEY = "tenant_name"  # materialization and check metadata
# Dagster refuses tag values over 255 characters; Xero allows longer organisation names.
_TAG_LIMIT = 255


def tenant_tags(tenant: str, name: str | None) -> dict[str, str]:
    """The tags of a tenant's run: its id and, when known, its organisation's name."""
    tags = {TENANT_TAG: tenant}
    if name:
        tags[TENANT_NAME_TAG] = name[:_TAG_LIMIT]
    return tags


def tenant_label(tenant: str, name: str | None) -> str:
    """``tenant Demo Company (NZ) (<id>)``, or ``tenant <id>`` when the name is not known."""
    return f"tenant {name} ({tenant})" if name else f"tenant {tenant}"


def tenant_name(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext, xero: XeroResource) -> str:
    """The organisation name of the step's tenant partition ("" when Xero cannot say)."""
    tags = context.run.tags
    if tags.get(TENANT_TAG) == context.partition_key and tags.get(TENANT_NAME_TAG):
        return tags[TENANT_NAME_TAG]
    return xero.tenant_names().get(context.partition_key, "")


def name_metadata(name: str) -> dict[str, dg.MetadataValue]:
    return {NAME_KEY: dg.MetadataValue.text(name)} if name else {}


def named_check(result: dg.AssetCheckResult, tenant: str, name: str) -> dg.AssetCheckResult:
    """A check result whose text says which organisation it judged.

    The rules (``warehouse.check_rules``) know tenants by id only and open every text with
    ``tenant <id>``; the name arrives with the run, so it is put beside the id here."""
    if not name:
        return result
    description = (result.description or "").replace(f"tenant {tenant}", tenant_label(tenant, name), 1)
    return dg.AssetCheckResult(asset_key=result.asset_key, check_name=result.check_name, passed=result.passed,
                               severity=result.severity, description=description,
                               metadata={**result.metadata, **name_metadata(name)})
