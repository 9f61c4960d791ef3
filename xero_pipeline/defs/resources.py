"""Dagster resources: the Xero API (``xero_resource``) and the DuckDB warehouse
(``warehouse_resource``), importable together from here."""

from xero_pipeline.defs.warehouse_resource import WarehouseResource
from xero_pipeline.defs.xero_resource import XeroResource

__all__ = ["WarehouseResource", "XeroResource"]
