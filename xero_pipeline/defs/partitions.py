"""Tenants as partitions: one partition per connected Xero organisation (its tenant id)."""

from __future__ import annotations

import dagster as dg

TENANT_PARTITIONS_NAME = "xero_tenant"

# Dynamic, because organisations connect and disconnect at runtime: the CLI and the
# tenant sensor add keys from Xero's /connections.
tenant_partitions = dg.DynamicPartitionsDefinition(name=TENANT_PARTITIONS_NAME)
