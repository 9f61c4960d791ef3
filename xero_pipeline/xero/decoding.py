"""A collection page decoded only as far as the client needs: its envelope, and each record
kept as the JSON text Xero sent for it.

Why: parsing every record into dicts of ``Decimal`` cost the client about as much CPU as
the server spent serving it, and most of it was thrown away again by shaping. The
warehouse decodes each record's text straight into typed structs instead
(``warehouse.typed``) and digests that text. The page is still scanned whole here (every
record's text must be complete JSON), so a truncated or malformed 200 body is still a
``ValueError``, which the client retries.

A body the envelope struct refuses although it is JSON (``NaN``, which Python's parser
takes and msgspec does not; a ``pagination`` that is no object; no records array) is
parsed as before, with ``json.loads``: the page then takes the dict path, as every page
did before. Its records are then digested as parsed records (``shaping.record_hash``),
not as text, so they count as changed once whenever they next arrive as text.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

import msgspec


class RawRecords(list[msgspec.Raw]):
    """A page's records, each as the JSON text Xero sent (``msgspec.Raw``, bytes-like)."""


@dataclass
class RawBody:
    """The parts of a collection response the reader uses, records left undecoded."""

    records: RawRecords
    pagination: dict[str, Any] | None
    server_time: str | None  # DateTimeUTC, as sent


def _parsed(content: bytes | msgspec.Raw) -> Any:
    """Today's parse: every number that is not an integer a ``Decimal``, so money never
    passes through a float. Raises ``ValueError`` for anything that is not JSON."""
    return json.loads(bytes(content), parse_float=Decimal)


@cache
def _envelope(envelope: str) -> msgspec.json.Decoder:
    # pagination stays Raw and is parsed as before: its numbers arrive as they always did.
    # Fields the envelope struct does not name (Id, Status, ProviderName) are skipped.
    struct = msgspec.defstruct(
        f"{envelope}Envelope",
        [("records", list[msgspec.Raw] | None, None), ("pagination", msgspec.Raw, msgspec.UNSET),
         ("server_time", str | None, None)],
        rename={"records": envelope, "server_time": "DateTimeUTC"},
    )
    return msgspec.json.Decoder(struct)


def decode_page(content: bytes, *, envelope: str) -> RawBody | Any:
    """``content`` as a ``RawBody``, or, where the envelope struct refuses it, as
    ``json.loads`` parses it (``ValueError`` when it is not JSON at all)."""
    try:
        body = _envelope(envelope).decode(content)
    except msgspec.DecodeError:  # also ValidationError: not this envelope's shape
        return _parsed(content)
    if body.records is None:  # no records array: the reader's error names the body's keys
        return _parsed(content)
    pagination = None if body.pagination is msgspec.UNSET else _parsed(body.pagination)
    if pagination is not None and not isinstance(pagination, dict):
        return _parsed(content)
    return RawBody(RawRecords(body.records), pagination, body.server_time)


def page_decoder(envelope: str) -> Callable[[bytes], RawBody | Any]:
    """``decode_page`` for one envelope, as the client's ``decode``."""
    return lambda content: decode_page(content, envelope=envelope)


class _JournalHead(msgspec.Struct):
    # Any, with Decimal for fractions: whatever Xero sends arrives as json.loads would
    # parse it, and the reader converts it as it always did. Other fields are skipped.
    JournalNumber: Any = msgspec.UNSET
    JournalDate: Any = msgspec.UNSET


_HEAD = msgspec.json.Decoder(_JournalHead, float_hook=Decimal)


def journal_heads(records: RawRecords) -> list[dict[str, Any]]:
    """Each journal's number and date: what paging and the reader read of a journal page.

    Only fields Xero sent are in each dict, as in the record itself."""
    heads = []
    for raw in records:
        try:
            head = _HEAD.decode(raw)
        except msgspec.DecodeError:  # no object: parsed as before, so paging fails on it as before
            heads.append(_parsed(raw))
            continue
        fields = (("JournalNumber", head.JournalNumber), ("JournalDate", head.JournalDate))
        heads.append({name: value for name, value in fields if value is not msgspec.UNSET})
    return heads
