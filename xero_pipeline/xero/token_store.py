"""The token store: the one file where the pipeline keeps Xero's rotating tokens.

Written to a temporary file, fsynced and atomically renamed (a crash leaves the old
file or the new one, never half of either), with permissions 0600; ``locked`` is an
exclusive lock on ``<store>.lock`` shared by every process and thread that uses the
store, held while tokens are refreshed (see ``auth``).
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from xero_pipeline.errors import XeroAuthError, register_secret


class TokenStorage(Protocol):
    """Where the rotating tokens live: this file, or PostgreSQL (``pg_token_store``).

    ``locked`` excludes every other holder, on any machine that shares the store; a
    ``save`` is durable when it returns, so a rotated token is kept before it is used."""

    @property
    def location(self) -> str: ...

    def load(self) -> dict[str, Any]: ...

    def save(self, data: dict[str, Any]) -> None: ...

    def locked(self) -> AbstractContextManager[None]: ...


def checked_record(data: Any, where: str) -> dict[str, Any]:
    """A stored token record, its tokens registered as secrets before anything can print them."""
    if not isinstance(data, dict):
        raise XeroAuthError(f"{where} does not hold a JSON object; delete it and run `xero-pipeline auth`")
    register_secret(data.get("access_token"))
    register_secret(data.get("refresh_token"))
    return data


@dataclass
class TokenStore:
    """The JSON file that holds the current tokens, owned by the pipeline."""

    path: Path
    lock_timeout: float = 300.0

    @property
    def location(self) -> str:
        return str(self.path)

    def load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except json.JSONDecodeError as exc:
            raise XeroAuthError(
                f"the token store {self.path} is not valid JSON ({exc.msg}); delete it and run "
                "`xero-pipeline auth`, or set XERO_REFRESH_TOKEN to a fresh refresh token"
            ) from None
        return checked_record(data, f"the token store {self.path}")

    def save(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tokens-", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as handle:
                json.dump(data, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)  # make the rename itself durable
            finally:
                os.close(dir_fd)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @contextmanager
    def locked(self) -> Iterator[None]:
        """An exclusive lock shared by every process (and thread) using this store."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            deadline = time.monotonic() + self.lock_timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise XeroAuthError(
                            f"another process has held {lock_path} for more than {self.lock_timeout:.0f} s "
                            "while refreshing Xero tokens; if none is running, delete the lock file"
                        ) from None
                    time.sleep(0.01)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
