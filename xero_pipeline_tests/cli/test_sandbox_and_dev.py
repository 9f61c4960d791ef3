"""``xero-pipeline sandbox`` prints export lines that point ``sync`` at it; ``xero-pipeline dev
--port`` refuses a taken port before it starts anything."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from xero_pipeline_tests import ROOT

COMMAND = [sys.executable, "-m", "xero_pipeline.cli.main"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XERO_")}
    env["DAGSTER_HOME"] = str(tmp_path / "dagster_home")
    (tmp_path / "dagster_home").mkdir(exist_ok=True)
    return env


@pytest.fixture
def served_sandbox(tmp_path: Path) -> Iterator[tuple[int, list[str]]]:
    """``xero-pipeline sandbox --port P`` in a subprocess: its port and the lines it printed up to "stops"."""
    port = free_port()
    proc = subprocess.Popen([*COMMAND, "sandbox", "--port", str(port), "--tenants", "1", "--scale", "0.02"],
                            env=clean_env(tmp_path), cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    try:
        printed = []
        for line in proc.stdout:
            printed.append(line)
            if "Ctrl-C stops" in line:
                break
        assert proc.poll() is None, "".join(printed)
        yield port, printed
    finally:
        os.kill(proc.pid, 2)  # SIGINT: the command's own clean stop
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_the_sandbox_prints_export_lines_that_point_sync_at_it(served_sandbox, tmp_path):
    port, printed = served_sandbox
    exports = [line for line in printed if line.startswith("export XERO_")]
    names = {re.match(r"export (\w+)=", line).group(1) for line in exports}
    assert {"XERO_CLIENT_ID", "XERO_CLIENT_SECRET", "XERO_REFRESH_TOKEN", "XERO_API_URL", "XERO_IDENTITY_URL",
            "XERO_TOKEN_STORE"} <= names, "".join(printed)
    assert any(f"127.0.0.1:{port}" in line for line in exports)

    # What a user does: paste the lines into a shell, then run sync there.
    warehouse = tmp_path / "pasted.duckdb"
    env = clean_env(tmp_path) | {"XERO_WAREHOUSE": str(warehouse)}
    script = "".join(exports) + 'exec "$@"'
    result = subprocess.run(["bash", "-c", script, "bash", *COMMAND, "sync", "--select", "invoices"],
                            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr

    tenants = [line.split()[1] for line in printed if line.strip().startswith("tenant ")]
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        synced = conn.execute("SELECT DISTINCT tenant_id FROM xero.invoices").fetchall()
        count = conn.execute("SELECT count(*) FROM xero.invoices").fetchone()[0]
    assert [t for (t,) in synced] == tenants and count > 0


def test_the_sandbox_and_the_demo_default_to_the_same_scale():
    def default_scale(*args: str) -> str:
        text = subprocess.run([*COMMAND, *args, "--help"], capture_output=True, text=True, timeout=60).stdout
        found = re.search(r"--scale.*?\(default ([\d.]+)\)", text, re.S)
        assert found, text
        return found.group(1)

    assert default_scale("sandbox") == default_scale("demo")


def dagster_processes(dagster_home: Path) -> list[int]:
    """Processes whose environment names this test's DAGSTER_HOME (what `dagster dev` would leave)."""
    marker = f"DAGSTER_HOME={dagster_home}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def test_dev_on_a_taken_port_says_so_and_starts_nothing(tmp_path):
    env = clean_env(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([*COMMAND, "dev", "--port", str(port), "--tenants", "1", "--scale", "0.02"],
                                env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"port {port} " in result.stderr and "already in use" in result.stderr, result.stderr
    assert "--port" in result.stderr
    assert "Traceback" not in result.stderr
    assert "Dagster UI on" not in result.stdout
    assert dagster_processes(tmp_path / "dagster_home") == []


def test_dev_help_names_the_port():
    text = subprocess.run([*COMMAND, "dev", "--help"], capture_output=True, text=True, timeout=60, cwd=ROOT).stdout
    assert "--port" in text and "3000" in text
