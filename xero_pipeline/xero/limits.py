"""Xero's rate limits, by plan (fact sheet §2 and §7).

Per organisation: 60 calls a rolling minute, 5 at once, and a daily allowance that
depends on the app's 2026 pricing plan (1,000 on Starter, 5,000 on the others). Per
app: 10,000 calls a minute across all its organisations.
"""

from __future__ import annotations

MINUTE_CALLS = 60
CONCURRENT_CALLS = 5
APP_MINUTE_CALLS = 10_000
DAILY_CALLS_BY_PLAN = {"starter": 1_000, "core": 5_000, "plus": 5_000, "advanced": 5_000, "enterprise": 5_000}
DEFAULT_DAILY_CALLS = 5_000
