"""Settings from the environment, checked before any work starts.

| variable             | meaning                                                        | default                    |
|----------------------|----------------------------------------------------------------|----------------------------|
| XERO_CLIENT_ID       | the Xero app's client id                                       | required                   |
| XERO_CLIENT_SECRET   | a Web app's client secret; unset for a Mobile or desktop app   | unset                      |
| XERO_REFRESH_TOKEN   | seeds the token store; unneeded after `xero-pipeline auth`; unset with an empty store means a custom connection | unset |
| XERO_TOKEN_STORE     | file where the pipeline keeps rotated tokens (0600)           | data/xero_tokens.json      |
| XERO_POSTGRES_URL    | PostgreSQL shared by every machine (postgresql://user:password@host:5432/db): Dagster's instance (dagster.postgres.yaml), the tokens instead of XERO_TOKEN_STORE, and the app's and each tenant's call limits | unset: one machine, local files |
| XERO_API_URL         | accounting API and /connections                                | https://api.xero.com       |
| XERO_IDENTITY_URL    | token endpoint host                                            | https://identity.xero.com  |
| XERO_WAREHOUSE       | the DuckDB file (relative: from the checkout), or `ducklake:postgres:<libpq DSN or postgresql:// URL>` for a DuckLake that several machines write at once | data/warehouse.duckdb |
| XERO_WAREHOUSE_DATA  | a DuckLake's data files: a folder every machine mounts at the same path (absolute), or an object-store URL such as s3://bucket/prefix; required with a `ducklake:` XERO_WAREHOUSE | unset |
| XERO_LEDGER_SOURCE   | `auto`: the ledger views read a tenant's journals while Xero serves them, else the ledger rebuilt from its documents; `documents`: the rebuilt ledger for every tenant | auto |

A relative XERO_WAREHOUSE, and the default, start at the checkout the package runs from
(``make install``), so every command finds the same warehouse from any directory; an
installed package without a checkout uses the current directory.

A ``ducklake:`` warehouse keeps its catalog in PostgreSQL and its data under
XERO_WAREHOUSE_DATA; both are checked here, before any work starts (``warehouse_target``).
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse, urlsplit, urlunsplit

from xero_pipeline.errors import ConfigError

DEFAULTS = {
    "XERO_TOKEN_STORE": "data/xero_tokens.json",
    "XERO_API_URL": "https://api.xero.com",
    "XERO_IDENTITY_URL": "https://identity.xero.com",
    "XERO_WAREHOUSE": "data/warehouse.duckdb",
}
# The default file was data/xero.duckdb. DuckDB names a file's catalog after it, and a
# catalog `xero` beside the schema `xero` made `xero.invoices` ambiguous in other clients.
OLD_WAREHOUSE_NAME = "xero.duckdb"


def _checkout() -> Path | None:
    root = Path(__file__).resolve().parents[1]
    return root if (root / "pyproject.toml").is_file() else None


CHECKOUT: Path | None = _checkout()
_keep_old_warehouse = False


@dataclass(frozen=True)
class XeroSettings:
    client_id: str
    client_secret: str | None  # None: a public client (Xero's "Mobile or desktop app", PKCE)
    refresh_token: str | None
    token_store: Path
    api_url: str
    identity_url: str
    postgres_url: str | None = None  # the tokens and limits in PostgreSQL, for several machines

    def __repr__(self) -> str:  # never print the secret or the token
        return f"XeroSettings(client_id={self.client_id!r}, api_url={self.api_url!r}, token_store={str(self.token_store)!r})"


def _url(name: str, value: str) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(f"{name} must be an http(s) URL such as https://api.xero.com, not {value!r}")
    return value.rstrip("/")


def _writable_file(name: str, value: str) -> Path:
    path = Path(value).expanduser()
    if path.exists() and path.is_dir():
        raise ConfigError(f"{name} must be a file path, but {path} is a directory")
    _writable_dir(name, path.parent)
    return path


def _writable_dir(name: str, path: Path) -> None:
    """``path`` exists (created if need be) and this process may write in it, or a ConfigError."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{name}: cannot create the directory {path} ({exc.strerror})") from None
    if not os.access(path, os.W_OK):
        raise ConfigError(f"{name}: the directory {path} is not writable")


