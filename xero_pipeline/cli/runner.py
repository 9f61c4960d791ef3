"""Run syncs through Dagster from the command line: tenants, selection, summary.

``xero-pipeline sync`` and ``make demo`` call ``sync_tenants``: it registers every
connected organisation as a ``xero_tenant`` partition, then materializes the selected
assets for each tenant on the project's Dagster instance, so cursors and metadata land
exactly where the UI, schedules and sensors read them.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import dagster as dg

from xero_pipeline.cli.console import cli_console
from xero_pipeline.cli.interrupts import (
    SESSION_TAG,
    SignalWatch,
    SyncInterrupted,
    cancel_unfinished,
    was_interrupted,
)
from xero_pipeline.cli.parallel import ChildSync, Fanout, default_parallel, run_children
from xero_pipeline.cli.progress_view import ProgressView
from xero_pipeline.cli.run_outcomes import collect_failures, echo_outcomes
from xero_pipeline.cli.sync_report import SyncReport
from xero_pipeline.config import postgres_url
from xero_pipeline.defs.assets import build_object_asset
from xero_pipeline.defs.checks import build_checks, tenants_key_check
from xero_pipeline.defs.jobs import SYNC_JOB
from xero_pipeline.defs.partitions import TENANT_PARTITIONS_NAME
from xero_pipeline.defs.rebuild_checks import build_rebuilt_ledger_checks
from xero_pipeline.defs.report_assets import build_report_assets
from xero_pipeline.defs.resources import WarehouseResource, XeroResource
from xero_pipeline.defs.tenant_names import tenant_label, tenant_tags
from xero_pipeline.defs.tenants_asset import xero_tenants
from xero_pipeline.defs.view_assets import build_rebuilt_view_asset, build_view_assets
from xero_pipeline.errors import ConfigError
from xero_pipeline.registry import OBJECTS, XeroObject

PROJECT_DAGSTER_YAML = Path(__file__).resolve().parents[2] / "dagster.yaml"
# The same instance with its storage in PostgreSQL (XERO_POSTGRES_URL): several machines.
PROJECT_POSTGRES_YAML = PROJECT_DAGSTER_YAML.with_name("dagster.postgres.yaml")


def ensure_dagster_home() -> Path:
    """Use a persistent instance: without DAGSTER_HOME, cursors would vanish on exit.

    A new $DAGSTER_HOME gets the project's dagster.yaml, or dagster.postgres.yaml when
    XERO_POSTGRES_URL is set; an existing dagster.yaml is the user's and stays."""
    home = Path(os.environ.get("DAGSTER_HOME") or Path.cwd() / ".dagster").resolve()
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    target = home / "dagster.yaml"
    source = PROJECT_POSTGRES_YAML if postgres_url(os.environ.get("XERO_POSTGRES_URL")) else PROJECT_DAGSTER_YAML
    if not target.exists() and source.exists():
        shutil.copyfile(source, target)
    return home


def cli_instance() -> dg.DagsterInstance:
    """The Dagster instance in $DAGSTER_HOME (``ensure_dagster_home``) as the CLI's runs use
    it: runs, events and cursors land there as usual, but a run's stdout and stderr go
    straight to the terminal instead of through Dagster's local compute logs.

    Those mirror each stream back from its file through a ``tail -F`` and a watcher
    process per run. A command killed outright between starting the two left the tail
    running for good, holding the caller's pipe open (a wrapper reading the output hung),
    and every run paid for two extra Python processes. Runs the daemon launches keep
    the instance's compute logs for the UI."""
    from dagster._core.instance.ref import InstanceRef

    home = ensure_dagster_home()
    no_capture = {"module": "dagster._core.storage.noop_compute_log_manager", "class": "NoOpComputeLogManager",
                  "config": {}}
    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home), overrides={"compute_logs": no_capture}))


def select_objects(patterns: str | None) -> list[XeroObject]:
    """``"invoices,contacts"`` or ``"credit*"``: table names, shell-style wildcards."""
    if not patterns:
        return list(OBJECTS)
    wanted = [p.strip().removeprefix("xero/") for p in patterns.split(",") if p.strip()]
    chosen = [o for o in OBJECTS if any(fnmatch.fnmatch(o.table, p) for p in wanted)]
    if not chosen:
        names = ", ".join(o.table for o in OBJECTS)
        raise ConfigError(f"--select {patterns!r} matches no Xero object; choose from: {names}")
    return chosen


