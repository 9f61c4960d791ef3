"""What the books say, straight from the sandbox's ground-truth journals: the yardstick
for report values (a movement is the sum of journal lines between two dates, a balance
the sum up to a date)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from xero_pipeline.xero.dates import parse_date

# Report sections whose rows show credits as positive amounts.
CREDIT_SECTIONS = frozenset({"Income", "Plus Other Income"})


def journal_lines(journals: list[dict]) -> list[tuple[date, str, Decimal]]:
    """(date, account id, net amount) of every journal line."""
    out = []
    for j in journals:
        day = parse_date(j["JournalDate"])
        assert day is not None
        out.extend((day, ln["AccountID"], Decimal(ln["NetAmount"])) for ln in j["JournalLines"])
    return out


def movements(lines: list[tuple[date, str, Decimal]], start: date, end: date) -> dict[str, Decimal]:
    """Net amount per account of the lines dated start..end (both included)."""
    out: dict[str, Decimal] = defaultdict(Decimal)
    for day, account, amount in lines:
        if start <= day <= end:
            out[account] += amount
    return dict(out)


def balances(lines: list[tuple[date, str, Decimal]], at: date) -> dict[str, Decimal]:
    """Balance per account at the end of ``at``."""
    return movements(lines, date.min, at)