def xero_settings(
    overrides: Mapping[str, str | None] | None = None, env: Mapping[str, str] | None = None
) -> XeroSettings:
    """Settings from explicit values first, then the environment, then defaults."""
    env = os.environ if env is None else env
    overrides = overrides or {}

    def get(name: str) -> str | None:
        value = overrides.get(name)
        if value in (None, ""):
            value = env.get(name) or DEFAULTS.get(name)
        return value.strip() if isinstance(value, str) else None

    if not get("XERO_CLIENT_ID"):
        raise ConfigError(
            "XERO_CLIENT_ID is not set. Set it to your Xero app's client id (developer.xero.com > My Apps), and "
            "XERO_CLIENT_SECRET to its client secret if it is a Web app (a Mobile or desktop app uses PKCE and "
            "has none), or run `make demo` to try the pipeline against the sandbox."
        )
    return XeroSettings(
        client_id=get("XERO_CLIENT_ID") or "",
        client_secret=get("XERO_CLIENT_SECRET") or None,
        refresh_token=get("XERO_REFRESH_TOKEN"),
        token_store=_writable_file("XERO_TOKEN_STORE", get("XERO_TOKEN_STORE") or ""),
        api_url=_url("XERO_API_URL", get("XERO_API_URL") or ""),
        identity_url=_url("XERO_IDENTITY_URL", get("XERO_IDENTITY_URL") or ""),
        postgres_url=postgres_url(get("XERO_POSTGRES_URL")),
    )


def postgres_url(value: str | None) -> str | None:
    """XERO_POSTGRES_URL checked for its form (connecting is left to its users)."""
    if not value:
        return None
    parsed = urlparse(value)
    if parsed.scheme not in ("postgresql", "postgres") or not (parsed.hostname or "host=" in parsed.query):
        shown = value.replace(f":{parsed.password}@", ":***@") if parsed.password else value
        raise ConfigError(
            "XERO_POSTGRES_URL must be a PostgreSQL URL such as postgresql://user:password@host:5432/xero "
            f"(unset: tokens and limits in local files, one machine), not {shown!r}")
    return value


LEDGER_SOURCES = ("auto", "documents")


def ledger_documents_always(env: Mapping[str, str] | None = None) -> bool:
    """XERO_LEDGER_SOURCE: whether the ledger views read the ledger rebuilt from documents
    for every tenant (``documents``), not only where Xero withholds journals (``auto``)."""
    env = os.environ if env is None else env
    value = (env.get("XERO_LEDGER_SOURCE") or "auto").strip().lower()
    if value not in LEDGER_SOURCES:
        raise ConfigError(
            f"XERO_LEDGER_SOURCE must be auto (journals where Xero serves them, else the ledger rebuilt from "
            f"documents) or documents (the rebuilt ledger for every tenant), not {value!r}"
        )
    return value == "documents"


LAKE_PREFIX = "ducklake:"
LAKE_CATALOGS = ("postgres:",)  # the catalog databases whose DuckDB extension we install
LAKE_EXAMPLE = "ducklake:postgres:host=db.internal dbname=xero_lake user=xero"


@dataclass(frozen=True)
class Lake:
    """A DuckLake warehouse: ``catalog`` is what follows ``ducklake:`` in DuckDB's ATTACH
    (``postgres:<DSN>``), ``data_path`` where its Parquet files live."""

    catalog: str
    data_path: str

    def __str__(self) -> str:  # in logs and errors: never the catalog's password
        return f"{LAKE_PREFIX}{redact_dsn(self.catalog)} (data {self.data_path})"


Warehouse = Path | Lake


def redact_dsn(text: str) -> str:
    """A libpq DSN or URL with its password replaced by ``***``."""
    head, _, dsn = text.partition(":") if text.startswith(LAKE_CATALOGS) else ("", "", text)
    prefix = f"{head}:" if head else ""
    if "://" in dsn:
        parts = urlsplit(dsn)
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
            dsn = urlunsplit(parts._replace(netloc=netloc))
    dsn = re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1***", dsn)
    return prefix + dsn


def is_lake_setting(value: str | None) -> bool:
    return bool(value) and value.strip().startswith(LAKE_PREFIX)