def register_tenants(instance: dg.DagsterInstance, tenant_ids: Sequence[str]) -> list[str]:
    """Add tenants that are not yet partitions; returns the ones added."""
    known = set(instance.get_dynamic_partitions(TENANT_PARTITIONS_NAME))
    new = [t for t in tenant_ids if t not in known]
    if new:
        instance.add_dynamic_partitions(TENANT_PARTITIONS_NAME, new)
    return new


def sync_tenants(
    *,
    instance: dg.DagsterInstance,
    xero: XeroResource,
    warehouse: WarehouseResource,
    tenant_ids: Sequence[str] | None = None,
    objects: Sequence[XeroObject] = OBJECTS,
    echo: Callable[[str], None] = print,
    signals: SignalWatch | None = None,
    view: ProgressView | None = None,
    fanout: Fanout | None = None,
) -> SyncReport:
    """Materialize ``objects`` for each tenant (all connected ones by default).

    One tenant at a time in this process, or with ``fanout`` each tenant's run in its own
    process, ``fanout.parallel`` at once (see ``parallel``). ``view`` shows live progress.
    An interruption (Ctrl-C, SIGTERM: see ``interrupts``) raises ``SyncInterrupted``: the
    running runs end CANCELED, no later tenant starts, and no run is left unfinished.
    """
    session = fanout.child_of if fanout and fanout.child_of else uuid.uuid4().hex
    runs = _Runs(instance, {"xero": xero, "warehouse": warehouse},
                 {"xero/trigger": "cli", SESSION_TAG: session}, signals)
    try:
        return _sync(runs, xero, tenant_ids, objects, echo, view, fanout)
    except KeyboardInterrupt as exc:
        where = exc.where if isinstance(exc, SyncInterrupted) else runs.where()
        error = SyncInterrupted(where=where, signum=signals.received() if signals else None)
        cancel_unfinished(instance, session, reason=str(error))
        raise error from None


def _targets(xero: XeroResource, tenant_ids: Sequence[str] | None,
             echo: Callable[[str], None]) -> tuple[list[str], dict[str, str]]:
    """The tenants to sync and their names; unknown or non-organisation tenants are refused."""
    tenancy = xero.get_client().organisations()
    connected = tenancy.tenant_ids
    if tenant_ids:
        refused = tenancy.notes(among=tenant_ids)
        if refused:
            raise ConfigError("; ".join(refused) + f". Name organisations only: {', '.join(connected) or 'none'}")
        unknown = [t for t in tenant_ids if t not in connected]
        if unknown:
            raise ConfigError(
                f"tenant {', '.join(unknown)} is not connected to this app; connected: {', '.join(connected) or 'none'}"
            )
        return list(tenant_ids), tenancy.names
    for note in tenancy.notes():
        echo(note)
    return connected, tenancy.names


def _sync(runs: _Runs, xero: XeroResource, tenant_ids: Sequence[str] | None, objects: Sequence[XeroObject],
          echo: Callable[[str], None], view: ProgressView | None, fanout: Fanout | None) -> SyncReport:
    targets, names = _targets(xero, tenant_ids, echo)
    child = bool(fanout and fanout.child_of)
    if not child:
        added = register_tenants(runs.instance, targets)
        if added:
            echo(f"registered {len(added)} new tenant partition(s): {', '.join(added)}")
    full = list(objects) == list(OBJECTS)
    report = SyncReport()
    # xero/tenants is not per tenant: it rides along once, in the first tenant's run (an
    # unpartitioned asset in a partitioned run), or in the closing run of a fan-out.
    tenants_table = [xero_tenants, tenants_key_check]
    parallel = 1 if child or not fanout else (fanout.parallel or default_parallel(len(targets)))
    if parallel > 1 and len(targets) > 1:
        assert fanout is not None and view is not None
        echo(f"syncing {len(targets)} tenants, {min(parallel, len(targets))} at a time")
        children = [ChildSync(t, tenant_label(t, names.get(t)), [*fanout.child_argv, "--tenant", t,
                                                                  "--child-of", runs.tags[SESSION_TAG]])
                    for t in targets]
        run_children(children, parallel=parallel, view=view, report=report)
        closing = tenants_table
    else:
        _each_tenant(runs, targets, names, objects, full, [] if child else tenants_table, report, echo, view)
        closing = [] if targets or child else tenants_table
    parts = {"the tenant list": closing} if closing else {}
    if full and not child:  # a full sync also refreshes the ledger views, once at the end
        parts["the ledger views"] = build_view_assets()
    if parts:
        result = runs.run(" and ".join(parts), [a for assets in parts.values() for a in assets],
                          resources={"warehouse": runs.resources["warehouse"], "xero": runs.resources["xero"]})
        collect_failures(result, "all tenants", report, echo)
        report.materialized += len(result.get_asset_materialization_events())
        runs.stop_if_interrupted(result)
    return report


