"""Xero's own descriptions of its fields, from the OpenAPI specs, shipped with the package.

``xero_descriptions.json`` maps schema -> Xero field name -> description (the same keys
as ``xero_fields.json``); the warehouse's column docs and the UI's column schemas read
it, and the tests need no copy of the spec. ``build_descriptions`` regenerates it.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

DESCRIPTIONS_FILE = Path(__file__).with_name("xero_descriptions.json")


@cache
def _load() -> dict[str, dict[str, str]]:
    return json.loads(DESCRIPTIONS_FILE.read_text(encoding="utf-8"))["schemas"]


def field_descriptions(schema: str) -> dict[str, str]:
    """Xero field name -> Xero's description, for one spec schema ({} when it has none)."""
    return _load().get(schema, {})