def lake_from(value: str, data: str | None) -> Lake:
    """Check a ``ducklake:`` setting and its data path; the error names the fix."""
    catalog = value.strip()[len(LAKE_PREFIX):]
    if not catalog.startswith(LAKE_CATALOGS) or not catalog.split(":", 1)[1].strip():
        raise ConfigError(
            f"XERO_WAREHOUSE {redact_dsn(catalog)!r} is not a DuckLake on PostgreSQL: write it as "
            f"ducklake:postgres:<libpq DSN or postgresql:// URL>, e.g. {LAKE_EXAMPLE!r} (the catalog must be "
            "a PostgreSQL database every machine reaches; the pipeline installs DuckDB's postgres extension only)"
        )
    data = (data or "").strip()
    if not data:
        raise ConfigError(
            "XERO_WAREHOUSE is a DuckLake but XERO_WAREHOUSE_DATA is not set: set it to where the lake's data files "
            "go, the same for every machine: a shared folder mounted at one absolute path (e.g. /mnt/xero-lake) or "
            "an object-store URL (e.g. s3://bucket/xero-lake)"
        )
    if "://" not in data:
        path = Path(data).expanduser()
        if not path.is_absolute():
            raise ConfigError(
                f"XERO_WAREHOUSE_DATA must be an absolute path (every machine mounts it at the same place) or an "
                f"object-store URL, not the relative {data!r}"
            )
        _writable_dir("XERO_WAREHOUSE_DATA", path)
        data = str(path)
    return Lake(catalog=catalog.strip(), data_path=data)


def warehouse_target(value: str | None = None, env: Mapping[str, str] | None = None, *,
                     data: str | None = None) -> Warehouse:
    """The warehouse: a checked ``Lake`` for a ``ducklake:`` setting, else the file (``warehouse_path``).

    ``value`` (a ``--warehouse`` argument or a resource's setting) wins over XERO_WAREHOUSE;
    ``data`` over XERO_WAREHOUSE_DATA."""
    env = os.environ if env is None else env
    configured = value or (env.get("XERO_WAREHOUSE") or "").strip()
    if is_lake_setting(configured):
        return lake_from(configured, data or env.get("XERO_WAREHOUSE_DATA"))
    return warehouse_path(value, env)


def warehouse_location(value: str | None = None, env: Mapping[str, str] | None = None) -> Path:
    """The warehouse file, absolute; nothing is created.

    ``value`` (a ``--warehouse`` argument) is taken from the current directory, as typed;
    XERO_WAREHOUSE and the default from the checkout (see the module docstring).
    """
    if value:
        return Path(value).expanduser().absolute()
    env = os.environ if env is None else env
    base = CHECKOUT or Path.cwd()
    configured = (env.get("XERO_WAREHOUSE") or "").strip()
    if configured:
        return (base / Path(configured).expanduser()).absolute()
    return _moved_from_old_name((base / DEFAULTS["XERO_WAREHOUSE"]).absolute())


def warehouse_path(value: str | None = None, env: Mapping[str, str] | None = None) -> Path:
    """The warehouse file, its directory created and checked writable."""
    return _writable_file("XERO_WAREHOUSE", str(warehouse_location(value, env)))


def _moved_from_old_name(new: Path) -> Path:
    """Rename a warehouse left under the old default name, with its WAL and spool, once.

    Only while no process has it open: DuckDB locks the file with fcntl, so our lock
    failing means a sync or a DuckDB session holds it, and this process keeps using the
    old name (a process never renames a file it may itself have opened).
    """
    global _keep_old_warehouse
    old = new.with_name(OLD_WAREHOUSE_NAME)
    if new.exists() or not old.is_file():
        return new
    if _keep_old_warehouse:
        return old
    try:
        fd = os.open(old, os.O_RDWR)
    except OSError:  # not ours to move (read-only): use it where it is
        return old
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            _keep_old_warehouse = True
            return old
        for suffix in ("", ".wal", ".spool"):
            if Path(f"{old}{suffix}").exists():
                os.rename(f"{old}{suffix}", f"{new}{suffix}")
    finally:
        os.close(fd)
    logging.getLogger(__name__).warning(
        f"moved the warehouse {old} to {new}: the default file's new name, under which "
        "`SELECT * FROM xero.invoices` works in any DuckDB client"
    )
    return new
