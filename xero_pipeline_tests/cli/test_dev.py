"""`make dev` as a user starts it: from the checkout, whose dagster.yaml is the project's
template, with DAGSTER_HOME set (the Makefile exports it). Dagster must not warn that the
dagster.yaml "will not be used": the instance does use it (copied into DAGSTER_HOME)."""

import os
import subprocess
import sys
import time

from xero_pipeline_tests import ROOT
from xero_pipeline_tests.processes import free_port, stop

STARTED = "Launching Dagster services"  # dagster dev's line after it has checked its folder


def test_dev_prints_no_stray_dagster_yaml_warning(tmp_path):
    assert (ROOT / "dagster.yaml").exists()  # the file Dagster would warn about
    env = {k: v for k, v in os.environ.items() if not k.startswith("XERO_")}
    env["DAGSTER_HOME"] = str(tmp_path / "home")
    proc = subprocess.Popen(
        [sys.executable, "-m", "xero_pipeline.cli.main", "dev", "--tenants", "1", "--scale", "0.01",
         "--port", str(free_port())],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 25
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break  # it exited
            lines.append(line.rstrip())
            if STARTED in line:
                break
    finally:
        stop(proc)
    output = "\n".join(lines)
    assert STARTED in output, output
    assert "will not be used" not in output, output
    assert (tmp_path / "home" / "dagster.yaml").exists()  # what the instance reads instead
