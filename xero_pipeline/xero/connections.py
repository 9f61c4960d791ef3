"""Which ``/connections`` entries are organisations this pipeline syncs.

``GET /connections`` also lists the Xero HQ (``PRACTICE``) and Practice Manager
(``PRACTICEMANAGER``) tenants the user connected; the Accounting API serves only
``ORGANISATION`` tenants and refuses the others. Every caller (the tenant sensor, the
``xero/tenants`` asset, the daily schedule, ``xero-pipeline tenants``/``sync``/``auth``)
splits the answer here, so a tenant that is not an organisation never becomes a
partition or a run, and is reported with the reason instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

ORGANISATION = "ORGANISATION"


def tenant_type(entry: Mapping[str, Any]) -> str:
    # An entry without a type predates tenantType, when every connection was an organisation.
    return str(entry.get("tenantType") or ORGANISATION).upper()


def skip_reason(entry: Mapping[str, Any]) -> str:
    return (f"skipped: a {tenant_type(entry)} tenant, not an {ORGANISATION}; Xero's accounting API "
            "serves only organisations")


@dataclass(frozen=True)
class Connected:
    """``/connections`` split into the organisations to sync and the tenants skipped."""

    organisations: list[dict[str, Any]]
    skipped: list[dict[str, Any]]

    @property
    def tenant_ids(self) -> list[str]:
        return [c["tenantId"] for c in self.organisations]

    @property
    def names(self) -> dict[str, str]:
        return {c["tenantId"]: c.get("tenantName") or "" for c in self.organisations}

    @property
    def every(self) -> list[dict[str, Any]]:
        """Every entry, organisations first (the ``xero.tenants`` table keeps them all)."""
        return [*self.organisations, *self.skipped]

    def describe(self, entry: Mapping[str, Any]) -> str:
        """One line per entry: id, type, name, and why it is skipped when it is."""
        line = f"{entry['tenantId']}  {tenant_type(entry)}  {entry.get('tenantName') or ''}"
        return line if tenant_type(entry) == ORGANISATION else f"{line}  ({skip_reason(entry)})"

    def notes(self, among: Iterable[str] | None = None) -> list[str]:
        """What to tell a person about the skipped tenants (those of ``among`` only, if given)."""
        wanted = None if among is None else set(among)
        return [f"tenant {c['tenantId']} ({c.get('tenantName') or ''}): {skip_reason(c)}"
                for c in self.skipped if wanted is None or c["tenantId"] in wanted]


def split_connections(entries: Iterable[Mapping[str, Any]]) -> Connected:
    organisations, skipped = [], []
    for entry in entries:
        (organisations if tenant_type(entry) == ORGANISATION else skipped).append(dict(entry))
    return Connected(organisations, skipped)
