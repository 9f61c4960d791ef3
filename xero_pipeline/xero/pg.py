"""PostgreSQL for what several machines of one app must share (XERO_POSTGRES_URL): the
rotating tokens, the app's and each tenant's call windows, and the tenants parked for the
day. One psycopg 3 pool per URL and process (pyrate-limiter's PostgresBucket needs a pool
too), and our tables in the schema ``xero_pipeline`` (``pg_schema.sql``), created once.

A connection URL may carry a password: it is registered as a secret, and every message
names the server by ``display_url`` (the password masked).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg_pool import ConnectionPool

from xero_pipeline.errors import XeroPipelineError, redact, register_secret

SCHEMA = "xero_pipeline"
CONNECT_TIMEOUT_SECONDS = 10
POOL_MAX = 4  # a run's threads: the token refresh, the limits and a few calls in flight
# Connections close after this long unused: a machine's idle runs must not keep the server's
# connection slots (max_connections, 100 by default) taken between their calls.
POOL_IDLE_SECONDS = 30.0
_SCHEMA_LOCK_KEY = 0x7865726F  # 'xero': serialises concurrent first-time schema creation

_pools: dict[tuple[int, str, str], ConnectionPool] = {}
_ready: set[tuple[int, str, str]] = set()
_lock = threading.Lock()


class PostgresUnavailable(XeroPipelineError):
    pass


def display_url(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    user = parts.username or ""
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _registered(url: str) -> str:
    register_secret(urlsplit(url).password)
    return url


def pool(url: str, *, role: str = "store") -> ConnectionPool:
    """This process's pool for ``url``, opened on first use, with our schema in place.

    ``role``: the limits get a pool of their own, which pyrate-limiter's buckets may close."""
    key = (os.getpid(), url, role)  # a forked child must not share its parent's sockets
    with _lock:
        found = _pools.get(key)
        if found is None or found.closed:
            try:  # at once, with the server's own words (the pool would retry until its timeout)
                psycopg.connect(_registered(url), connect_timeout=CONNECT_TIMEOUT_SECONDS).close()
            except psycopg.Error as exc:
                raise _unavailable(url, exc) from None
            found = _pools[key] = ConnectionPool(
                _registered(url), min_size=0, max_size=POOL_MAX, max_idle=POOL_IDLE_SECONDS, open=False,
                name=f"xero-pipeline-{role}",
                kwargs={"connect_timeout": CONNECT_TIMEOUT_SECONDS, "application_name": "xero-pipeline"})
            try:
                found.open(wait=True, timeout=CONNECT_TIMEOUT_SECONDS)
            except Exception as exc:
                del _pools[key]
                raise _unavailable(url, exc) from None
        if key not in _ready:
            _create_schema(found, url)
            _ready.add(key)
    return found


@contextmanager
def connection(url: str) -> Iterator[psycopg.Connection]:
    """A pooled connection in a transaction, committed when the block ends without error."""
    try:
        with pool(url).connection(timeout=CONNECT_TIMEOUT_SECONDS * 3) as conn:
            yield conn
    except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
        raise _unavailable(url, exc) from None


@contextmanager
def direct_connection(url: str) -> Iterator[psycopg.Connection]:
    """A connection of its own, outside the pool, in a transaction committed at the end."""
    pool(url)  # the schema exists
    try:
        conn = psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_SECONDS, application_name="xero-pipeline")
    except psycopg.Error as exc:
        raise _unavailable(url, exc) from None
    with conn:
        yield conn


def _create_schema(p: ConnectionPool, url: str) -> None:
    ddl = resources.files(__package__).joinpath("pg_schema.sql").read_text()
    try:
        with p.connection() as conn:
            # CREATE ... IF NOT EXISTS still races another process creating the same object.
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK_KEY,))
            conn.execute(ddl)
    except psycopg.Error as exc:
        raise _unavailable(url, exc) from None


def _unavailable(url: str, exc: BaseException) -> PostgresUnavailable:
    reason = redact(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
    return PostgresUnavailable(
        f"PostgreSQL at {display_url(url)} (XERO_POSTGRES_URL) cannot be used: {reason[:300]}. Check that the "
        "server runs and accepts this user and database, or unset XERO_POSTGRES_URL to keep tokens and limits "
        "in local files (one machine).")
