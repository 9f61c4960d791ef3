"""``xero-pipeline sync``: every connected tenant into the warehouse, with live progress.

One tenant at a time in this process (``--parallel 1``), or each tenant's run in its own
process, several at once (``parallel``). A tenant's process is this same command with
``--child-of`` and ``--progress-fd``: it reports progress and its result up a pipe.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from xero_pipeline.cli.interrupts import SignalWatch
    from xero_pipeline.cli.progress_view import ProgressView


def pipeline_resources(args: argparse.Namespace):
    from xero_pipeline.defs.resources import WarehouseResource, XeroResource

    xero = XeroResource()
    xero.settings()  # checks the configuration before any work starts
    warehouse = WarehouseResource(database=getattr(args, "warehouse", None) or "")
    warehouse.target()  # and the warehouse setting (a DuckLake's data path too)
    return xero, warehouse


def cmd_sync(args: argparse.Namespace) -> int:
    from xero_pipeline.cli.interrupts import SignalWatch, SyncInterrupted

    # From the first line: a Ctrl-C while Dagster loads is as clean as one mid-sync.
    with SignalWatch() as signals:
        try:
            return _sync(args, signals)
        except KeyboardInterrupt as exc:
            if not isinstance(exc, SyncInterrupted):
                exc = SyncInterrupted(where=None, signum=signals.received())
            print(exc, file=sys.stderr, flush=True)
            return 130


def _sync(args: argparse.Namespace, signals: SignalWatch) -> int:
    from xero_pipeline.cli.parallel import Fanout, follow_parent
    from xero_pipeline.cli.runner import cli_instance, select_objects, sync_tenants
    from xero_pipeline.errors import ConfigError

    if args.child_of:
        follow_parent()
    if args.parallel is not None and args.parallel < 1:
        raise ConfigError(f"--parallel must be 1 or more, not {args.parallel}")
    objects = select_objects(args.select)
    xero, warehouse = pipeline_resources(args)
    child_argv = [sys.executable, "-m", "xero_pipeline.cli.main", "sync"]
    for option in ("select", "warehouse"):
        if getattr(args, option):
            child_argv += [f"--{option}", getattr(args, option)]
    fanout = Fanout(args.parallel, tuple(child_argv), args.child_of)
    with cli_instance() as instance, _progress(args) as view:
        report = sync_tenants(instance=instance, xero=xero, warehouse=warehouse, tenant_ids=args.tenant or None,
                              objects=objects, signals=signals, echo=view.echo if view else print, view=view,
                              fanout=fanout)
    if args.child_of:  # the parent prints one summary for every tenant
        _send_progress(args.progress_fd, report.as_event())
    else:
        print(report.summary())
    return 0 if report.ok else 1


@contextmanager
def _progress(args: argparse.Namespace) -> Iterator[ProgressView | None]:
    """Live progress on this terminal, or, in a tenant's process, up the parent's pipe."""
    from xero_pipeline import progress
    from xero_pipeline.cli.progress_view import ProgressView

    if args.progress_fd is not None:
        with progress.watching(lambda event: _send_progress(args.progress_fd, event)):
            yield None
        return
    with ProgressView(sys.stdout, live=sys.stdout.isatty()) as view, progress.watching(view.handle):
        yield view


def _send_progress(fd: int | None, event: dict) -> None:
    if fd is not None:
        # One write of a line under PIPE_BUF: lines from the client's threads never interleave.
        os.write(fd, (json.dumps(event, default=str) + "\n").encode())
