"""Fixtures shared by the whole suite: one real reference server on loopback for the session.

Tests speak plain HTTP (or the client library) to it, so what they check is what a user gets.
Starting it costs about a second and a half (workers import and warm qibo), paid once.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from qibo_client.server import LocalCluster, local_cluster


@pytest.fixture(scope="session")
def cluster() -> Iterator[LocalCluster]:
    """A running server: ``.url``, ``.token`` (user ``user@localhost``), ``.add_user(email)``."""
    with local_cluster(workers=2) as running:
        yield running
