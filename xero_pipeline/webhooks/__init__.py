"""Xero webhooks received: signature, payload, the durable event store and the HTTP receiver.

No Dagster and no DuckDB here: the receiver must answer Xero within 5 s whatever the
warehouse is doing, so it only verifies, validates and appends to its own SQLite file.
The sensor in ``defs.webhook_sensor`` reads that file and requests the runs.
"""
