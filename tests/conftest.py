"""Fixtures shared by the whole suite: one real reference server on loopback for the session.

Tests speak plain HTTP (or the client library) to it, so what they check is what a user gets.
Starting it costs about a second and a half (workers import and warm qibo), paid once.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import settings

from qibo_client.server import LocalCluster, local_cluster

# Property tests replay: the same examples on every run (a failure names its example), and no
# per-example deadline, which would be a timing assertion on these shared 2-core machines.
settings.register_profile("replayable", derandomize=True, deadline=None)
settings.load_profile("replayable")


@pytest.fixture(scope="session")
def cluster() -> Iterator[LocalCluster]:
    """A running server: ``.url``, ``.token`` (user ``user@localhost``), ``.add_user(email)``."""
    with local_cluster(workers=2) as running:
        yield running


@pytest.fixture(scope="session")
def strict_cluster() -> Iterator[LocalCluster]:
    """The same server in the ``tii`` profile: only what TII's service is known to speak."""
    with local_cluster(workers=2, profile="tii") as running:
        yield running


@pytest.fixture(scope="session")
def strict_2026_cluster() -> Iterator[LocalCluster]:
    """The same server in the ``tii-2026`` profile: TII's service as its 2026 clients read it."""
    with local_cluster(workers=2, profile="tii-2026") as running:
        yield running


#: The server profiles the key client tests and the plugin's program suite run against.
PROFILES = ("default", "tii", "tii-2026")
#: The fixture of each profile's session cluster.
CLUSTER_OF = {"default": "cluster", "tii": "strict_cluster", "tii-2026": "strict_2026_cluster"}


@pytest.fixture(params=PROFILES)
def profile_cluster(request: pytest.FixtureRequest) -> LocalCluster:
    """The session's cluster of each profile in turn.

    Against ``tii`` and ``tii-2026`` (no holds) the client polls on its real schedule, which
    starts at ``protocol.POLL_START`` (50 ms): quick enough for the suite as it is.
    """
    return request.getfixturevalue(CLUSTER_OF[request.param])


@pytest.fixture(autouse=True)
def _no_saved_accounts(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every test sees an empty accounts directory of its own, never the user's saved tokens."""
    monkeypatch.setenv("QIBO_CLIENT_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))
