"""Fixtures of the client tests: an isolated journal, no live display, a fake server for replies
that a real server cannot give (the live server comes from the top-level ``cluster`` fixture)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
from client_fakes import FAKE, FAKE_TOKEN, LISTING, VERSIONS
from faults import FaultServer

from qibo_client.http.session import default_retry
from qibo_client.qibo_client import Client
from qibo_client.server import local_cluster


@pytest.fixture(autouse=True)
def journal_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test writes its journal under its own tmp_path, never in the user's cache."""
    monkeypatch.setenv("QIBO_CLIENT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("QIBO_CLIENT_TOKEN", raising=False)
    monkeypatch.delenv("QIBO_CLIENT_URL", raising=False)
    monkeypatch.delenv("QIBO_CLIENT_PROGRESS", raising=False)
    return tmp_path / "cache"


@pytest.fixture
def fake() -> Iterator[responses.RequestsMock]:
    """A fake server answering the version check; tests add the replies they need.

    It is an older server, without the batch extension: its path answers 404 (GET) and 405 (POST).
    """
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{FAKE}/api/qibo_version/", json=VERSIONS)
        mock.get(f"{FAKE}/api/jobs/batch/", status=404, json={"detail": "no job 'batch'"})
        mock.post(f"{FAKE}/api/jobs/batch/", status=405, json={"detail": "Method Not Allowed"})
        yield mock


@pytest.fixture
def fake_client(fake: responses.RequestsMock) -> Client:
    """A client of the fake server with instant retries (no backoff sleeps in tests).

    It skips the version check, so it learns holds and batches by trying them (and sends
    circuits as given, QASM text included, with no POST re-sent).
    """
    return Client(
        FAKE,
        FAKE_TOKEN,
        progress=False,
        check_versions=False,
        retry=default_retry(backoff_factor=0),
    )


@pytest.fixture
def listing_client(fake: responses.RequestsMock) -> Client:
    """A client of the fake server answering as a server of ours that lists its extensions."""
    fake.replace(responses.GET, f"{FAKE}/api/qibo_version/", json=LISTING)
    return Client(FAKE, FAKE_TOKEN, progress=False, retry=default_retry(backoff_factor=0))


@pytest.fixture
def client(cluster: Any) -> Iterator[Client]:
    """A client of the session's real cluster, without a progress display."""
    with Client(cluster.url, cluster.token, progress=False) as client:
        yield client


@pytest.fixture(scope="session")
def held() -> Iterator[Any]:
    """A cluster whose workers never run anything: jobs stay queued as long as a test needs."""
    with local_cluster(workers=0) as cluster:
        yield cluster


@pytest.fixture
def faults() -> Iterator[FaultServer]:
    """A loopback server that misbehaves as each test scripts it (see ``faults.py``)."""
    with FaultServer() as server:
        yield server
