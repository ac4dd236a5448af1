"""Fixtures for the server's own tests: sessions that carry a token, users of their own, and
the official clients' interpreters (each in a venv of its own, see ``benchmarks/official/env.py``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from server_helpers import Api, official_env, session_for

from qibo_client.server import LocalCluster, local_cluster


@pytest.fixture
def api(cluster: LocalCluster) -> Api:
    """``api()`` for the default user; ``api(token)`` for another; ``api(None)`` for no token."""

    def make(token: str | None = cluster.token) -> requests.Session:
        return session_for(cluster.url, token)

    return make


@pytest.fixture
def fresh_user(cluster: LocalCluster) -> str:
    """The token of a user created for this test alone (its job list starts empty)."""
    return cluster.add_user(f"{uuid.uuid4().hex[:12]}@example.org", projects=["qml"])


@pytest.fixture(scope="session")
def official_python() -> Path:
    """The official qibo-client 0.2.4's interpreter (qibo 0.3.2)."""
    official = official_env().prepare(build=True)
    if not official.available:
        pytest.fail(f"the official client's venv could not be built: {official.reason}")
    return Path(official.python)


@pytest.fixture(scope="session")
def tii_quantum_python() -> Path:
    """TII's ``tii-quantum`` 0.1.2's interpreter, unchanged from the package index."""
    tii = official_env().prepare_tii_quantum(build=True)
    if not tii.available:
        pytest.fail(f"tii-quantum's venv could not be built: {tii.reason}")
    return Path(tii.python)


@pytest.fixture(scope="module")
def running() -> Iterator[LocalCluster]:
    """A server of one worker for the module's tests (the web view's and the metrics')."""
    with local_cluster(workers=1) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def stalled() -> Iterator[LocalCluster]:
    """A server that queues jobs and runs none: a job stays queued as long as a test needs."""
    with local_cluster(workers=0) as cluster:
        yield cluster
