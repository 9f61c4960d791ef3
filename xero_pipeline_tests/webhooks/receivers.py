"""The receiver on a real loopback port: in a thread of the test (fast), or as the
``xero-pipeline webhooks`` process (for the tests that kill it)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
import uvicorn

from xero_pipeline.webhooks.receiver import PATH, build_app
from xero_pipeline.webhooks.store import EventStore
from xero_pipeline_tests.processes import free_port

KEY = "TEST_WEBHOOK_KEY"


@contextmanager
def receiver_thread(store: EventStore, *, key: str = KEY, **options) -> Iterator[str]:
    """The receiver served by uvicorn in a thread; yields its delivery URL."""
    server = uvicorn.Server(uvicorn.Config(build_app(key=key, store=store, **options), host="127.0.0.1",
                                           port=0, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the receiver did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}{PATH}"
    finally:
        server.should_exit = True
        thread.join(10)


class ReceiverProcess:
    """``xero-pipeline webhooks`` in its own process, restartable on the same port."""

    def __init__(self, store_file: Path, log: Path, *, key: str = KEY) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}{PATH}"
        self.store_file, self.log, self.key = store_file, log, key
        self.proc: subprocess.Popen | None = None

    def start(self) -> ReceiverProcess:
        env = {**os.environ, "XERO_WEBHOOK_KEY": self.key}
        with self.log.open("a") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "xero_pipeline.cli.main", "webhooks", "--port", str(self.port),
                 "--store", str(self.store_file)], env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the receiver exited ({self.proc.returncode}):\n{self.log.read_text()[-2000:]}")
            try:
                # An unsigned GET: 405 proves the server is up without storing anything.
                requests.get(self.url, timeout=1)
                return self
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError(f"the receiver did not start:\n{self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()  # SIGKILL: no shutdown handler runs
            self.proc.wait(10)

    def pause(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(19)  # SIGSTOP: it accepts nothing more, answers nothing

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(18)  # SIGCONT, in case it is paused
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
