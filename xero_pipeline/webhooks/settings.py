"""The receiver's settings: the webhook signing key and where the event store lives.

| variable            | meaning                                                  | default                          |
|---------------------|----------------------------------------------------------|----------------------------------|
| XERO_WEBHOOK_KEY    | the webhook's signing key (developer portal, Webhooks)   | required by the receiver         |
| XERO_WEBHOOK_STORE  | the event store, a SQLite file (relative: the checkout)  | data/webhook_events.sqlite3      |
| XERO_WEBHOOK_SILENT_HOURS | health warns when a tenant that sent events sent none for this long | 48 |

The receiver needs both; the Dagster sensor needs only the store (it never sees the key).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

from xero_pipeline.config import CHECKOUT
from xero_pipeline.errors import ConfigError

KEY_VAR = "XERO_WEBHOOK_KEY"
STORE_VAR = "XERO_WEBHOOK_STORE"
DEFAULT_STORE = "data/webhook_events.sqlite3"
SILENT_VAR = "XERO_WEBHOOK_SILENT_HOURS"
DEFAULT_SILENT_HOURS = 48.0


def webhook_key(env: Mapping[str, str] | None = None) -> str:
    key = ((os.environ if env is None else env).get(KEY_VAR) or "").strip()
    if not key:
        raise ConfigError(f"{KEY_VAR} is not set: copy the webhook key from the Xero developer portal "
                          f"(your app > Webhooks) into {KEY_VAR}")
    return key


def store_path(value: str | None = None, env: Mapping[str, str] | None = None) -> Path:
    """The event store's file; a relative path starts at the checkout, as XERO_WAREHOUSE does."""
    raw = (value or (os.environ if env is None else env).get(STORE_VAR) or DEFAULT_STORE).strip()
    path = Path(raw).expanduser()
    if not path.is_absolute():
        path = (CHECKOUT or Path.cwd()) / path
    if path.is_dir():
        raise ConfigError(f"{STORE_VAR} must be a file path, but {path} is a directory")
    return path


def silent_after(env: Mapping[str, str] | None = None) -> timedelta:
    raw = ((os.environ if env is None else env).get(SILENT_VAR) or "").strip()
    try:
        hours = float(raw) if raw else DEFAULT_SILENT_HOURS
    except ValueError:
        hours = -1.0
    if not hours > 0:
        raise ConfigError(f"{SILENT_VAR} must be a number of hours above 0, such as 48, not {raw!r}")
    return timedelta(hours=hours)
