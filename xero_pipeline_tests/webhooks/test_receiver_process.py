"""``xero-pipeline webhooks`` as a process: killed in the middle of a delivery, it loses nothing,
because the sandbox retries and the store keeps each event once."""

from __future__ import annotations

import random
import time

from xero_pipeline.sandbox import Sandbox
from xero_pipeline.sandbox.books.edits import edit_records
from xero_pipeline.webhooks.store import EventStore
from xero_pipeline_tests.webhooks.receivers import ReceiverProcess


def test_a_receiver_killed_mid_delivery_loses_nothing_and_stores_each_event_once(tmp_path):
    store_file = tmp_path / "events.sqlite3"
    receiver = ReceiverProcess(store_file, tmp_path / "receiver.log").start()
    # 3600: the sandbox retries every 15 Xero-minutes, a quarter of a real second.
    with Sandbox(tenants=1, scale=0.02, seed=9, limits=False, time_scale=3600) as sandbox:
        try:
            sandbox.webhooks.timeout = 1.0  # real seconds before an unanswered delivery counts as failed
            assert sandbox.subscribe_webhooks(receiver.url, receiver.key)["subscription"]["status"] == "ACTIVE"
            tenant = sandbox.tenant_ids[0]
            first = edit_records(sandbox.books[tenant], "Invoices", 2, rng=random.Random(1))
            assert sandbox.webhooks.wait_idle(30)

            receiver.pause()  # the next delivery is accepted by the kernel but never answered...
            second = edit_records(sandbox.books[tenant], "Invoices", 3, rng=random.Random(2))
            deadline = time.monotonic() + 30
            while sandbox.webhooks.status()["attempts"] < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            receiver.kill()  # ...and the receiver dies with it in flight
            assert not sandbox.webhooks.wait_idle(0.5)

            receiver.start()  # restarted on the same port, the same store
            assert sandbox.webhooks.wait_idle(30)
            assert sandbox.webhooks.status()["failed_attempts"] >= 1
        finally:
            receiver.stop()
    stored = EventStore(store_file).after(0)
    assert sorted(e.resource_id for e in stored) == sorted(first + second)


def test_the_receiver_refuses_to_start_without_its_key_and_says_where_to_find_it(monkeypatch, capsys, tmp_path):
    from xero_pipeline.cli.main import main

    monkeypatch.delenv("XERO_WEBHOOK_KEY", raising=False)
    assert main(["webhooks", "--port", "8750", "--store", str(tmp_path / "events.sqlite3")]) == 2
    err = capsys.readouterr().err
    assert "XERO_WEBHOOK_KEY is not set" in err and "developer portal" in err
    assert not (tmp_path / "events.sqlite3").exists()  # nothing was started or created