def _each_tenant(runs: _Runs, targets: Sequence[str], names: dict[str, str], objects: Sequence[XeroObject],
                 full: bool, first_extra: list[Any], report: SyncReport, echo: Callable[[str], None],
                 view: ProgressView | None) -> None:
    """One run per tenant, one after the other, in this process."""
    assets = [build_object_asset(o) for o in objects]
    checks = build_checks(objects)
    if full:  # a full sync also refreshes the report snapshots
        assets += build_report_assets()
        # The ledger rebuilt from documents is reconciled with the reports in each tenant's run,
        # so its view (unpartitioned) rides along.
        assets.append(build_rebuilt_view_asset())
        checks.append(build_rebuilt_ledger_checks())
    for i, tenant in enumerate(targets):
        label = tenant_label(tenant, names.get(tenant))
        echo(f"{label}: syncing {len(objects)} object(s)")
        if view is not None:
            view.started(tenant, label)
        try:
            result = runs.run(f"tenant {tenant}", [*assets, *checks, *(first_extra if i == 0 else [])],
                              partition_key=tenant, tags=tenant_tags(tenant, names.get(tenant)))
        finally:
            if view is not None:
                view.finished(tenant)
        echo_outcomes(result, tenant, report, echo)
        collect_failures(result, tenant, report, echo)
        runs.stop_if_interrupted(result)


class _Runs:
    """Starts the command's runs in process, one at a time, and notices an interruption."""

    JOB = SYNC_JOB
    # Runs executed here have no code-location origin; the UI lists a job's runs by this
    # label (repository@location), so the CLI's runs show under xero_sync like the daemon's.
    REPOSITORY_LABEL = {".dagster/repository": "__repository__@xero_pipeline.definitions"}

    def __init__(self, instance: dg.DagsterInstance, resources: dict[str, Any], tags: dict[str, str],
                 signals: SignalWatch | None) -> None:
        self.instance = instance
        self.resources = resources
        self.tags = tags
        self.signals = signals
        self.during: str | None = None  # what the latest run syncs: "tenant X", "the ledger views"
        self.finished = False

    def where(self) -> str | None:
        if self.during is None:
            return None
        return f"after {self.during}" if self.finished else f"during {self.during}"

    def run(self, during: str, assets: Sequence[Any], *, partition_key: str | None = None,
            tags: dict[str, str] | None = None, resources: dict[str, Any] | None = None) -> Any:
        """``dg.materialize``, with the CLI's console logger (see ``console``)."""
        if self.signals is not None and self.signals.received():
            where = f"after {self.during}, before {during}" if self.during else None
            raise SyncInterrupted(where=where, signum=self.signals.received())
        self.during, self.finished = during, False
        defs = dg.Definitions(assets=assets, resources=resources or self.resources, jobs=[dg.define_asset_job(self.JOB)])
        job = defs.resolve_job_def(self.JOB).with_logger_defs({"console": cli_console(self.instance)})
        result = job.execute_in_process(
            run_config={"loggers": {"console": {}}},  # a logger runs only when configured
            instance=self.instance, partition_key=partition_key, raise_on_error=False,
            tags={**self.REPOSITORY_LABEL, **self.tags, **(tags or {})},
        )
        # A run that ran to its end (the signal came after its last step) stopped "after", not "during".
        self.finished = not self._interrupted(result)
        return result

    def _interrupted(self, result: Any) -> bool:
        return self.instance.get_run_by_id(result.run_id).status == dg.DagsterRunStatus.CANCELED or any(
            e.is_step_failure and was_interrupted(e.step_failure_data.error) for e in result.all_events
        )

    def stop_if_interrupted(self, result: Any) -> None:
        signum = self.signals.received() if self.signals is not None else None
        if signum or self._interrupted(result):
            raise SyncInterrupted(where=self.where(), signum=signum)
