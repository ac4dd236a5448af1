"""Fixtures of the backend tests: the plugin pointed at the session's real loopback cluster.

Every test that sets the qibo backend gets it back to numpy afterwards, so the rest of the suite
never runs against a server it did not ask for.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from backend_helpers import plugin_on

from qibo_client.backend import RemoteTIIBackend


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No journal in the user's cache, no progress bars, no credentials from the environment."""
    monkeypatch.setenv("QIBO_CLIENT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("QIBO_CLIENT_PROGRESS", "0")
    monkeypatch.delenv("QIBO_CLIENT_TOKEN", raising=False)
    monkeypatch.delenv("QIBO_CLIENT_URL", raising=False)


@pytest.fixture
def remote(cluster: Any) -> Iterator[RemoteTIIBackend]:
    """qibo's global backend set to the plugin on the session cluster; numpy again afterwards."""
    with plugin_on(cluster) as backend:
        yield backend


@pytest.fixture
def offline() -> RemoteTIIBackend:
    """A plugin instance whose server does not exist: refusals must fire before any request.

    Its format is forced to QASM, so what QASM refuses is refused without asking a server.
    """
    return RemoteTIIBackend(
        token="not-a-real-token", url="http://127.0.0.1:9", circuit_format="qasm"
    )
