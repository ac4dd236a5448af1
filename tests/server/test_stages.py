"""Timed stages (``stage_seconds``): a job that lives on the server as on TII's service.

A job shows queueing, pending, running and postprocessing, each for at least ``stage_seconds``,
before its end; a held request is answered when the job it shows ends; unset, nothing changes.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from qibo import Circuit, gates

from qibo_client.protocol import MAX_WAIT_SECONDS
from qibo_client.server import LocalCluster, local_cluster
from qibo_client.server.jobs.stages import STAGES, staged, time_left

#: Seconds per stage of the clusters below: a Bell job lives 4 x this.
STAGE = 0.05
#: How many reads a job may take to end (each answers at once: a bound, not a sleep).
MAX_READS = 5000


def created(seconds_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds_ago)).isoformat()


def test_the_shown_stage_is_the_earlier_of_the_real_one_and_the_age() -> None:
    ten = 10.0  # seconds per stage: the test's own time cannot move a job to the next stage
    assert staged("success", created(25.0), ten) == "running"  # ended, but only 2.5 stages old
    assert staged("queueing", created(25.0), ten) == "queueing"  # really behind: shown as is
    assert staged("error", created(1.0), ten) == "queueing"
    assert staged("success", created(45.0), ten) == "success"  # past all stages: the real one
    assert staged("running", created(45.0), ten) == "running"  # never ends sooner than it does
    assert time_left(created(45.0), ten) == 0.0
    assert 14.0 < time_left(created(25.0), ten) <= 15.0


def bell() -> dict[str, Any]:
    circuit = Circuit(2)
    circuit.add(gates.H(0))
    circuit.add(gates.CNOT(0, 1))
    circuit.add(gates.M(0, 1))
    return {"circuit": dict(circuit.raw), "nshots": 100, "device": "sim", "project": "personal"}


@pytest.fixture(scope="module", params=["tii-2026", "default"])
def staged_cluster(request: pytest.FixtureRequest) -> Iterator[LocalCluster]:
    with local_cluster(workers=1, profile=request.param, stage_seconds=STAGE) as running:
        yield running


def session(cluster: LocalCluster) -> requests.Session:
    http = requests.Session()
    http.headers["x-api-token"] = cluster.token
    return http


def test_a_polled_job_passes_every_stage_in_order(staged_cluster: LocalCluster) -> None:
    http = session(staged_cluster)
    pid = http.post(f"{staged_cluster.url}/api/jobs/", json=bell(), timeout=10).json()["pid"]
    seen = []
    for _ in range(MAX_READS):
        job = http.get(f"{staged_cluster.url}/api/jobs/{pid}/", timeout=10).json()
        seen.append(job["status"])
        if job["status"] == "success":
            break
    order = [*STAGES, "success"]
    shown = [status for status, _ in itertools.groupby(seen)]
    assert shown[-1] == "success"
    assert shown == sorted(shown, key=order.index)  # never back, never a stage skipped twice
    assert seen.count("postprocessing") > 1  # a stage that lasts, not the one read after the end
    assert job["frequencies"]["00"] + job["frequencies"]["11"] == 100


@pytest.mark.parametrize("staged_cluster", ["default"], indirect=True)  # the one that holds
def test_a_held_read_is_answered_when_the_shown_job_ends(staged_cluster: LocalCluster) -> None:
    http = session(staged_cluster)
    pid = http.post(f"{staged_cluster.url}/api/jobs/", json=bell(), timeout=10).json()["pid"]
    # The longest hold the protocol allows: a worker still warming up on a loaded machine (the
    # cluster may be new) must not end the hold before the job does.
    hold = MAX_WAIT_SECONDS
    job = http.get(f"{staged_cluster.url}/api/jobs/{pid}/?wait={hold:g}", timeout=hold + 10).json()
    assert job["status"] == "success"  # held past the stages, not answered at the worker's end
