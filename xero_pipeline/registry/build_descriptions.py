"""Regenerate ``xero_descriptions.json`` from Xero's OpenAPI specs (run after a spec upgrade)::

    python -m xero_pipeline.registry.build_descriptions ../shared/xero-openapi/xero_accounting.yaml \
        ../shared/xero-openapi/xero-identity.yaml

Keeps, per schema, each property's ``description``; a property that is only a ``$ref``
(``Invoice.Contact``, ``Invoice.Status``) takes the description of the schema it points
to, when that schema has one. Whitespace is collapsed, so the file stays small and diffs
stay readable.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from xero_pipeline.registry.descriptions import DESCRIPTIONS_FILE


def _text(raw: object) -> str:
    return " ".join(str(raw or "").split())


def descriptions_of(spec: dict) -> dict[str, dict[str, str]]:
    """Schema -> field -> description for one parsed spec (fields without one are left out)."""
    schemas = spec.get("components", {}).get("schemas", {})
    out: dict[str, dict[str, str]] = {}
    for name, schema in sorted(schemas.items()):
        found = {}
        for field, prop in (schema.get("properties") or {}).items():
            text = _text(prop.get("description"))
            if not text and "$ref" in prop:
                text = _text(schemas.get(prop["$ref"].rsplit("/", 1)[-1], {}).get("description"))
            if text:
                found[field] = text
        if found:
            out[name] = found
    return out


def build(spec_paths: list[str]) -> dict:
    import yaml  # only needed when regenerating; PyYAML comes with dagster

    out: dict = {"sources": [], "schemas": {}}
    for path in spec_paths:
        spec = yaml.safe_load(Path(path).read_text())
        out["sources"].append(f"{Path(path).name} v{spec['info']['version']}")
        for name, fields in descriptions_of(spec).items():
            if name in out["schemas"]:
                raise SystemExit(f"schema {name} is described by two specs; keep one")
            out["schemas"][name] = fields
    return out


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    DESCRIPTIONS_FILE.write_text(json.dumps(build(argv), indent=0, sort_keys=True, ensure_ascii=False) + "\n")
    print(f"wrote {DESCRIPTIONS_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
