"""The client tests force the failures most likely to leak a token, so every sandbox and
Dagster instance a test here gets from a fixture is watched: when the test ends, its
logs at DEBUG, its output and its Dagster runs and events are scanned for every token,
code and secret those sandboxes issued (``SecretWatch``). A sandbox a test starts itself
goes into ``watch.sandboxes`` by hand."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import dagster as dg
import pytest

from xero_pipeline.sandbox import Sandbox
from xero_pipeline_tests.resource_helpers import SecretWatch


@pytest.fixture
def watch(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture) -> Iterator[SecretWatch]:
    caplog.set_level(logging.DEBUG)
    w = SecretWatch()
    yield w
    out, err = capfd.readouterr()
    w.check([caplog.text, out, err, *(r.getMessage() for r in caplog.records)])


@pytest.fixture
def sandbox(sandbox: Sandbox, watch: SecretWatch) -> Sandbox:
    """The shared one-tenant sandbox (``xero_pipeline_tests/conftest.py``), watched."""
    watch.sandboxes.append(sandbox)
    return sandbox


@pytest.fixture
def two_tenants(watch: SecretWatch) -> Iterator[Sandbox]:
    """Two seeded tenants, limits off, watched: for what one tenant cannot show."""
    with Sandbox(tenants=2, scale=0.02, seed=11, limits=False) as sb:
        watch.sandboxes.append(sb)
        yield sb


@pytest.fixture
def instance(instance: dg.DagsterInstance, watch: SecretWatch) -> Iterator[dg.DagsterInstance]:
    """The shared Dagster instance fixture, watched."""
    watch.instances.append(instance)
    yield instance
    # The watch's own check may come after the instance is disposed of (fixtures end in the
    # reverse order they started), so its runs and events are read now.
    watch.release(instance)
