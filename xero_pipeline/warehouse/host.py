"""One DuckDB instance per process for the pipeline's write sessions.

A write session attaches the warehouse file and detaches it when it ends, so the file's
lock is held for the session only, as before. What changed is where it is attached:
starting a DuckDB instance for each session (its thread pool, buffer manager and catalog)
cost about two thirds of opening one (~45 of ~70 CPU ms), and a tenant's run opens the
warehouse some 80 times. So one instance serves a process's sessions, one session at a
time (they already took turns per file, ``locking.process_lock``; every session attaches
as the same catalog, so here they take turns whatever the file): each takes a cursor of
its own, ``SET``s what its settings change and attaches the file.

A session's memory goes back to the system when it ends (``release_memory``), not a
second or so later: between sessions the sync is reading Xero, and what a merge freed
would otherwise still be resident when the next page's records are shaped.

``temp_directory`` cannot move once DuckDB has spilled into it, so a session that asks
for another one (another warehouse in the same process) gets a new instance. So does a
session after one that failed to detach: the instance is closed, which releases the
file whatever state the failure left it in.
"""

from __future__ import annotations

import ctypes
import os
import threading
from typing import Any

from xero_pipeline.warehouse.names import lit

MAIN = "memory"  # the instance's own in-memory catalog, the default again before a detach
_FIXED = ("temp_directory",)  # settings only a new instance can change

_lock = threading.Lock()  # the instance itself
_session = threading.Lock()  # held from attach to detach
_host: Any = None
_host_pid = 0
_host_config: dict[str, Any] = {}


def _setting(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return lit(str(value))


def _instance(config: dict[str, Any]) -> Any:
    """The process's instance, new when there is none, after a fork, or for another temp directory."""
    import duckdb

    global _host, _host_pid, _host_config
    if _host is not None and (_host_pid != os.getpid()
                              or any(config.get(k) != _host_config.get(k) for k in _FIXED)):
        discard()
    if _host is None:
        _host = duckdb.connect(":memory:", config=dict(config))
        # A detach must not rewrite the file: commits stay in the WAL until close_writer
        # decides a checkpoint is worth it (see connection.close_writer).
        _host.execute("PRAGMA disable_checkpoint_on_shutdown")
        _host_pid, _host_config = os.getpid(), dict(config)
    return _host


def attach(path: str, alias: str, config: dict[str, Any]) -> Any:
    """A cursor of the process's instance with ``path`` attached as ``alias`` and in use.

    Raises what ``ATTACH`` raises (``duckdb.IOException`` while another process holds the file)."""
    _session.acquire()
    try:
        with _lock:
            host = _instance(config)
            cursor, attached = host.cursor(), False
            try:
                for name, value in config.items():
                    if name not in _FIXED and _host_config.get(name) != value:
                        cursor.execute(f"SET {name} = {_setting(value)}")
                        _host_config[name] = value
                cursor.execute(f"ATTACH {lit(path)} AS {alias}")
                attached = True
                cursor.execute(f"USE {alias}")
            except BaseException:
                cursor.close()
                if attached:  # never leave the file attached (and locked) to a session that failed
                    discard()
                raise
    except BaseException:
        _session.release()
        raise
    return cursor


def detach(cursor: Any, alias: str) -> None:
    """End a session of ``attach``: the file is detached (its lock released), the cursor closed."""
    import duckdb

    with _lock:
        try:
            cursor.execute(f"USE {MAIN}")
            cursor.execute(f"DETACH {alias}")
        except BaseException:
            discard()  # closing the instance releases the file, whatever the session left behind
            raise
        else:
            try:
                release_memory(cursor)
            except duckdb.Error:
                discard()  # closing the instance frees its memory too; the session itself succeeded
        finally:
            try:
                cursor.close()
            finally:
                _session.release()


# glibc's, from the symbols the process has loaded (no library search at import); None
# on other C libraries, where the system allocator decides.
_malloc_trim = getattr(ctypes.CDLL(None), "malloc_trim", None)


def release_memory(cursor: Any) -> None:
    """Hand what a session freed back to the system now.

    DuckDB's allocator (jemalloc) keeps freed pages for a second or so (its decay time),
    so after a checkpoint merge they were still resident while the next pages were
    shaped, and the two added up to the sync's peak RSS. DuckDB has no statement to
    flush its allocator, but changing the thread count does (``TaskScheduler`` flushes
    it after relaunching the threads), so the count is moved by one and back (~10 ms a
    session). glibc's ``malloc_trim`` does the same for the Python side: pages' bodies
    and records freed in its heap."""
    threads = int(cursor.execute("SELECT current_setting('threads')").fetchone()[0])
    cursor.execute(f"SET threads = {threads + 1}")
    cursor.execute(f"SET threads = {threads}")
    if _malloc_trim is not None:
        _malloc_trim(0)


def discard() -> None:
    """Close the process's instance (the next session starts a new one)."""
    global _host, _host_config
    if _host is not None:
        try:
            if _host_pid == os.getpid():
                _host.close()
        finally:
            _host, _host_config = None, {}
