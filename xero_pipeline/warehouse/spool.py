"""Spool files: shaped rows of one load, on local disk, between reading Xero and merging.

A spool lives in its own directory ``xero-spool-<pid>-<random>`` under a root next to
the warehouse (``data/warehouse.duckdb.spool/``), not in the system temp directory, so the
files a killed sync leaves behind are found and removed by the next sync instead of
piling up in ``/tmp``. A directory is stale when the process named in it is gone (a
SIGKILL skips every ``finally``), or, for directories whose owner cannot be told
(the old ``/tmp`` layout, another host), when it is older than a day.

Spools hold no state anybody needs after a crash: the warehouse merge reads them inside
its transaction and the cursor moves only after the commit, so a lost spool only means
the next sync reads the same pages again.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xero_pipeline.warehouse.shaping import RecordShaper, ShapedRecord
from xero_pipeline.warehouse.typed import TypedShaper
from xero_pipeline.warehouse.values import to_json_bytes

SPOOL_PREFIX = "xero-spool-"
STALE_SECONDS = 86_400.0


def spool_root(warehouse_file: str | Path) -> Path:
    """Where spools of this warehouse go: ``<file>.spool/`` beside it."""
    return Path(f"{warehouse_file}.spool")


def _pid_of(directory: Path) -> int | None:
    # xero-spool-<pid>-<random>; the old layout (xero-spool-<random>) has no pid.
    head = directory.name.removeprefix(SPOOL_PREFIX).split("-", 1)[0]
    return int(head) if head.isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # somebody else's live process
        return True
    return True


def sweep_stale_spools(root: Path, *, now: float | None = None, max_age: float = STALE_SECONDS) -> list[Path]:
    """Remove spool directories a dead process left behind; returns what was removed."""
    now = time.time() if now is None else now
    removed = []
    try:
        candidates = list(root.glob(f"{SPOOL_PREFIX}*"))
    except OSError:
        return removed
    for directory in candidates:
        if not directory.is_dir():
            continue
        pid = _pid_of(directory)
        try:
            old = now - directory.stat().st_mtime > max_age
        except FileNotFoundError:
            continue  # another process swept it first
        # Our own pid may own live spools of other threads: only age removes those.
        dead = pid is not None and pid != os.getpid() and not _alive(pid)
        if dead or old:
            shutil.rmtree(directory, ignore_errors=True)
            removed.append(directory)
    return removed


def new_spool_directory(root: Path | None = None) -> Path:
    """A fresh private directory under ``root`` (the system temp dir if None)."""
    base = Path(root) if root is not None else Path(tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    sweep_stale_spools(base)
    return Path(tempfile.mkdtemp(prefix=f"{SPOOL_PREFIX}{os.getpid()}-", dir=base))


@dataclass
class Spool:
    """Shaped rows of one load, appended to per-table NDJSON files as pages arrive."""

    shaper: RecordShaper
    root: Path | None = None
    # Records given as JSON text (``add_texts``) go through this one; it shares the
    # shaper's table shapes, so columns learned or widened on either path hold for both.
    typed: TypedShaper | None = None
    directory: Path = field(init=False)
    rows: dict[str, int] = field(default_factory=dict)
    _files: dict[str, Any] = field(default_factory=dict)
    _seq: int = 0

    def __post_init__(self) -> None:
        self.directory = new_spool_directory(self.root)

    def path(self, table: str) -> Path:
        return self.directory / f"{table}.ndjson"

    def _write(self, table: str, lines: list[bytes]) -> None:
        handle = self._files.get(table)
        if handle is None:
            handle = self._files[table] = open(self.path(table), "wb")
            self.rows[table] = 0
        lines.append(b"")  # the last row's newline
        handle.write(b"\n".join(lines))
        self.rows[table] += len(lines) - 1

    def add(self, records: Iterable[dict[str, Any]]) -> int:
        """Spool parsed records (those read as dicts: budgets, contact groups)."""
        return self._spool(self.shaper.shape(record, self._next()) for record in records)

    def add_texts(self, texts: Iterable[Any]) -> int:
        """Spool records given as the JSON text Xero sent for each (bytes or ``msgspec.Raw``)."""
        if self.typed is None:
            self.typed = TypedShaper(self.shaper)
        shape = self.typed.shape
        return self._spool(shape(text, self._next()) for text in texts)

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def _spool(self, shaped_records: Iterable[ShapedRecord]) -> int:
        # One write per table per page, not two per row: 1.6 million writes cost 3 s of a
        # 49 s full sync at scale 10.
        batch: dict[str, list[bytes]] = {}
        parent = self.shaper.parent.table
        n = 0
        for shaped in shaped_records:
            batch.setdefault(parent, []).append(to_json_bytes(shaped.parent))
            for table, rows in shaped.children.items():
                if rows:
                    batch.setdefault(table, []).extend(map(to_json_bytes, rows))
            n += 1
        for table, lines in batch.items():
            self._write(table, lines)
        return n

    @property
    def record_count(self) -> int:
        return self._seq

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()
        self._files.clear()

    def discard(self) -> None:
        self.close()
        shutil.rmtree(self.directory, ignore_errors=True)
