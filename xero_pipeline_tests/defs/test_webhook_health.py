"""Health warns when a tenant that sends webhook events falls silent (its webhook may be disabled)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from xero_pipeline.defs.health_rules import TenantFacts, assess
from xero_pipeline.defs.tenant_records import gather_facts
from xero_pipeline.defs.webhook_sensor import last_event_observation
from xero_pipeline.errors import ConfigError
from xero_pipeline.webhooks.settings import silent_after

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
SYNCED = {"xero/invoices": NOW - timedelta(hours=1)}


def test_a_subscribed_tenant_silent_for_longer_than_allowed_warns_and_says_what_to_check():
    quiet = assess(TenantFacts("t", synced=SYNCED, last_webhook_at=NOW - timedelta(hours=50)), now=NOW)
    [concern] = quiet.concerns
    assert concern.code == "webhooks_silent" and not concern.error
    assert "no Xero webhook event for 50 h" in concern.text and "developer portal" in concern.text
    recent = TenantFacts("t", synced=SYNCED, last_webhook_at=NOW - timedelta(hours=3))
    assert assess(recent, now=NOW).passed
    assert not assess(recent, now=NOW, webhook_silent_after=timedelta(hours=2)).passed  # configurable
    # A tenant that never sent an event is not subscribed: no warning.
    assert assess(TenantFacts("t", synced=SYNCED), now=NOW).passed


def test_the_silence_allowed_comes_from_the_environment_and_bad_values_name_the_fix():
    assert silent_after({}) == timedelta(hours=48)
    assert silent_after({"XERO_WEBHOOK_SILENT_HOURS": "6"}) == timedelta(hours=6)
    for bad in ("soon", "0", "-3"):
        with pytest.raises(ConfigError, match="XERO_WEBHOOK_SILENT_HOURS must be a number of hours above 0"):
            silent_after({"XERO_WEBHOOK_SILENT_HOURS": bad})


def test_the_last_event_the_sensor_records_is_the_fact_health_reads():
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("xero_tenant", ["t"])
        for table, at in (("invoices", "2026-12-05T09:00:00.000+00:00"), ("contacts", "2026-12-05T10:30:00.000+00:00")):
            instance.report_runless_asset_event(last_event_observation("t", table, at))
        assert gather_facts(instance, "t").last_webhook_at == datetime(2026, 12, 5, 10, 30, tzinfo=UTC)
        assert gather_facts(instance, "other").last_webhook_at is None
