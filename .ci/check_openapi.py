"""Development check: every sandbox response validates against Xero's OpenAPI schemas.

Not part of the test suite (it needs the spec and ``jsonschema``, neither of which the
project ships). Starts a seeded sandbox, reads every registry collection for every tenant
(unpaged, paged, with the include/unitdp flags), one single record per collection, every
report, ``/connections`` and a token response, and validates each body against the
schema the spec declares for that operation's 200 response. ``$ref``s are resolved
against the spec; ``x-is-msdate`` fields are strings (the spec types them so).

Also lists fields the sandbox sends that the spec does not declare (a warning: Xero's
SDKs ignore unknown fields, but a typo in the seed shows up here).

    .venv/bin/pip install jsonschema
    .venv/bin/python .ci/check_openapi.py ../shared/xero-openapi/xero_accounting.yaml
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema
import requests
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from xero_pipeline.registry import OBJECTS, REPORTS, Paging  # noqa: E402
from xero_pipeline.sandbox import Sandbox  # noqa: E402

_FORMATS = jsonschema.FormatChecker(formats=["uuid"])


def _nullable(node: Any) -> Any:
    """OpenAPI 3.0 ``nullable: true`` -> JSON Schema's ``type: [t, "null"]``."""
    if isinstance(node, dict):
        node = {k: _nullable(v) for k, v in node.items()}
        if node.pop("nullable", False) and isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
        return node
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    return node


class Spec:
    def __init__(self, path: Path) -> None:
        self.doc = _nullable(yaml.safe_load(path.read_text()))
        self.schemas = self.doc["components"]["schemas"]

    def response_schema(self, path: str) -> dict | None:
        op = self.doc["paths"].get(path, {}).get("get")
        if not op:
            return None
        content = op["responses"]["200"].get("content", {})
        schema = (content.get("application/json") or {}).get("schema")
        return schema

    def validate(self, schema: dict, body: Any) -> list[str]:
        root = {**schema, "components": self.doc["components"]}
        validator = jsonschema.Draft7Validator(root, format_checker=_FORMATS)
        return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:200]}"
                for e in sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))]

    def _resolve(self, schema: dict) -> dict:
        while "$ref" in schema:
            schema = self.schemas[schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    def unknown_fields(self, schema: dict, body: Any, where: str, out: Counter) -> None:
        schema = self._resolve(schema)
        if isinstance(body, dict) and "properties" in schema:
            props = schema["properties"]
            for k, v in body.items():
                if k in props:
                    self.unknown_fields(props[k], v, f"{where}.{k}", out)
                elif not where.count("."):
                    continue  # the envelope's Id/Status/ProviderName/DateTimeUTC are not in the schemas
                else:
                    out[f"{where}.{k}"] += 1
        elif isinstance(body, list) and "items" in schema:
            for item in body:
                self.unknown_fields(schema["items"], item, f"{where}[]", out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", type=Path, help="xero_accounting.yaml")
    parser.add_argument("--identity-spec", type=Path, default=None,
                        help="xero-identity.yaml (default: next to the accounting spec)")
    parser.add_argument("--tenants", type=int, default=2)
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    spec = Spec(args.spec)
    identity = Spec(args.identity_spec or args.spec.with_name("xero-identity.yaml"))

    checked, failures, unknown = 0, [], Counter()
    with Sandbox(tenants=args.tenants, scale=args.scale, seed=args.seed, limits=False) as sb:
        tok = requests.post(f"{sb.url}/connect/token", data={
            "grant_type": "refresh_token", "refresh_token": sb.refresh_token,
            "client_id": sb.client_id, "client_secret": sb.client_secret}).json()
        errs = identity.validate(identity.schemas["AccessToken"], tok)
        failures += [f"POST /connect/token: {e}" for e in errs]
        checked += 1
        session = requests.Session()
        session.headers.update({"Authorization": f"Bearer {tok['access_token']}",
                                "Accept": "application/json"})
        conns = session.get(f"{sb.url}/connections").json()
        failures += [f"GET /connections: {e}" for e in identity.validate(
            {"type": "array", "items": {"$ref": "#/components/schemas/Connection"}}, conns)]
        checked += 1

        def check(tenant: str, path: str, spec_path: str, **params: Any) -> dict | None:
            nonlocal checked
            schema = spec.response_schema(spec_path)
            resp = session.get(f"{sb.api_url}/{path}", params=params, headers={"xero-tenant-id": tenant})
            label = f"{tenant[:8]} GET /{path} {params or ''}"
            if resp.status_code != 200:
                failures.append(f"{label}: HTTP {resp.status_code} {resp.text[:200]}")
                return None
            body = resp.json()
            if schema is None:
                failures.append(f"{label}: no 200 schema for {spec_path} in the spec")
                return body
            checked += 1
            failures.extend(f"{label}: {e}" for e in spec.validate(schema, body))
            spec.unknown_fields(schema, body, spec_path, unknown)
            return body

        for tenant in sb.tenant_ids:
            contact_id = None
            for obj in OBJECTS:
                flags = {p: "true" for p in obj.include_params}
                if obj.unitdp:
                    flags["unitdp"] = "4"
                body = check(tenant, obj.path, f"/{obj.path}")
                check(tenant, obj.path, f"/{obj.path}", **flags)
                if obj.paging in (Paging.PAGE_SIZE, Paging.PAGE_ONLY):
                    check(tenant, obj.path, f"/{obj.path}", page=1, pageSize=100, **flags)
                if obj.paging is Paging.OFFSET:
                    check(tenant, obj.path, f"/{obj.path}", offset=100)
                records = (body or {}).get(obj.envelope) or []
                if obj.path == "Contacts" and records:
                    contact_id = records[0]["ContactID"]
                single = next((p for p in spec.doc["paths"]
                               if re.fullmatch(rf"/{obj.path}/{{[A-Za-z]+}}", p)), None)
                if records and single and obj.path != "Organisation":
                    check(tenant, f"{obj.path}/{records[-1][obj.primary_key]}", single, **flags)
            check(tenant, "Reports", "/Reports")
            for report in REPORTS:
                params = {"contactId": contact_id} if report.per_contact else {}
                check(tenant, f"Reports/{report.name}", f"/Reports/{report.name}", **params)

    print(f"validated {checked} responses against {args.spec.name} "
          f"({len(OBJECTS)} collections, {len(REPORTS)} reports, {args.tenants} tenants)")
    if unknown:
        print(f"fields not declared by the spec ({len(unknown)}):")
        for name, n in unknown.most_common():
            print(f"  {name}  x{n}")
    if failures:
        print(f"{len(failures)} schema violations:")
        for f in failures[:int(__import__("os").environ.get("SHOW", "80"))]:
            print("  " + f)
        return 1
    print("every response validates")
    return 0


if __name__ == "__main__":
    sys.exit(main())
