"""A throw-away PostgreSQL 15 cluster for tests: initdb in a temporary folder, pg_ctl on a
free loopback port, one database, stopped and removed afterwards.

initdb and postgres refuse to run as root, and our machines run the tests as root: there
the binaries run as the ``postgres`` user, in a folder handed to it. Durability is off
(fsync, synchronous_commit, full_page_writes): the cluster lives for one test session.
Where PostgreSQL is not installed the caller gets ``PostgresMissing`` naming the package,
never a skip: the PostgreSQL-backed behaviour is part of what ``make test`` checks.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

BINARIES = ("initdb", "pg_ctl", "postgres")
# Debian/Ubuntu keep the server binaries off PATH; /usr/local/bin holds links on our machines.
SEARCH_DIRS = ("/usr/local/bin", "/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin",
               "/usr/lib/postgresql/17/bin", "/usr/pgsql-15/bin")
DATABASE = "xero"
START_TIMEOUT_S = 30.0


class PostgresMissing(RuntimeError):
    pass


def find_bin_dir() -> Path:
    """The folder holding initdb, pg_ctl and postgres: PATH first, then the usual places."""
    found = shutil.which("initdb")
    candidates = ([str(Path(found).resolve().parent)] if found else []) + list(SEARCH_DIRS)
    for folder in candidates:
        if all(os.access(Path(folder, b), os.X_OK) for b in BINARIES):
            return Path(folder)
    raise PostgresMissing(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found on PATH or in "
        f"{', '.join(SEARCH_DIRS)}. The PostgreSQL-backed tests start a throw-away cluster: "
        "install the server with `apt-get install postgresql-15` (Debian/Ubuntu; any 15+ works), "
        "`dnf install postgresql15-server` or `brew install postgresql@15`, or put its bin folder on PATH.")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Runner:
    """Runs the server binaries as ourselves, or as ``postgres`` when we are root."""

    def __init__(self) -> None:
        self.as_user: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            try:
                self.as_user = pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresMissing(
                    "running as root, and PostgreSQL refuses root: a `postgres` user is needed "
                    "(the postgresql-15 package creates it; or `useradd --system postgres`)") from None

    def own(self, path: Path) -> None:
        if self.as_user:
            os.chown(path, self.as_user.pw_uid, self.as_user.pw_gid)

    def run(self, argv: list[str], *, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        if self.as_user:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, cwd="/")


def _check(proc: subprocess.CompletedProcess[str], what: str) -> None:
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")


def _wait_ready(port: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres",
                            connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                text = log.read_text(errors="replace") if log.exists() else "(no log)"
                raise RuntimeError(f"PostgreSQL did not accept connections in {START_TIMEOUT_S:.0f} s:\n{text}")
            time.sleep(0.1)


def create_database(admin_url: str, name: str) -> str:
    """A fresh database on the same server; returns its URL."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yields ``postgresql://postgres@127.0.0.1:PORT/xero`` on a fresh cluster."""
    bin_dir = find_bin_dir()
    runner = _Runner()
    root = Path(tempfile.mkdtemp(prefix="xero-pg-"))
    data, sock, log = root / "data", root / "sock", root / "server.log"
    try:
        root.chmod(0o700)
        sock.mkdir()
        for p in (root, sock):
            runner.own(p)
        _check(runner.run([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-E", "UTF8",
                           "--locale=C", "-A", "trust", "--no-sync"]), "initdb")
        port = free_port()
        opts = (f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        _check(runner.run([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", opts,
                           "-w", "-t", str(int(START_TIMEOUT_S)), "start"]), "pg_ctl start")
        try:
            _wait_ready(port, log)
            yield create_database(f"postgresql://postgres@127.0.0.1:{port}/postgres", DATABASE)
        finally:
            runner.run([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"])
    finally:
        shutil.rmtree(root, ignore_errors=True)
