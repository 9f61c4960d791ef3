"""The token store in PostgreSQL, for an app whose runs span several machines.

A file lock cannot reach another machine, and Xero's refresh tokens are single-use: two
machines refreshing one token at once leave one of them with ``invalid_grant``. Here the
tokens are one row per client id (``xero_pipeline.tokens``), and ``locked`` holds a
transaction-scoped advisory lock on that client id across every machine, exactly where
``TokenStore`` holds its flock (see ``auth``): whoever gets it re-reads the row and
refreshes only if the token there is still stale. ``save`` commits on its own connection
before it returns, so the rotated token is durable before anyone uses it; the lock ends
with its transaction, also when a process dies holding it (the server drops its session).
"""

from __future__ import annotations

import errno
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from xero_pipeline.errors import XeroAuthError, redact
from xero_pipeline.xero import pg
from xero_pipeline.xero.token_store import checked_record


def _lock_key(client_id: str) -> int:
    # Stable in every process (hash() of a str is salted per interpreter).
    return zlib.crc32(f"xero_pipeline.tokens/{client_id}".encode()) & 0x7FFFFFFF


@dataclass
class PostgresTokenStore:
    """The app's tokens in ``xero_pipeline.tokens``, shared by every machine of the app."""

    url: str
    client_id: str
    lock_timeout: float = 300.0

    @property
    def location(self) -> str:
        return f"{pg.display_url(self.url)} (table {pg.SCHEMA}.tokens, client id {self.client_id})"

    def load(self) -> dict[str, Any]:
        with pg.connection(self.url) as conn:
            row = conn.execute(f"SELECT data FROM {pg.SCHEMA}.tokens WHERE client_id = %s",
                               (self.client_id,)).fetchone()
        return {} if row is None else checked_record(row[0], f"the token store's row in {self.location}")

    def save(self, data: dict[str, Any]) -> None:
        try:
            with pg.connection(self.url) as conn:
                conn.execute(
                    f"INSERT INTO {pg.SCHEMA}.tokens (client_id, data, updated_at) VALUES (%s, %s, now()) "
                    "ON CONFLICT (client_id) DO UPDATE SET data = EXCLUDED.data, updated_at = now()",
                    (self.client_id, Jsonb(data)))
        except (psycopg.Error, pg.PostgresUnavailable) as exc:
            # auth reports an unsaved rotation as an OSError (the store keeps the previous token).
            raise OSError(errno.EIO, f"PostgreSQL: {redact(str(exc).splitlines()[0])[:200]}") from None

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Every machine's refresh of this app's tokens, one at a time."""
        # Its own connection, not the pool's: waiters holding pooled connections would starve
        # the holder's load and save of one.
        with pg.direct_connection(self.url) as conn:
            try:
                conn.execute(f"SET LOCAL lock_timeout = '{int(self.lock_timeout * 1000)}ms'")
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_key(self.client_id),))
            except psycopg.errors.LockNotAvailable:
                raise XeroAuthError(
                    f"another process has held the token store's lock ({self.location}) for more than "
                    f"{self.lock_timeout:.0f} s while refreshing Xero tokens; see pg_locks on that server for "
                    "the session holding it"
                ) from None
            yield
