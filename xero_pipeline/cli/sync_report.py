"""What one ``xero-pipeline sync`` did, summed over its tenants (and its child processes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class AssetOutcome:
    tenant_id: str
    table: str
    metadata: dict[str, Any]


@dataclass
class SyncReport:
    materialized: int = 0  # every run's materializations, this process's and its children's
    # This process's object and report materializations, with their metadata.
    outcomes: list[AssetOutcome] = field(default_factory=list)
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # tenant, step, message
    # Objects and reports Xero does not serve to this app: not failures (tenant, table, reason).
    unavailable: list[tuple[str, str, str]] = field(default_factory=list)
    # Objects whose read the day's calls cut short: committed so far, not failed.
    catching_up: list[tuple[str, str]] = field(default_factory=list)  # tenant, table

    @property
    def ok(self) -> bool:
        return not self.failures

    def add_failure(self, tenant: str, step: str, message: str, *, echo: Callable[[str], None]) -> None:
        self.failures.append((tenant, step, message))
        echo(f"  FAILED {step}: {message}")

    def summary(self) -> str:
        text = f"{self.materialized} materialization(s), {len(self.failures)} failure(s)"
        if self.unavailable:
            # Not failures: Xero withholds these from the app (a scope or tier it lacks).
            text += f", {len(self.unavailable)} not available to this app"
        return text

    def as_event(self) -> dict[str, Any]:
        """The report as a child process passes it up (``parallel``)."""
        return {"event": "report", "materialized": self.materialized, "failures": self.failures,
                "unavailable": self.unavailable, "catching_up": self.catching_up}

    def absorb(self, event: dict[str, Any]) -> None:
        """Add a child's report (``as_event``) to this one."""
        self.materialized += int(event.get("materialized") or 0)
        self.failures += [tuple(f) for f in event.get("failures") or []]
        self.unavailable += [tuple(u) for u in event.get("unavailable") or []]
        self.catching_up += [tuple(c) for c in event.get("catching_up") or []]
