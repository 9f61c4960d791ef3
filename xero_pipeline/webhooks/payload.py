"""A Xero webhook body, checked against the ``WebhookEvent`` schema of xero-webhooks.yaml."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

EVENT_FIELDS = ("resourceUrl", "resourceId", "eventDateUtc", "eventType", "eventCategory", "tenantId", "tenantType")
EVENT_TYPES = frozenset({"CREATE", "UPDATE"})
# SUBSCRIPTION is the app's App Store subscription (tenantType APPLICATION); PREPAYMENT and
# OVERPAYMENT were added in Aug/Sep 2026. Other categories are accepted and recorded as
# unmapped by the sensor: Xero may add one before we map it, and a 4xx would make it retry.
_CATEGORY = re.compile(r"^[A-Z]{2,40}$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
MAX_SEQUENCE = 2_147_483_647


class PayloadError(ValueError):
    """The body is not a Xero webhook payload; the message names the first problem."""


@dataclass(frozen=True)
class Event:
    tenant_id: str
    tenant_type: str
    category: str
    event_type: str
    resource_id: str
    resource_url: str
    event_date: str  # as Xero sent it (UTC, no offset): part of the event's identity


@dataclass(frozen=True)
class Delivery:
    events: tuple[Event, ...]
    first_sequence: int
    last_sequence: int

    @property
    def intent_to_receive(self) -> bool:
        """Xero's probe: no events and sequence 0, although the schema's minimum is 1."""
        return not self.events


def parse(body: bytes) -> Delivery:
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"body is not JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise PayloadError("body is not a JSON object")
    missing = [k for k in ("events", "firstEventSequence", "lastEventSequence", "entropy") if k not in doc]
    if missing:
        raise PayloadError(f"missing {', '.join(missing)}")
    if not isinstance(doc["events"], list):
        raise PayloadError("events is not an array")
    if not isinstance(doc["entropy"], str):
        raise PayloadError("entropy is not a string")
    first, last = doc["firstEventSequence"], doc["lastEventSequence"]
    low = 0 if not doc["events"] else 1
    for name, value in (("firstEventSequence", first), ("lastEventSequence", last)):
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= MAX_SEQUENCE:
            raise PayloadError(f"{name} is not an integer from {low} to {MAX_SEQUENCE}")
    if first > last:
        raise PayloadError("firstEventSequence is after lastEventSequence")
    return Delivery(tuple(_event(i, e) for i, e in enumerate(doc["events"])), first, last)


def _event(index: int, raw: object) -> Event:
    where = f"events[{index}]"
    if not isinstance(raw, dict):
        raise PayloadError(f"{where} is not an object")
    missing = [k for k in EVENT_FIELDS if k not in raw]
    if missing:
        raise PayloadError(f"{where} misses {', '.join(missing)}")
    bad = [k for k in EVENT_FIELDS if not isinstance(raw[k], str) or not raw[k]]
    if bad:
        raise PayloadError(f"{where}: {', '.join(bad)} must be non-empty strings")
    for k in ("resourceId", "tenantId"):
        if not _UUID.match(raw[k]):
            raise PayloadError(f"{where}.{k} is not a UUID")
    if raw["eventType"] not in EVENT_TYPES:
        raise PayloadError(f"{where}.eventType is {raw['eventType']!r}, not CREATE or UPDATE")
    if not _CATEGORY.match(raw["eventCategory"]):
        raise PayloadError(f"{where}.eventCategory {raw['eventCategory'][:40]!r} is not a category")
    try:
        datetime.fromisoformat(raw["eventDateUtc"])
    except ValueError:
        raise PayloadError(f"{where}.eventDateUtc is not a date-time") from None
    return Event(tenant_id=raw["tenantId"], tenant_type=raw["tenantType"], category=raw["eventCategory"],
                 event_type=raw["eventType"], resource_id=raw["resourceId"],
                 resource_url=raw["resourceUrl"], event_date=raw["eventDateUtc"])
