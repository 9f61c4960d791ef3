"""``make ui-check``: the Dagster UI as a user sees it, in a headless Chromium.

Starts the sandbox (two organisations), fills a small warehouse with ``xero-pipeline
sync`` (as a user does: the runs carry the organisations' names), then ``dagster dev`` on
a free port with its own DAGSTER_HOME in a temporary folder, and loads the asset catalog,
``xero/invoices`` (overview, partitions, events, checks) and the automation page. It
asserts what a user must see there (descriptions, column descriptions, tenant names,
check results, the schedule and the sensors), saves a screenshot of each page to a
folder it prints, and stops everything it started by PID.

Not part of ``make test`` (it needs a browser). ``make ui-check`` installs Playwright from
PyPI and Chromium: Playwright's own browser download when it can be had, else the
system's ``chromium`` (Debian's package), which Playwright drives as well.

    python -m xero_pipeline_tests.ui_check [--keep]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NoReturn

import requests

from xero_pipeline.defs.descriptions import describe
from xero_pipeline.registry import BY_TABLE
from xero_pipeline.sandbox import Sandbox
from xero_pipeline_tests import ROOT
from xero_pipeline_tests.processes import free_port, stop, wait_until

SYSTEM_CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
PAGE_TIMEOUT_MS = 60_000


class UiCheckFailed(AssertionError):
    pass


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise UiCheckFailed(what)
    print(f"  ok: {what}")


def fail(message: str) -> NoReturn:
    raise UiCheckFailed(message)


def sync_warehouse(env: dict[str, str], cwd: Path) -> None:
    """``xero-pipeline sync`` as a user runs it: every object of every organisation."""
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "xero_pipeline.cli.main", "sync"], env=env, cwd=cwd,
                            capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        raise UiCheckFailed(f"xero-pipeline sync failed ({result.returncode}):\n{result.stdout[-3000:]}"
                            f"\n{result.stderr[-3000:]}")
    print(f"synced the sandbox in {time.monotonic() - started:.0f} s")


def location_loaded(url: str) -> bool:
    body = requests.post(f"{url}/graphql", timeout=10, json={"query": """{ workspaceOrError { ... on Workspace {
        locationEntries { loadStatus locationOrLoadError { __typename } } } } }"""}).json()
    entries = body["data"]["workspaceOrError"]["locationEntries"]
    return bool(entries) and all(e["loadStatus"] == "LOADED" and e["locationOrLoadError"]["__typename"] ==
                                 "RepositoryLocation" for e in entries)


def launch_browser(playwright):
    try:
        return playwright.chromium.launch(headless=True)
    except Exception as exc:  # Playwright's own build is missing: the system's Chromium will do
        for path in SYSTEM_CHROMIUM:
            if Path(path).exists():
                return playwright.chromium.launch(headless=True, executable_path=path)
        raise UiCheckFailed(f"no Chromium: Playwright's ({exc.__class__.__name__}) nor one of {SYSTEM_CHROMIUM}; "
                            "`make ui-check` installs one") from None


class Pages:
    """One browser page, a screenshot per view, and the view's visible text."""

    def __init__(self, page, base: str, shots: Path) -> None:
        self.page, self.base, self.shots = page, base, shots

    def open(self, name: str, path: str, ready: str) -> str:
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        self.page.goto(f"{self.base}{path}", wait_until="domcontentloaded")
        try:
            # "attached": long keys are middle-truncated, the full text sits in a hidden measuring element.
            self.page.get_by_text(ready, exact=False).first.wait_for(state="attached", timeout=PAGE_TIMEOUT_MS)
        except PlaywrightTimeout:
            self.snap(name)
            raise UiCheckFailed(f"{path}: {ready!r} did not appear (screenshot {name}.png)") from None
        self.page.wait_for_timeout(1500)  # let the lazily loaded panels fill in
        skip = self.page.get_by_role("button", name="Skip")
        if skip.count():  # the first visit's "Join the Dagster community" dialog covers the page
            skip.first.click()
            self.page.wait_for_timeout(500)
        return self.snap(name)

    def snap(self, name: str) -> str:
        self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)
        text = self.page.inner_text("body")
        (self.shots / f"{name}.txt").write_text(text)  # what the assertions read, beside the picture
        return text

    def click(self, text: str) -> None:
        self.page.get_by_text(text, exact=True).first.click()
        self.page.wait_for_timeout(1500)


