"""Field kinds of Xero's accounting objects, derived once from Xero's OpenAPI spec.

Xero's JSON does not say which strings are dates or which numbers are money, and
guessing from values goes wrong (a money field that happens to be ``0`` looks like an
integer; ``/Date(...)/`` is a timestamp on ``UpdatedDateUTC`` but a calendar date on
``DueDate``). The official spec marks both (``x-is-msdate``, ``x-is-msdate-time``,
``x-is-money``), so we extract those facts into ``xero_fields.json`` and ship it with
the package: the sandbox renders from it, the warehouse types columns from it, and
the tests need no copy of the spec.

Kinds: ``msdate`` (``/Date(ms+0000)/`` meaning a calendar date), ``msdatetime``
(``/Date(ms+0000)/`` meaning an instant), ``decimal``, ``integer``, ``boolean``,
``string``, ``object:<Schema>``, ``array:<Schema>`` and ``array:<scalar kind>``.

Regenerate after a spec upgrade with::

    python -m xero_pipeline.registry.fields ../shared/xero-openapi/xero_accounting.yaml
"""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path

FIELDS_FILE = Path(__file__).with_name("xero_fields.json")


@cache
def _load() -> dict:
    return json.loads(FIELDS_FILE.read_text())


def field_kinds(schema: str) -> dict[str, str]:
    """Field name -> kind for one spec schema (``Invoice``, ``LineItem`` ...)."""
    try:
        return _load()["schemas"][schema]
    except KeyError:
        raise KeyError(f"no schema {schema!r} in {FIELDS_FILE.name}") from None


def enum_values(schema: str, field: str) -> tuple[str, ...]:
    """Allowed values of an enum field, or () when the spec declares none."""
    return tuple(_load()["enums"].get(f"{schema}.{field}", ()))


def _kind(prop: dict, schemas: dict) -> str:
    if "$ref" in prop:
        ref = prop["$ref"].rsplit("/", 1)[-1]
        target = schemas.get(ref, {})
        # Enums and aliases such as CurrencyCode or LineAmountTypes are $refs to scalars.
        if target.get("type") not in (None, "object") or "enum" in target:
            return _kind({k: v for k, v in target.items() if k != "enum"}, schemas)
        return f"object:{ref}"
    if prop.get("x-is-msdate-time"):
        return "msdatetime"
    if prop.get("x-is-msdate"):
        return "msdate"
    kind = prop.get("type", "string")
    if kind == "number":
        return "decimal"
    if kind == "array":
        items = prop.get("items", {})
        inner = _kind(items, schemas)
        return inner if inner.startswith("array:") else f"array:{inner.removeprefix('object:')}"
    if kind in ("integer", "boolean", "string"):
        return kind
    return "string"


def build_from_spec(spec_path: str | Path) -> dict:
    import yaml  # only needed when regenerating; PyYAML comes with dagster

    spec = yaml.safe_load(Path(spec_path).read_text())
    schemas = spec["components"]["schemas"]
    out: dict = {"source": f"{Path(spec_path).name} v{spec['info']['version']}", "schemas": {}, "enums": {}}
    for name, schema in sorted(schemas.items()):
        props = schema.get("properties")
        if not props:
            continue
        out["schemas"][name] = {field: _kind(prop, schemas) for field, prop in props.items()}
        for field, prop in props.items():
            enum = prop.get("enum") or schemas.get(prop.get("$ref", "#").rsplit("/", 1)[-1], {}).get("enum")
            if enum:
                out["enums"][f"{name}.{field}"] = [str(v) for v in enum]
    return out


if __name__ == "__main__":
    FIELDS_FILE.write_text(json.dumps(build_from_spec(sys.argv[1]), indent=1, sort_keys=True) + "\n")
    print(f"wrote {FIELDS_FILE}")
