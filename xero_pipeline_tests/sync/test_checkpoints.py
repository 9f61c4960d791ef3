"""Long reads spread over several days of a tenant's call allowance, and checkpoints.

A read that the day's calls cut short commits what it read and where it got to, and
the next day's run continues from there: no page is asked for twice, and once the read
completes the warehouse equals the sandbox's ground truth. The sandbox counts calls per
(app, tenant) in a time-scaled day, as Xero does per organisation.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import UTC, date, datetime

import pytest

from xero_pipeline.errors import XeroUnavailableError
from xero_pipeline.registry import BY_TABLE
from xero_pipeline.sandbox import Sandbox
from xero_pipeline.sync.checkpoints import Checkpoint, journal_runs_left, resume_from, runs_left
from xero_pipeline.sync.objects import sync_object
from xero_pipeline.warehouse.connection import open_warehouse
from xero_pipeline.warehouse.sync_state import SyncState
from xero_pipeline.xero.paging import minimum_calls
from xero_pipeline_tests.resource_helpers import xero_resource
from xero_pipeline_tests.truth import diff_warehouse

INVOICES, JOURNALS = BY_TABLE["invoices"], BY_TABLE["journals"]
DAY_SECONDS = 5.0  # the sandbox's day, time-scaled: longer than a day's 7 calls take on a loaded machine
CALLS_A_DAY = 7


def test_a_checkpoint_survives_its_json_and_applies_only_to_its_own_cursor():
    point = Checkpoint(4, datetime(2026, 11, 1, 9, tzinfo=UTC), datetime(2026, 11, 2, 3, tzinfo=UTC), "incremental")
    assert Checkpoint.from_json(point.to_json()) == point
    state = SyncState("t", "invoices", "2026-11-01T09:00:05+00:00", checkpoint=point.to_json())
    assert resume_from(INVOICES, state, "2026-11-01T09:00:05+00:00") == point
    # The instance and the warehouse parted ways since: the checkpoint is of another read.
    assert resume_from(INVOICES, state, "2026-10-01T00:00:00+00:00") is None
    assert resume_from(JOURNALS, state, state.cursor) is None  # journals resume from their cursor


def test_the_pace_of_a_catch_up_gives_the_runs_left():
    assert runs_left(done=30, total=100, done_this_run=10) == 7
    assert runs_left(done=30, total=None, done_this_run=10) is None
    # Journals come in date order: a run that moved 100 days through the books, 300 days from today.
    assert journal_runs_left(started_at=date(2025, 1, 1), reached=date(2025, 4, 11), today=date(2026, 2, 5)) == 3
    assert journal_runs_left(started_at=date(2025, 1, 1), reached=date(2025, 1, 1), today=date(2026, 2, 5)) is None


@contextmanager
def connector(path):
    conn = open_warehouse(path)
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture
def small_days():
    """A tenant whose day allows CALLS_A_DAY calls and lasts DAY_SECONDS."""
    with Sandbox(tenants=1, scale=0.05, seed=3, limits=True, day_limit=CALLS_A_DAY,
                 time_scale=86_400 / DAY_SECONDS) as sb:
        yield sb


def test_reads_spread_over_days_read_no_page_twice_and_end_equal_to_xero(small_days, tmp_path):
    sandbox = small_days
    tenant = sandbox.tenant_ids[0]
    db = tmp_path / "xero.duckdb"
    truth = sandbox.ground_truth()
    sandbox.reset_stats()
    done: dict[str, bool] = {}
    cursors: dict[str, str | None] = {}
    days = 0
    while not all(done.get(o.table) for o in (INVOICES, JOURNALS)):
        days += 1
        assert days <= 40, "the reads are not getting anywhere"
        # Each day is a new run: a new client that knows nothing of yesterday's budget.
        client = xero_resource(sandbox, tmp_path, rate_window_seconds=0.01).get_client()
        for obj, page_size in ((INVOICES, 20), (JOURNALS, 1000)):
            if done.get(obj.table):
                continue
            result = sync_object(obj, client=client, tenant_id=tenant, connect=lambda: connector(db),
                                 cursor=cursors.get(obj.table), page_size=page_size, keep=0, checkpoint_pages=2)
            cursors[obj.table] = result.cursor
            done[obj.table] = result.complete
            if not result.complete:
                assert result.stopped_by == "daily_budget", result.stopped_by
                assert result.progress, "an unfinished read says how far it got"
        # Within the day's allowance: the allowance stopped the reads, not Xero.
        assert "day" not in sandbox.stats()["rate_limited"], sandbox.stats()["rate_limited"]
        time.sleep(DAY_SECONDS + 0.2)
    calls = sandbox.stats()["calls"][tenant]
    invoices = len(truth[tenant]["Invoices"])
    # Every page once, plus the one If-Modified-Since call that closes a read of several pages.
    assert calls["Invoices"] == -(-invoices // 20) + 1, calls
    assert calls["Journals"] == minimum_calls(JOURNALS, len(truth[tenant]["Journals"])), calls
    assert days >= (calls["Invoices"] + calls["Journals"]) / CALLS_A_DAY
    assert not diff_warehouse(db, truth, [INVOICES, JOURNALS])


def test_an_outage_that_outlasts_the_retries_keeps_the_pages_read_before_it(tmp_path):
    with Sandbox(tenants=1, scale=0.05, seed=3, limits=False) as sandbox:
        tenant = sandbox.tenant_ids[0]
        db = tmp_path / "xero.duckdb"
        truth = sandbox.ground_truth()
        pages = -(-len(truth[tenant]["Invoices"]) // 20)
        sandbox.inject("503", tenant_id=tenant, path="Invoices", after_page=3, count=100)
        client = xero_resource(sandbox, tmp_path, rate_window_seconds=0.01, max_retries=1,
                               backoff_seconds=0.01).get_client()
        with pytest.raises(XeroUnavailableError):
            sync_object(INVOICES, client=client, tenant_id=tenant, connect=lambda: connector(db), cursor=None,
                        page_size=20)
        with open_warehouse(db, read_only=True) as conn:
            assert conn.execute("SELECT count(*) FROM xero.invoices").fetchone()[0] == 3 * 20

        sandbox.clear_faults()
        sandbox.reset_stats()
        result = sync_object(INVOICES, client=client, tenant_id=tenant, connect=lambda: connector(db), cursor=None,
                             page_size=20)
        assert result.complete and result.resumed_from_page == 4
        # The pages committed before the outage are not asked for again; one closing call.
        assert sandbox.stats()["calls"][tenant]["Invoices"] == pages - 3 + 1
        assert not diff_warehouse(db, truth, [INVOICES])


def test_a_read_with_many_rows_a_page_commits_before_its_page_count_says(tmp_path):
    """A merge holds its rows in memory until it commits, so rows bound a checkpoint too:
    at one row, every page of invoices (with its lines and tracking) is a commit."""
    with Sandbox(tenants=1, scale=0.05, seed=3, limits=False) as sandbox:
        tenant = sandbox.tenant_ids[0]
        truth = sandbox.ground_truth()
        pages = -(-len(truth[tenant]["Invoices"]) // 20)
        client = xero_resource(sandbox, tmp_path, rate_window_seconds=0.01).get_client()
        commits = {}
        for rows in (1, 50_000):
            db = tmp_path / f"rows-{rows}.duckdb"
            result = sync_object(INVOICES, client=client, tenant_id=tenant, connect=lambda: connector(db),
                                 cursor=None, page_size=20, checkpoint_pages=1000, checkpoint_rows=rows)
            assert result.complete
            assert not diff_warehouse(db, truth, [INVOICES])
            commits[rows] = result.commits
        # One commit a page, and the last one with the state of the finished read.
        assert commits == {1: pages + 1, 50_000: 1}, (pages, commits)
