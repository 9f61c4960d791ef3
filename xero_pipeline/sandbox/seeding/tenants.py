"""Deterministic demo organisations with 18 months of coherent history.

``build_tenants(count=2, scale=1, seed=7, clock=clock)`` builds a NZ and a UK company
(then AU, US, NZ 2, …), each with about ``3000 * scale`` invoices and bills and every
other collection in proportion. The same seed always gives the same records (see
``history`` for how a history is replayed).
"""

from __future__ import annotations

import gc
import random
from datetime import timedelta

from xero_pipeline.sandbox.books.chart import new_id
from xero_pipeline.sandbox.books.profiles import PROFILES
from xero_pipeline.sandbox.books.store import (
    Connection,
    SandboxClock,
    TenantBooks,
)
from xero_pipeline.sandbox.seeding import invoices, orders, streams
from xero_pipeline.sandbox.seeding.history import History


def build_tenants(*, count: int, scale: float, seed: int, clock: SandboxClock) -> list[TenantBooks]:
    """``count`` demo organisations, cycling through the NZ, UK, AU and US profiles."""
    if count < 1 or scale <= 0:
        raise ValueError("count must be >= 1 and scale > 0")
    master = random.Random(seed)
    tenants = []
    # Millions of long-lived small dicts make the cyclic collector rescan the whole heap
    # over and over (quadratic at scale 100); nothing built here needs it. A process that
    # only serves the sandbox should also gc.freeze() afterwards (as run_sandbox_command
    # does), but that is process-wide, so it is not done here where tests share the process.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for i in range(count):
            tenants.append(_build_one(master, i, scale=scale, clock=clock))
    finally:
        if collecting:
            gc.enable()
    return tenants


def _build_one(master: random.Random, i: int, *, scale: float, clock: SandboxClock) -> TenantBooks:
    rng = random.Random(master.getrandbits(64))
    profile = PROFILES[i % len(PROFILES)]
    round_ = i // len(PROFILES)
    name = profile.org_name if round_ == 0 else f"{profile.org_name} {round_ + 1}"
    books = TenantBooks(tenant_id=new_id(rng), name=name, base_currency=profile.currency, clock=clock)
    history = History(books, profile=profile, scale=scale, rng=rng)
    # The order of planning is the order of random draws: changing it changes every record.
    history.begin()
    invoices.plan(history)
    streams.plan_all(history)
    orders.plan_all(history)
    history.replay()
    orders.finish(history)
    history.desk = None  # the desk's clock is the history's bound method: break the cycle
    return books


def connections_for(tenants: list[TenantBooks]) -> list[Connection]:
    """One /connections entry per tenant, all from one consent (one authEventId)."""
    rng = random.Random("connections:" + ",".join(t.tenant_id for t in tenants))
    auth_event = new_id(rng)
    out = []
    for i, t in enumerate(tenants):
        created = t.clock.start - timedelta(days=30) + timedelta(seconds=i)
        out.append(Connection(id=new_id(rng), tenant_id=t.tenant_id, tenant_name=t.name, created=created,
                              updated=created, auth_event_id=auth_event))
    return out
