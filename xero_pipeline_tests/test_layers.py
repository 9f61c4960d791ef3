"""The layers stay layers: each folder imports only what sits below it.

Xero client -> sync -> warehouse -> Dagster definitions -> CLI, with the registry under
all of them and the sandbox beside them. An import that crosses a layer the wrong way
(the client reaching into DuckDB, the warehouse calling Xero, Dagster leaking into the
pure layers, the sandbox using the pipeline it is meant to test) fails here, naming the
file, the line and the rule. Imports inside functions count too.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

from xero_pipeline_tests import ROOT

PACKAGE = "xero_pipeline"
DAGSTER = ("dagster", "dagster_duckdb", "dagster_webserver", "dagster_postgres")

# folder (or module) -> import prefixes it must not use, and why.
RULES: dict[str, tuple[tuple[str, ...], str]] = {
    "registry": ((f"{PACKAGE}.xero", f"{PACKAGE}.warehouse", f"{PACKAGE}.sync", f"{PACKAGE}.defs",
                  f"{PACKAGE}.cli", f"{PACKAGE}.sandbox", "duckdb", "requests", *DAGSTER),
                 "the registry describes Xero; every layer reads it, it reads none"),
    "xero": ((f"{PACKAGE}.warehouse", f"{PACKAGE}.sync", f"{PACKAGE}.defs", f"{PACKAGE}.cli",
              f"{PACKAGE}.sandbox", "duckdb", *DAGSTER),
             "the Xero client knows nothing of DuckDB or Dagster"),
    "warehouse": ((f"{PACKAGE}.xero.client", f"{PACKAGE}.xero.auth", f"{PACKAGE}.xero.oauth_flow",
                   f"{PACKAGE}.xero.token_store", f"{PACKAGE}.xero.throttle", f"{PACKAGE}.xero.reports",
                   f"{PACKAGE}.sync", f"{PACKAGE}.defs", f"{PACKAGE}.cli", f"{PACKAGE}.sandbox",
                   "requests", *DAGSTER),
                  "the warehouse is DuckDB only: no HTTP (Xero's date formats are allowed), no Dagster"),
    "sync": ((f"{PACKAGE}.defs", f"{PACKAGE}.cli", f"{PACKAGE}.sandbox", *DAGSTER),
             "sync joins the Xero client and the warehouse, below Dagster"),
    "defs": ((f"{PACKAGE}.cli", f"{PACKAGE}.sandbox"), "Dagster definitions never reach up into the CLI"),
    "errors.py": ((f"{PACKAGE}.", "duckdb", "requests", *DAGSTER), "errors are shared by every layer"),
    "progress.py": ((f"{PACKAGE}.", "duckdb", "requests", *DAGSTER),
                    "progress events are reported by every layer and watched from the CLI"),
    "config.py": ((f"{PACKAGE}.xero", f"{PACKAGE}.warehouse", f"{PACKAGE}.sync", f"{PACKAGE}.defs",
                   f"{PACKAGE}.cli", f"{PACKAGE}.sandbox", "duckdb", "requests", *DAGSTER),
                  "settings are read before any layer starts"),
    "webhooks": ((f"{PACKAGE}.xero", f"{PACKAGE}.warehouse", f"{PACKAGE}.sync", f"{PACKAGE}.defs",
                  f"{PACKAGE}.cli", f"{PACKAGE}.sandbox", "duckdb", "requests", *DAGSTER),
                 "the webhook receiver answers Xero within 5 s: no warehouse, no Dagster, no Xero calls"),
    "sandbox": ((f"{PACKAGE}.", "duckdb", "requests", *DAGSTER),
                "the sandbox is Xero, not the pipeline: it may read only the registry"),
}
ALLOWED = {"sandbox": (f"{PACKAGE}.registry", f"{PACKAGE}.sandbox"), "errors.py": (), "progress.py": ()}


def _imports(path: Path, module: str) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                parent = module.split(".")[: -node.level]
                base = ".".join([*parent, base] if base else parent)
            found.append((node.lineno, base))
            # ``from xero_pipeline import warehouse`` imports the submodule itself.
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names if base == PACKAGE]
    return found


def _matches(name: str, prefix: str) -> bool:
    return name == prefix.rstrip(".") or name.startswith(prefix if prefix.endswith(".") else prefix + ".")


def layer_violations(package_dir: Path) -> list[str]:
    """Every import in ``package_dir`` that breaks ``RULES``, as 'file:line: import (rule)'."""
    problems = []
    for path in sorted(package_dir.rglob("*.py")):
        rel = path.relative_to(package_dir)
        layer = rel.parts[0]
        if layer not in RULES:
            continue
        forbidden, why = RULES[layer]
        module = ".".join([PACKAGE, *rel.with_suffix("").parts])
        for line, name in _imports(path, module):
            if any(_matches(name, a) for a in ALLOWED.get(layer, ())):
                continue
            if any(_matches(name, f) for f in forbidden):
                problems.append(f"{PACKAGE}/{rel}:{line}: imports {name} ({why})")
    return problems


def test_every_layer_imports_only_what_sits_below_it():
    assert layer_violations(ROOT / PACKAGE) == []


def test_only_the_dagster_layers_import_dagster():
    dagster_users = set()
    for path in (ROOT / PACKAGE).rglob("*.py"):
        rel = path.relative_to(ROOT / PACKAGE)
        module = ".".join([PACKAGE, *rel.with_suffix("").parts])
        if any(_matches(n, d) for _, n in _imports(path, module) for d in DAGSTER):
            dagster_users.add(rel.parts[0])
    assert dagster_users <= {"defs", "cli", "definitions.py"}, dagster_users


def test_a_forbidden_import_added_to_the_real_tree_is_caught(tmp_path):
    tree = tmp_path / PACKAGE
    shutil.copytree(ROOT / PACKAGE, tree, ignore=shutil.ignore_patterns("__pycache__"))
    breaches = {
        "xero/client.py": "import duckdb\n",
        "warehouse/merge.py": "from xero_pipeline.defs.assets import GROUP\n",
        "sync/cursors.py": "import dagster as dg\n",
        "sandbox/app.py": "from xero_pipeline.xero import client\n",
        "registry/objects.py": "from .. import warehouse\n",
    }
    for rel, line in breaches.items():
        path = tree / rel
        path.write_text(path.read_text() + "\n\ndef _late():\n    " + line)
    found = layer_violations(tree)
    assert len(found) == len(breaches), found
    for rel in breaches:
        assert any(f.startswith(f"{PACKAGE}/{rel}:") for f in found), (rel, found)
