"""Fixtures for the server's own tests: sessions that carry a token, users of their own."""

from __future__ import annotations

import uuid

import pytest
import requests
from server_helpers import Api, session_for

from qibo_client.server import LocalCluster


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
