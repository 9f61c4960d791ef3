"""What `xero-pipeline --help` and the configuration errors tell a new user."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from xero_pipeline.cli.main import build_parser

COMMAND = Path(sys.executable).parent / "xero-pipeline"


def commands() -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_every_command_and_argument_has_help_text():
    missing = [f"xero-pipeline {a.dest}" for a in build_parser()._actions if not a.help]
    listed = {a.dest: a.help for a in next(a for a in build_parser()._actions
                                          if isinstance(a, argparse._SubParsersAction))._choices_actions}
    for name, parser in commands().items():
        if not listed.get(name) or not parser.description:
            missing.append(f"{name} (command)")
        for action in parser._actions:
            if not isinstance(action, argparse._HelpAction) and not action.help:
                missing.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
    assert not missing, missing


@pytest.mark.parametrize("command", ["sql", "tenants", "demo", "dev", "sync", "auth"])
def test_each_command_explains_itself(command):
    result = subprocess.run([str(COMMAND), command, "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    usage, _, rest = result.stdout.partition("\n\n")
    assert rest.strip() and not rest.lstrip().startswith(("positional", "options")), result.stdout


def test_sql_help_names_the_formats_and_the_warehouse():
    text = subprocess.run([str(COMMAND), "sql", "--help"], capture_output=True, text=True, timeout=60).stdout
    for word in ("table", "csv", "json", "markdown", "XERO_WAREHOUSE"):
        assert word in text


def test_a_missing_client_id_is_named_grammatically_with_both_kinds_of_app(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("XERO_")}
    env.update({"XERO_CLIENT_SECRET": "a-secret", "DAGSTER_HOME": str(tmp_path)})
    result = subprocess.run([str(COMMAND), "tenants"], env=env, cwd=tmp_path, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert "XERO_CLIENT_ID is not set. Set it to your Xero app's client id" in result.stderr, result.stderr
    assert "Web app" in result.stderr and "Mobile or desktop app" in result.stderr
    assert "a-secret" not in result.stderr
