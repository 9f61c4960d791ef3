"""What kind of Xero app the sandbox is: its plan, its age, the scopes it asks for, its journals tier.

Since March 2026 Xero apps differ (fact sheet §2, §3, §7):

* the developer's plan sets the daily limit per organisation: 1,000 on Starter, 5,000 on
  Core, Plus, Advanced and Enterprise;
* an app created on or after 2 March 2026 is granted granular scopes only: the classic
  ``accounting.classicexpenses`` scopes (ExpenseClaims, Receipts) and the broad legacy
  scopes are not grantable, so asking for them grants nothing;
* ``/Journals`` needs the Advanced tier (and its security assessment): without it the
  scope may be granted yet the endpoint answers 401 ``AuthorizationUnsuccessful``;
* a custom connection created on or after 29 April 2026 gets no journal access.

The profile is one immutable value; ``Sandbox.set_profile`` swaps it at run time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from xero_pipeline.sandbox.identity.oauth import DEFAULT_SCOPES, App

PLAN_DAY_LIMITS: dict[str, int] = {"starter": 1_000, "core": 5_000, "plus": 5_000, "advanced": 5_000,
                                   "enterprise": 5_000}
GRANULAR_ONLY_SINCE = date(2026, 3, 2)
CUSTOM_NO_JOURNALS_SINCE = date(2026, 4, 29)
JOURNALS_SCOPE = "accounting.journals.read"
# Not grantable to an app created since GRANULAR_ONLY_SINCE.
_CLASSIC_SCOPES = frozenset({"accounting.classicexpenses", "accounting.classicexpenses.read",
                             "accounting.transactions", "accounting.transactions.read",
                             "accounting.reports.read"})
_BEFORE_2026 = date(2025, 6, 2)


def _as_date(name: str, value: Any) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"{name} must be a date like 2026-06-01, not {value!r}") from None


@dataclass(frozen=True)
class AppProfile:
    """The demo app's plan, creation date and journals tier; the custom connection's age;
    the scopes the user consents to (``None``: every scope the sandbox knows).

    The defaults describe an app from before 2026 on the Advanced tier, which reads
    everything at 5,000 calls a day: the sandbox's behaviour before profiles existed.
    """

    plan: str = "advanced"
    app_created: date = _BEFORE_2026
    journals: bool = True
    custom_created: date = _BEFORE_2026
    scopes: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        plan = str(self.plan).strip().lower()
        if plan not in PLAN_DAY_LIMITS:
            raise ValueError(f"plan must be one of {', '.join(PLAN_DAY_LIMITS)}, not {self.plan!r}")
        object.__setattr__(self, "plan", plan)
        object.__setattr__(self, "app_created", _as_date("app_created", self.app_created))
        object.__setattr__(self, "custom_created", _as_date("custom_created", self.custom_created))
        if not isinstance(self.journals, bool):
            raise ValueError(f"journals must be true or false, not {self.journals!r}")
        if self.scopes is not None:
            raw = self.scopes.split() if isinstance(self.scopes, str) else self.scopes
            object.__setattr__(self, "scopes", tuple(dict.fromkeys(str(s) for s in raw)))

    @property
    def day_limit(self) -> int:
        return PLAN_DAY_LIMITS[self.plan]

    @property
    def consent(self) -> str:
        """The scope string the demo user consents to."""
        return " ".join(self.scopes if self.scopes is not None else DEFAULT_SCOPES)

    def created(self, app: App) -> date:
        return self.custom_created if app.custom else self.app_created

    def granted(self, app: App, requested: str) -> str:
        """The part of ``requested`` Xero grants this app, in the order asked."""
        refused: set[str] = set()
        if self.created(app) >= GRANULAR_ONLY_SINCE:
            refused |= _CLASSIC_SCOPES
        if app.custom and self.custom_created >= CUSTOM_NO_JOURNALS_SINCE:
            # Xero: custom connections created since then get granular scopes "which
            # don't include journal access".
            refused.add(JOURNALS_SCOPE)
        return " ".join(s for s in requested.split() if s not in refused)

    def journal_access(self, app: App) -> bool:
        """Whether ``/Journals`` serves this app even when its scope is granted."""
        if app.custom:
            return self.custom_created < CUSTOM_NO_JOURNALS_SINCE
        return self.journals

    def changed(self, **changes: Any) -> AppProfile:
        """A copy with ``changes`` (unknown names are an error naming the known ones)."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"unknown profile setting {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return dataclasses.replace(self, **changes)

    def describe(self) -> dict[str, Any]:
        return {"plan": self.plan, "day_limit": self.day_limit, "app_created": self.app_created.isoformat(),
                "journals": self.journals, "custom_created": self.custom_created.isoformat(),
                "scopes": list(self.scopes) if self.scopes is not None else None}

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], base: AppProfile | None = None) -> AppProfile:
        """A profile from JSON-ish values (the ``/_sandbox/profile`` control, the command's flags)."""
        changes = dict(values)
        scopes = changes.get("scopes")
        if scopes is not None and not isinstance(scopes, str):
            changes["scopes"] = tuple(_strings(scopes))
        return (base or cls()).changed(**changes)


def _strings(values: Iterable[Any]) -> list[str]:
    return [str(v) for v in values]
