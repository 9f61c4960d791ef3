"""The registry of Xero objects: one declarative entry per accounting endpoint.

Everything that differs between Xero's endpoints lives here and nowhere else: the path,
the JSON envelope key, the primary key, how the endpoint pages, whether it honours
``If-Modified-Since``, which nested arrays become child tables, and how deletes show up.
The asset factory, the sandbox's routes and the tests all iterate over ``OBJECTS``, so
adding an object is one entry here.

Facts encoded below (from Xero's spec and developer docs):

* Only nine endpoints page with ``page``/``pageSize`` and return a ``pagination`` object;
  the page size defaults to 100 and may be raised to 1000. Quotes and LinkedTransactions
  take ``page`` only (always 100 a page, no ``pagination`` object).
* Unpaged multi-record reads of documents omit their line items, so documents with
  line items must be read with ``page`` even when only a few rows exist.
* Journals page by ``offset``: an exclusive lower bound on ``JournalNumber``, at most
  100 journals a response, oldest first. Journals are immutable, so the last
  JournalNumber is a perfect cursor.
* ``If-Modified-Since`` is honoured to the second by the endpoints marked ``ims``.
  BankTransfers have only ``CreatedDateUTC``, so edits and deletes never show up in an
  IMS read and the table is reconciled against a full read instead.
* Archived contacts and tracking categories are hidden unless ``includeArchived=true``;
  deleted bank transfers unless ``includeDeleted=true``. Items, linked transactions,
  tracking options and contact-group membership are hard-deleted with no tombstone.
* Money has 2 decimal places, except unit amounts which have 4 with ``unitdp=4`` on the
  endpoints that take it.
* Multi-record reads of ContactGroups send each group's ``Contacts`` empty (the spec's
  example); only ``GET /ContactGroups/{id}`` lists the members, so they are read singly.
* Employees was removed on 2026-04-28 (spec commit 1e5abee). Classic expense claims and
  receipts are withheld from apps created since 2026; Journals became a premium
  endpoint in March 2026, and custom connections created since 29 April 2026 get no
  journal access. Xero answers those with 401/403/404 for the one endpoint.
"""

from xero_pipeline.registry.kinds import (
    FIXED_PAGE_SIZE,
    MAX_PAGE_SIZE,
    Child,
    Cursor,
    Paging,
    XeroObject,
)
from xero_pipeline.registry.objects import BY_PATH, BY_TABLE, BY_WEBHOOK_CATEGORY, CORE, OBJECTS, RETIRED, WRITABLE
from xero_pipeline.registry.reports import (
    COLUMN_NAMES,
    REPORT_COLUMN_DOCS,
    REPORT_COLUMNS,
    REPORTS,
    REPORTS_BY_NAME,
    XeroReport,
)
from xero_pipeline.registry.writes import MAX_ELEMENTS, MAX_REQUEST_BYTES, Writes, write_scope

__all__ = [
    "BY_PATH", "BY_TABLE", "BY_WEBHOOK_CATEGORY", "COLUMN_NAMES", "CORE", "FIXED_PAGE_SIZE", "MAX_PAGE_SIZE", "OBJECTS", "REPORTS", "REPORTS_BY_NAME",
    "REPORT_COLUMN_DOCS", "REPORT_COLUMNS", "RETIRED", "Child", "Cursor", "Paging", "XeroObject", "XeroReport",
    "MAX_ELEMENTS", "MAX_REQUEST_BYTES", "WRITABLE", "Writes", "write_scope",
]
