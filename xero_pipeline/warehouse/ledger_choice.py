"""Which tenants' ledger views read the ledger rebuilt from documents instead of journals.

A tenant's ledger comes from its journals while Xero serves them to this app, and from
the ledger rebuilt from its documents (``rebuilt``) when Xero refuses them
(``pipeline.endpoint_access``), or for every tenant with XERO_LEDGER_SOURCE=documents.

The choice is read when the views are (re)created and written into their SQL as a list
of tenants: a constant the query planner can see, so a warehouse where every tenant has
journals never spends a query on the rebuild. The view assets run in every tenant's sync
run, after its journals, so a refusal met by a sync switches the views in the same run;
``ledger.ledger_source`` says which source each tenant's views read, and notices a
refusal newer than the views.
"""

from __future__ import annotations

from dataclasses import dataclass

from xero_pipeline.warehouse.access import ACCESS
from xero_pipeline.warehouse.connection import Connection
from xero_pipeline.warehouse.names import SCHEMA, in_list
from xero_pipeline.warehouse.sql import load
from xero_pipeline.warehouse.sync_state import STATE
from xero_pipeline.warehouse.tables import table_exists


@dataclass(frozen=True)
class LedgerChoice:
    rebuilt_tenants: tuple[str, ...] = ()  # whose ledger views read the rebuilt ledger
    documents_always: bool = False  # XERO_LEDGER_SOURCE=documents


def read_choice(conn: Connection, *, documents_always: bool = False) -> LedgerChoice:
    """The tenants whose ledger is rebuilt from documents, as the warehouse stands now."""
    journals = table_exists(conn, "journals")
    sql = load("ledger/rebuilt_tenants", access=ACCESS, state=STATE,
               journals=f"{SCHEMA}.journals" if journals else "(SELECT NULL AS tenant_id)")
    tenants = [r[0] for r in conn.execute(sql, [documents_always, documents_always]).fetchall()]
    return LedgerChoice(tuple(tenants), documents_always)


def tenant_in(column: str, choice: LedgerChoice) -> str:
    """Whether ``column``'s tenant reads the rebuilt ledger (``FALSE`` when none does)."""
    return f"{column} IN {in_list(choice.rebuilt_tenants)}" if choice.rebuilt_tenants else "FALSE"


def choice_cte(choice: LedgerChoice) -> str:
    """``ledger_choice``: every tenant, its ledger source ('journals' or 'documents') and why."""
    return load("ledger/choice", xero=SCHEMA, state=STATE, access=ACCESS, rebuilt=tenant_in("t.tenant_id", choice))
