"""What ``xero-pipeline sync`` shows while it runs: per tenant, the object being read,
pages and calls so far, and how long it waits on one of Xero's limits.

A rate-limited read is mostly waiting (Xero allows 60 calls a minute per organisation),
and a command that says nothing for a minute looks hung. On a terminal the view keeps
one line per running tenant at the bottom, redrawn a few times a second, with finished
lines printed above it. Elsewhere (a log file, CI) it prints a line when a wait of
``NOTICE_SECONDS`` or more starts, and every running tenant's line every
``HEARTBEAT_SECONDS``, so a log never goes quiet for longer.

Events come from ``xero_pipeline.progress`` (in this process, or from a child process's
pipe, see ``parallel``); the view is thread-safe.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

NOTICE_SECONDS = 5.0
HEARTBEAT_SECONDS = 30.0
REDRAW_SECONDS = 0.2

LIMITS = {
    "minute": "Xero's 60 calls a minute for the organisation",
    "app": "the app's calls a minute (all organisations)",
    "concurrent": "Xero's 5 calls at once",
    "retry": "a retry (Xero or the network had trouble)",
}


@dataclass
class TenantLine:
    label: str
    what: str | None = None
    pages: int = 0  # answered pages of ``what``
    calls: int = 0
    waiting_until: float | None = None
    limit: str = ""
    said_at: float = 0.0  # when a plain line last reported this tenant

    def text(self, now: float) -> str:
        doing = f"{self.what}, page {self.pages}" if self.what else "starting"
        line = f"  {self.label}: {doing}; {self.calls} call{'' if self.calls == 1 else 's'}"
        if self.waiting_until is not None and self.waiting_until > now:
            line += f"; waiting {self.waiting_until - now:.0f} s for {LIMITS.get(self.limit, self.limit)}"
        return line


class ProgressView:
    """Live lines on a terminal (``live``), plain notices elsewhere."""

    def __init__(self, out: TextIO, *, live: bool, clock: Callable[[], float] = time.monotonic) -> None:
        self.out = out
        self.live = live
        self._clock = clock
        self._lines: dict[str, TenantLine] = {}
        self._drawn = 0  # live lines now on the screen, below everything printed
        self._shown: list[str] = []  # their text
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        # A live line must fit the terminal: a wrapped one would be left behind by the redraw.
        self._width = max(20, shutil.get_terminal_size((100, 24)).columns - 1)

    def __enter__(self) -> ProgressView:
        self._ticker = threading.Thread(target=self._tick, name="sync-progress", daemon=True)
        self._ticker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        with self._lock:
            self._lines.clear()
            self._redraw(force=True)

    def started(self, tenant: str, label: str) -> None:
        with self._lock:
            self._lines[tenant] = TenantLine(label, said_at=self._clock())
            self._redraw()

    def finished(self, tenant: str) -> None:
        with self._lock:
            self._lines.pop(tenant, None)
            self._redraw()

    def echo(self, text: str, *, out: TextIO | None = None) -> None:
        """Print ``text`` as a lasting line, above the live lines."""
        with self._lock:
            self._clear()
            print(text, file=out or self.out, flush=True)
            self._redraw(force=True)

    def handle(self, event: dict[str, Any]) -> None:
        """Take one event of ``xero_pipeline.progress``."""
        with self._lock:
            line = self._lines.get(event.get("tenant") or "")
            if line is None:  # /connections, or a tenant this view does not show
                return
            now = self._clock()
            kind = event.get("event")
            if kind == "calling":
                if event.get("what") != line.what:
                    line.what, line.pages = event.get("what"), 0
                line.waiting_until = None
            elif kind == "call":
                line.calls += 1
                line.pages += event.get("status") == 200 and event.get("what") == line.what
            elif kind == "wait":
                seconds = float(event.get("seconds") or 0)
                line.waiting_until, line.limit = now + seconds, str(event.get("limit") or "")
                if not self.live and seconds >= NOTICE_SECONDS:
                    self._say(line, now)

    def _say(self, line: TenantLine, now: float) -> None:
        line.said_at = now
        print(line.text(now), file=self.out, flush=True)

    def _tick(self) -> None:
        while not self._stop.wait(REDRAW_SECONDS):
            with self._lock:
                if self.live:
                    self._redraw()
                    continue
                now = self._clock()
                for line in self._lines.values():
                    if now - line.said_at >= HEARTBEAT_SECONDS:
                        self._say(line, now)

    def _clear(self) -> None:
        if self._drawn:
            # To the start of the first live line, then erase to the end of the screen.
            self.out.write(f"\x1b[{self._drawn}F\x1b[J")
            self._drawn = 0

    def _redraw(self, *, force: bool = False) -> None:
        if not self.live:
            return
        now = self._clock()
        shown = [line.text(now)[: self._width] for line in self._lines.values()]
        if shown == self._shown and not force:
            return  # a terminal log (script, tmux history) need not fill with identical frames
        self._clear()
        self.out.write("".join(f"{text}\n" for text in shown))
        self._drawn, self._shown = len(shown), shown
        self.out.flush()
