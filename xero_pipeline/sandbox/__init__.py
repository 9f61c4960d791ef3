"""An offline, deterministic fake Xero that the tests, the demo and the benchmarks run against.

``Sandbox`` serves Xero's Accounting API (``/api.xro/2.0/...``), its identity service
(``/connect/token``, ``/connect/revocation``, ``/identity/connect/authorize``,
``/connections``) and the sandbox's own controls (``/_sandbox/...``) on one loopback port::

    with Sandbox(tenants=2, scale=0.02, seed=7) as sb:
        sb.url, sb.client_id, sb.client_secret, sb.refresh_token, sb.tenant_ids
        sb.simulate_day(); sb.inject("503", path="Invoices"); sb.stats(); sb.ground_truth()

Modules: ``app`` (facade), ``command`` (``xero-pipeline sandbox``), ``truth`` (the ground
truth), and by folder:

* ``api/``: ``server`` (HTTP), ``wire`` (request/response values), ``routes`` (routing,
  identity endpoints), ``accounting`` (the API's gates), ``reads`` (collection, single and
  report reads), ``budgets`` (a budget's months), ``query`` (filters, paging), ``where`` + ``compare`` + ``operands``
  (the ``where`` language), ``order`` (the ``order`` language), ``writes`` + ``idempotency``
  (PUT, POST, Idempotency-Key), ``render`` +
  ``render_json`` + ``render_xml`` (variants, JSON, XML), ``limits`` (rate limits, time
  scale), ``faults`` (faults, stats), ``controls`` (``/_sandbox/`` routes), ``history_reads``
  (journals of a generated history).
* ``identity/``: ``service`` (apps, tokens, codes), ``clients`` (client authentication,
  PKCE), ``connections`` (``/connections``),
  ``oauth`` (OAuth values, scopes, JWTs), ``profile`` (``AppProfile``: plan, age, tier).
* ``books/``: ``store`` (the books, clock), ``chart`` (accounts, taxes, rates),
  ``profiles`` (countries), ``parties`` (contacts, items), ``desk`` (the bookkeeper's
  context), ``invoicing``, ``settlement`` (payments, allocations), ``banking`` (spend and
  receive money, transfers, overpayments, prepayments), ``manual_journals``, ``claims``
  (expense claims), ``orders`` (documents that never post), ``ledger`` (journals), ``writes``
  + ``write_documents`` + ``write_values`` (PUT and POST elements),
  ``activity`` (a simulated day), ``edits`` (mutation faults' edits), ``drift`` (fields Xero
  adds later: ``Sandbox.set_field``, ``POST /_sandbox/fields``), ``long_history`` (journals
  generated on demand).
* ``seeding/``: ``tenants`` (``build_tenants``), ``history`` (the history clock), ``org``
  (settings), ``invoices``, ``streams`` (other money), ``orders`` (documents that never post),
  ``large`` (generated journal history for a very large organisation).
* ``reports/``: ``build`` (reports by name), ``balances`` (trial balance, balance sheet),
  ``flows`` (profit and loss, bank summary), ``more`` (executive, budget, aged), ``rows``
  (``ReportWithRow`` building blocks).

Where Xero's documentation is silent, the sandbox assumes the following.

Paging and reads
  * ``pageSize`` above 1000 is clamped to 1000 (Xero's behaviour is undocumented);
    ``page`` < 1 reads page 1; a page past the end is an empty array. ``pageSize``
    without ``page`` does not page.
  * The ``pagination`` object appears only on the nine page+pageSize endpoints and only
    when ``page`` is sent; ``itemCount`` is the number of matching records, ``pageCount``
    is ``ceil(itemCount / pageSize)`` (0 when nothing matches).
  * ``Sandbox(page_size_limit=100)`` serves at most that many rows a page whatever
    ``pageSize`` asks (as Xero did before pageSize existed); ``pagination.pageSize``
    and ``pageCount`` describe the pages actually served.
  * Unpaged multi-record reads of documents with line items send ``"LineItems": []``
    (Xero's SDK maintainers report an empty array, XeroAPI/xero-ruby#9, and the spec
    requires BankTransaction.LineItems) and omit Payments, Allocations, CreditNotes,
    Prepayments and Overpayments; summary totals stay. Paged and single reads are full.
    Multi-record reads of ContactGroups send ``"Contacts": []`` (the spec's example);
    ``GET /ContactGroups/{id}`` lists the members.
  * ``Sandbox(unavailable={"ExpenseClaims": 403, "Journals": 401})`` makes an endpoint
    answer as Xero does to an app or plan without it: 401 ``AuthorizationUnsuccessful``,
    403 ``AuthenticationUnsuccessful`` or a plain-text 404.
  * Without ``order``: IMS endpoints are ordered by their updated field, then primary
    key; journals by JournalNumber; everything else in insertion order. ``order`` sorts
    stably, text case-insensitively and nulls first (SQL Server's defaults).
  * ``If-Modified-Since`` keeps records whose updated field is at or after the header,
    both truncated to the second. Accepted: ISO 8601 with or without fraction and
    offset (naive means UTC), ``Z``, RFC 1123 dates. A malformed value is a 400
    ``ValidationException`` (ErrorNumber 10). Endpoints without IMS ignore the header.
  * ``where`` supports comparisons, AND/OR/NOT, parentheses, ``Guid()``, ``DateTime()``,
    booleans, dotted fields and Contains/StartsWith/EndsWith/ToLower/ToUpper. Field names
    are checked against the spec's schema (case-insensitively); ``*ID`` fields compare
    case-insensitively as GUIDs. Anything else is a 400 ``QueryParseException``
    (ErrorNumber 16; Xero's exact Type strings for query errors are unverified).
    ``where``/``order`` are ignored where the spec does not declare them (Quotes,
    PurchaseOrders, Journals ...), as ASP.NET ignores unknown parameters.
  * ``IDs``, ``Statuses``, ``ContactIDs``, ``InvoiceNumbers`` and ``References`` filter
    wherever the field exists; Quotes, PurchaseOrders and LinkedTransactions also take
    their spec's single-value filters (Status, ContactID, DateFrom, DateTo ...).
  * ``UnitAmount``/``UnitPrice`` are rounded half-up to 2 dp unless the endpoint takes
    ``unitdp`` and ``unitdp=4`` is sent; endpoints without ``unitdp`` (Quotes,
    PurchaseOrders ...) always show 2 dp. The ground truth follows the same rule.
  * ``null`` fields are omitted, as Xero's serializer does. Dates are ``\\/Date(ms+0000)\\/``
    with escaped slashes; the envelope's ``DateTimeUTC`` has no offset and comes from
    the books' clock.
  * Without ``Accept: application/json`` the answer is XML: ``<Response>`` with
    singular element names (``<Invoices><Invoice>``), ISO dates, the same data; a 400
    is an ``<ApiException>``. 401/403 problem bodies are always JSON.
  * Single reads (``/Invoices/{id}``) also accept the document number; unknown ids and
    sub-resources (History, Attachments ...) are a plain-text 404, as is an unknown
    path. A journal read singly drops SourceID/SourceType (Xero's docs). ``GET /Reports``
    lists no published reports. Writes (PUT/POST/DELETE) are a 405: the API is read-only.

Reports and budgets (facts sheet §7)
  * ProfitAndLoss with ``periods`` applies the ``fromDate``..``toDate`` day range to every
    earlier period: each starts ``timeframe`` earlier, covers as many days and never
    reaches into the next period (after a 30-day month each earlier month is its first
    30 days, February all of February; in February every column is 28 days). Each
    column's heading is its last day. BalanceSheet columns are the balances at ``date``
    shifted by ``timeframe``. BankSummary: Opening Balance as at the start of
    ``fromDate``, Cash Received/Spent from ``fromDate`` to ``toDate``, Closing Balance as
    at the end of ``toDate``.
  * ``GET /Budgets`` sends ``"BudgetLines": []``; ``GET /Budgets/{id}`` sends every
    line, with the balances of the months that ``DateFrom``..``DateTo`` touch (default:
    the previous, current and next month by the books' clock; only months holding an
    amount). One date alone means a three-month window from or to it. More than 24
    months, ``DateTo`` before ``DateFrom`` or a malformed date is a 400
    ``ValidationException``. ``DateFrom``/``DateTo`` on ``GET /Budgets`` are ignored.

Identity
  * ``expires_in`` is the access-token lifetime in real seconds (lifetime / time scale,
    at least 1). A refresh token replayed within the grace period returns a fresh pair
    each time; tokens issued meanwhile stay valid. Unused refresh tokens expire after
    60 days. Without ``offline_access`` in the scope no refresh token is issued.
  * ``Sandbox(public_app=True)`` (``xero-pipeline sandbox --public-app``) makes the demo
    app a "Mobile or desktop app" (Auth Code with PKCE): Xero's docs say it gets a client
    id and no secret, and must send ``code_challenge`` (S256) and ``code_verifier``. The
    token and revocation requests of such an app name it by ``client_id`` in the form
    body. Undocumented, assumed strict (RFC 6749 §2.3, RFC 7636): a public app's request
    carrying a Basic header or a ``client_secret``, an authorize request of a public app
    without ``code_challenge`` (redirected with ``error=invalid_request``), and a web
    app's token request without its secret, PKCE or not, are all refused; the token
    endpoint answers ``400 {"error": "invalid_client"}``. Refresh tokens rotate, with the
    same grace period, whichever kind of app holds them.
  * Bad or unknown client credentials are ``400 invalid_client``; an unknown grant type
    ``unsupported_grant_type``; ``client_credentials`` works only for the custom
    connection (else ``unauthorized_client``) and returns no id_token or refresh token.
  * Revoking a refresh token ends its grant and disconnects the app's tenants (Xero:
    "removes all of the user's connections"); unknown tokens are ignored (200).
  * ``Sandbox(practices=("PRACTICE", "PRACTICEMANAGER"))`` adds Xero HQ / Practice
    Manager tenants to the demo app's ``/connections`` with that ``tenantType`` (fact
    sheet §7). What the Accounting API answers for them is undocumented: the sandbox
    answers 403 ``AuthenticationUnsuccessful``, as for a tenant it does not serve.
  * Authorize auto-consents to every organisation of the demo user; a reconnected tenant
    keeps its connection id and ``createdDateUtc`` and gets a new ``updatedDateUtc``
    and ``authEventId``.
  * Scopes: the demo user consents to every granular read scope the registry names
    (``AppProfile.scopes`` narrows that); a write scope or the broad legacy scope also
    satisfies a read. A missing scope is 401 ``AuthorizationUnsuccessful``.
  * Access tokens are JWTs signed HS256 with a key derived from the seed (Xero signs
    RS256; nothing should verify them). Claims, after xero-node's ``XeroAccessToken``
    and xero-php's ``authentication_event_id``: ``nbf``, ``exp`` (nbf + ``expires_in``,
    real seconds), ``iss`` https://identity.xero.com, ``aud``
    https://identity.xero.com/resources, ``client_id``, ``sub`` (the user id without
    dashes), ``auth_time`` (the consent), ``idp``, ``xero_userid``, ``global_session_id``,
    ``jti``, ``authentication_event_id``, ``scope`` (a JSON list, equal to the token
    response's space-separated ``scope``) and ``amr``. Custom-connection tokens carry the
    same claims. Tokens are looked up by value, so revocation and expiry are unchanged.

App profiles (``Sandbox(profile=AppProfile(...))``, ``Sandbox.set_profile``, ``POST /_sandbox/profile``)
  * ``plan``: ``starter`` is 1,000 calls a day per (app, organisation), core, plus,
    advanced (the default) and enterprise 5,000; ``day_limit=`` overrides the plan. Both
    apps (demo and custom connection) are the same developer's, so they share the plan.
  * ``app_created`` on or after 2026-03-02: granular scopes only. Asked-for scopes that
    such an app may not hold (``accounting.classicexpenses(.read)``, the broad
    ``accounting.transactions(.read)`` and ``accounting.reports.read``) are silently left
    out of the grant, so ExpenseClaims and Receipts answer 401 ``AuthorizationUnsuccessful``
    and the token's ``scope`` claim shows what is missing. The custom connection follows
    ``custom_created`` the same way.
  * ``journals=False`` (not on the Advanced tier): ``accounting.journals.read`` is still
    granted, but ``/Journals`` (collection and single) answers the same 401 after the
    tenant check; no call is counted against the limits. Upgrading takes effect at once,
    for tokens already issued too. A custom connection created on or after 2026-04-29 is
    not granted ``accounting.journals.read`` (Xero: its granular scopes "don't include
    journal access") and ``/Journals`` answers 401; the journals tier is about the demo app.
  * ``scopes=[...]`` set at run time is the user consenting again with that set: every
    live grant of the demo app takes it at its next refresh (Xero's behaviour for a
    stored refresh token after a new consent is undocumented); tokens already issued
    keep the claims they were signed with. Changing a creation date applies to tokens
    issued afterwards. The defaults (Advanced, created 2025-06-02) read everything.
  * A scope refusal is counted in ``stats()`` under the tenant the header names.

Rate limits and time
  * Minute and day windows are rolling (``Sandbox(day_window="fixed")``: the day opens at
    a (app, tenant)'s first call and resets 24 h later); only admitted calls count (a 429 costs no
    quota). Checks run day, app-minute, minute, then concurrency; the app-minute problem
    is reported as ``appminute`` (Xero's value is undocumented) and a concurrency 429
    carries ``Retry-After: 1``. Limits apply per (app, tenant); the headers appear on
    every response that resolved a tenant. With ``limits=False`` they show full quota.
  * ``time_scale`` divides every identity and rate-limit duration (token lifetime,
    grace, auth code, windows), ``Retry-After`` (rounded up, at least 1 s) and the
    ``slow`` fault's delay. The books' clock is separate: real time plus ``advance``.
    ``time_scale=1440`` makes Xero's day one real minute: a day-limit 429's Retry-After is
    what is left of that minute, so a week of daily runs takes minutes.

Very large organisations (``Sandbox(history_journals=500_000)``, ``seeding.large``, ``books.long_history``)
  * A tenant gets journals 1..N generated on demand before its seeded ones, which are
    renumbered N+1...: JournalNumber stays gapless and in CreatedDateUTC order. Journal n
    is a pure function of (seed, tenant, n) for a given N: uuid5 ids, CreatedDateUTC in
    equal steps over the five years before the seeded books' first journal (JournalDate
    is its day), a SourceType with a SourceID of its own (no document behind it), 2-4
    lines on the tenant's chart (controls, bank, revenue, expense) with NetAmount =
    GrossAmount to the cent, TaxAmount 0, no tracking, summing to zero.
  * Only the page served is built (offset paging and If-Modified-Since as for stored
    journals; a single read by number is direct, by JournalID a scan of the history).
    Reports add per-day, per-account totals folded once by streaming the amounts (the
    first report of such a tenant pays for it: about 3 s for 500,000 journals).
  * ``ground_truth()`` leaves the history out (it would be hundreds of MB of JSON);
    ``journal_summary(tenant_id)`` (count, first/last number, sum of numbers, lines,
    NetAmount per AccountCode, history included) and ``iter_journals(tenant_id)`` (every
    journal by number, parsed as a client would) cover it. ``change_silently`` never
    deletes an account the history posts to.

Silent changes: ``Sandbox.change_silently()`` makes the changes Xero does not timestamp
(a contact's IsSupplier flag, an invoice's SentToContact, the DueDate of a partly paid
invoice) and deletes an unused account and a user outright, as Xero can. Simulated days
never do this on their own, so incremental syncs of ordinary days stay exact.

Fields Xero adds later
  * ``set_field`` gives a collection's records a field in stored order; ``None`` removes
    it (Xero omits nulls). By default each changed record's UpdatedDateUTC moves, as an
    edit of the value would; ``touch=False`` sends it on unchanged records.

Faults and statistics: see ``faults`` (kinds, ``after_page`` semantics) and ``controls``.
A ``501`` fault answers with an ``ApiException`` JSON body (``Type``
``NotImplementedException``; Xero's ErrorNumber and Type for 501 are unverified, SDKs
read its ``Message``); ``502``/``504`` are a gateway's plain text.

A ``mutate`` fault with ``seconds`` stamps its edits that many seconds before they show:
Xero does not document when in a save UpdatedDateUTC is taken, so a save in flight when a
read starts may carry a stamp earlier than that read's ``DateTimeUTC`` yet not be in it.
Writes (``api.writes``, ``api.idempotency``, ``books.writes``, ``books.write_documents``,
``books.write_values``)
  * ``PUT /{Collection}`` creates, ``POST /{Collection}`` and ``POST /{Collection}/{id}``
    create or update, for the registry's writable objects (``writes=``); anything else
    answers 404, another method 405. They pass the same gates as reads (the write scope,
    the accounting scope without ``.read``; the demo app is granted them) and count against
    the same rate limits.
  * Elements are applied in order, each wholly or not at all, under the tenant's lock,
    through the books code, so journals post and reverse and the trial balance stays
    balanced. ``summarizeErrors`` defaults to false (the spec): 200 with every element's
    ``StatusAttributeString`` and a refused one's ``ValidationErrors``; a refused create
    echoes the element with the all-zero id. With ``summarizeErrors=true`` a refusal makes
    the answer 400 ``ValidationException`` listing the refused elements, and the accepted
    ones are still written (unverified: Xero may write none).
  * Assumed where the sheet is silent: PUT with the id of an existing record is refused
    (PUT only creates); a contact named by ``Name`` alone that does not exist is created;
    documents are created DRAFT unless a Status is given (DRAFT, SUBMITTED, AUTHORISED;
    quotes DRAFT or SENT; manual journals DRAFT or POSTED; spend/receive money only
    AUTHORISED); every line of an invoice, credit note or bank transaction needs an
    AccountCode, and LineAmount/TaxAmount sent are recomputed, never trusted; a payment is
    only deleted (Status DELETED), never edited, and so is spend/receive money (no VOIDED); credit notes are written in the base
    currency; tracking on written lines is ignored. Messages quoted from the spec's
    examples ("Account code '…' has been removed as it does not match a recognised
    account.", "The total debits (…) must equal total credits (…)", "Payment amount
    exceeds the amount outstanding on this document", "Price List Item with Code '…'
    already exists", the contact-name and contact-reference messages, "The document with
    the supplied id was not found for this endpoint.") and "Invoice not of valid status
    for modification" (XeroAPI/Xero-NetStandard#79) are Xero's; the others are the
    sandbox's own wording.
  * ``Idempotency-Key``: per app, at most 128 characters (longer: 400), answers cached 6
    minutes of ``ScaledTime`` from the first call, errors included; the same key with the
    same method, path, query and body replays the first answer byte for byte, with a
    different one it is 400 ``{"ErrorNumber":400,"Type":"BadRequest","Message":"Idempotency
    Key <key> is used with a different request"}`` (the ErrorNumber and Type are
    unverified). A repeat that arrives while the first is being processed waits for it and
    replays it. An injected fault on a write replaces the answer after the write was made:
    a lost answer, which a replay with the key recovers.

Not modelled: ``summaryOnly``, ``searchTerm``, ``DELETE /Items/{id}``,
``createdByMyApp``, ``paymentsOnly`` on journals, Xero's
high-volume 400 rejection and the 404 on very long ``IDs`` lists, Rapid Sync.

Webhooks (``webhooks``; ``Sandbox(webhook_url=, webhook_key=)``, ``subscribe_webhooks`` or
``POST /_sandbox/webhooks``). Assumptions where the fact sheet is silent:
  * Every write to a contact, invoice, credit note, prepayment or overpayment of a
    connected tenant is one event (revision 1 a CREATE, later ones UPDATE), dated by the
    record's UpdatedDateUTC; Xero may merge rapid edits, we never do.
  * Events wait ``batch_seconds`` (1 Xero-second) to travel together, at most 100 a
    delivery; sequences count events per subscription from 1. A retry sends the
    undelivered events again from the oldest, with their numbers (and any queued since,
    up to 100) and a new entropy.
  * Intent to receive is four probes, two signed with the key and two with another,
    in random order; a webhook failing them delivers nothing until probed again.
  * Retries: at once, then every 15 Xero-minutes; 24 Xero-hours after the first failure
    the webhook is disabled, its events kept and delivered in order once it is probed
    again. The 5 s answer timeout is real time, not scaled: it is the receiver's.
"""

from xero_pipeline.sandbox.app import Sandbox
from xero_pipeline.sandbox.command import run_sandbox_command
from xero_pipeline.sandbox.identity.profile import AppProfile

__all__ = ["AppProfile", "Sandbox", "run_sandbox_command"]
