"""Xero's date formats, parsed and produced in one place.

Xero sends instants and calendar dates in the same Microsoft JSON form,
``/Date(1539993600000+0000)/``: milliseconds since the epoch with an optional offset.
The offset is informational (the milliseconds are already UTC), so it is ignored.
A few fields are ISO strings instead (``UpdatedDateUTCString``, Budgets'
``UpdatedDateUTC``), and ``/connections`` uses ISO with seven fractional digits and no
``Z``. Everything here returns timezone-aware UTC datetimes or plain dates.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{2,4})?\)/$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FRACTION = re.compile(r"\.(\d+)")


def is_ms_date(value: object) -> bool:
    return isinstance(value, str) and value.startswith("/Date(") and bool(_MS_DATE.match(value))


def parse_instant(value: str | None) -> datetime | None:
    """``/Date(ms+0000)/`` or an ISO string to an aware UTC datetime."""
    if value is None or value == "":
        return None
    m = _MS_DATE.match(value)
    if m:
        # timedelta keeps millisecond precision exactly, unlike fromtimestamp(float).
        return _EPOCH + timedelta(milliseconds=int(m.group(1)))
    return parse_iso(value)


def parse_date(value: str | None) -> date | None:
    """A Xero calendar date (``x-is-msdate``: midnight UTC) to a ``date``."""
    instant = parse_instant(value)
    return None if instant is None else instant.date()


def parse_iso(value: str) -> datetime:
    """ISO 8601 with any number of fractional digits; a naive value means UTC."""
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    # Python accepts at most 6 fractional digits; /connections sends 7.
    text = _FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], text, count=1)
    if len(text) == 7 and text[4] == "-":  # Budgets' "2019-08" periods
        text += "-01"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def to_ms_date(value: datetime | date) -> str:
    """The inverse of ``parse_instant``: what Xero would send for this value."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    ms = (value - _EPOCH) // timedelta(milliseconds=1)
    return f"/Date({ms}+0000)/"


def ims_header(value: datetime) -> str:
    """If-Modified-Since as Xero documents it: UTC ``yyyy-MM-ddTHH:mm:ss``.

    Xero compares to the second, so sub-second digits would only invite
    disagreement about rounding.
    """
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
