"""What the pipeline may write back to a Xero object, declared next to how it is read.

Xero's rules (fact sheet §5 and §7): ``PUT /{Collection}`` creates, ``POST`` creates or
updates (an element carrying its id updates), both take ``{"<Collection>": [...]}`` with
about 50 elements and 3.5 MB at most a request, and a document is voided or deleted by
updating its status: only AUTHORISED documents can be VOIDED, only DRAFT and SUBMITTED
ones DELETED. Contacts and items have neither: a contact is archived
(``ContactStatus`` ARCHIVED); a payment is removed by setting its Status to DELETED.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_ELEMENTS = 50
MAX_REQUEST_BYTES = 3_500_000


@dataclass(frozen=True)
class Writes:
    """An object's write side: what an outbox row of it may ask Xero to do."""

    create: bool = True
    update: bool = True
    void: bool = False  # an update to Status VOIDED is allowed (AUTHORISED or POSTED ones)
    delete: bool = False  # an update to Status DELETED is allowed (drafts, or a payment)
    max_elements: int = MAX_ELEMENTS  # elements in one request

    def __post_init__(self) -> None:
        if not 1 <= self.max_elements <= MAX_ELEMENTS:
            raise ValueError(f"max_elements must be between 1 and {MAX_ELEMENTS}, not {self.max_elements}")


def write_scope(read_scope: str) -> str:
    """Xero's write scope is the read scope without ``.read`` (accounting.invoices)."""
    return read_scope.removesuffix(".read")