def check_ui(base: str, shots: Path, names: list[str], tenants: list[str]) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_browser(playwright)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.set_default_timeout(PAGE_TIMEOUT_MS)
            pages = Pages(page, base, shots)

            print("asset catalog")
            text = pages.open("1_catalog", "/assets", "invoices")
            expect(all(t in text for t in ("invoices", "contacts", "journals", "tenants")),
                   "the catalog lists the Xero tables")

            print("xero/invoices: overview")
            text = pages.open("2_invoices_overview", "/assets/xero/invoices", "Amount remaining to be paid")
            description = describe(BY_TABLE["invoices"]).split(".")[0]  # "Xero Invoices: one row per sales ..."
            expect(description in text, "the asset's description is shown")
            expect("Amount remaining to be paid on invoice" in text, "amount_due has Xero's description")
            expect("partition key" in text, "tenant_id has ours")
            expect(any(n in text for n in names), "the latest materialization names its organisation")
            expect("Metadata\nTable\nPlots" in text, "the overview's Metadata section offers Table and Plots")
            pages.click("Plots")
            text = pages.snap("2b_invoices_metadata_plots")
            expect("rows_changed" in text and "api_calls" in text, "the numeric metadata is plotted")

            print("xero/invoices: partitions")
            text = pages.open("3_invoices_partitions", "/assets/xero/invoices?view=partitions", tenants[0])
            html = page.content()
            expect(all(t in html for t in tenants), "each tenant is a partition")
            text = pages.open("3b_invoices_partition", f"/assets/xero/invoices?view=partitions&partition={tenants[0]}",
                              "tenant_name")
            expect(names[0] in text, "a partition's latest materialization names its organisation")

            print("xero/invoices: events")
            text = pages.open("4_invoices_events", "/assets/xero/invoices?view=events", "rows_changed")
            expect(any(n in text for n in names) and "rows_changed" in text, "each event shows its metadata")

            print("xero/invoices: checks")
            text = pages.open("6_invoices_checks", "/assets/xero/invoices?view=checks", "primary_key")
            expect(all(c in text for c in ("primary_key", "totals_match_lines", "item_count_matches_xero")),
                   "the invoices checks are listed")
            expect(text.count("Succeeded") >= 3, "each check's latest result is shown")
            pages.click("primary_key")
            text = pages.snap("7_invoices_check_primary_key")
            expect(any(f"tenant {n} (" in text for n in names), "a check result's text names the organisation")

            print("automation")
            text = pages.open("8_automation", "/automation", "xero_daily")
            expect(all(a in text for a in ("xero_daily", "xero_tenants", "xero_health")),
                   "the schedule and both sensors are listed")
        finally:
            browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (warehouse, instance, logs)")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="xero-ui-check-"))
    shots = Path(tempfile.mkdtemp(prefix="xero-ui-check-screenshots-"))
    home = work / "dagster_home"
    home.mkdir()
    shutil.copyfile(ROOT / "dagster.yaml", home / "dagster.yaml")
    log = work / "dagster_dev.log"
    try:
        with Sandbox(tenants=2, scale=0.01, seed=7, limits=False) as sandbox:
            names = [t["name"] for t in sandbox.info()["tenants"]]
            env = {k: v for k, v in os.environ.items() if not k.startswith("XERO_")}
            env |= {"DAGSTER_HOME": str(home), **sandbox.pipeline_env(token_store=str(work / "tokens.json")),
                    "XERO_WAREHOUSE": str(work / "xero.duckdb"), "XERO_RATE_WINDOW_SECONDS": "1"}
            sync_warehouse(env, work)
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            with log.open("w") as out:
                # From DAGSTER_HOME, as `make dev` starts it.
                proc = subprocess.Popen(
                    [sys.executable, "-m", "dagster", "dev", "-w", str(ROOT / "workspace.yaml"),
                     "-h", "127.0.0.1", "-p", str(port)],
                    cwd=home, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            print(f"dagster dev (PID {proc.pid}) on {base}")
            try:
                wait_until("the code location", lambda: location_loaded(base), timeout=120, proc=proc, log=log,
                           fail=fail)
                check_ui(base, shots, names, sandbox.tenant_ids)
            finally:
                stop(proc)
    except UiCheckFailed as exc:
        print(f"\nUI CHECK FAILED: {exc}\nscreenshots: {shots}\nlogs and instance: {work}", file=sys.stderr)
        return 1
    print(f"\nUI check passed. Screenshots: {shots}")
    if args.keep:
        print(f"warehouse, instance and logs: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
