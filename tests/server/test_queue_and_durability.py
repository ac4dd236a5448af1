"""The queue (positions, bounded waits) and durability across a restart on the same database.

``workers=0`` makes a server that accepts and queues but runs nothing, so "still queued" is a fact
of the test, not a race.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from server_helpers import BELL, qasm, session_for

from qibo_client.server import LocalCluster, local_cluster


@pytest.fixture(scope="module")
def idle() -> Iterator[LocalCluster]:
    with local_cluster(workers=0) as cluster:
        yield cluster


def post(session: requests.Session, url: str, **headers: str) -> requests.Response:
    return session.post(f"{url}/api/jobs/", json={"circuit": BELL, "nshots": 10}, headers=headers)


def test_queue_positions_and_estimates(idle: LocalCluster) -> None:
    session = session_for(idle.url, idle.add_user("queue@example.org"))
    before = len(session.get(f"{idle.url}/api/jobs/").json())
    pids = [post(session, idle.url).json()["pid"] for _ in range(3)]
    jobs = [session.get(f"{idle.url}/api/jobs/{pid}/").json() for pid in pids]
    assert [job["status"] for job in jobs] == ["queueing"] * 3
    positions = [job["queue_position"] for job in jobs]
    assert positions == sorted(positions)
    assert positions[1] == positions[0] + 1 == positions[2] - 1
    assert all(job["etd_seconds"] is None for job in jobs)  # no workers: no estimate to give
    assert jobs[0]["frequencies"] is None
    assert jobs[0]["result_path"] is None

    assert session.delete(f"{idle.url}/api/jobs/{pids[0]}/").status_code == 200
    moved = session.get(f"{idle.url}/api/jobs/{pids[1]}/").json()
    assert moved["queue_position"] == positions[0]
    assert len(session.get(f"{idle.url}/api/jobs/").json()) == before + 2


def test_bounded_waits_answer_while_queued(idle: LocalCluster) -> None:
    session = session_for(idle.url, idle.token)
    answer = post(session, idle.url, Prefer="wait=0.05")
    assert answer.status_code == 200
    assert set(answer.json()) == {"pid", "status"}
    assert answer.json()["status"] == "queueing"
    assert "Preference-Applied" not in answer.headers

    pid = answer.json()["pid"]
    job = session.get(f"{idle.url}/api/jobs/{pid}/", params={"wait": "0.05"})
    assert job.status_code == 200
    assert job.json()["status"] == "queueing"


def test_queued_jobs_survive_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "cluster.sqlite3"
    with local_cluster(workers=0, db_path=db) as first:
        session = session_for(first.url, first.token)
        kept = post(session, first.url, **{"Idempotency-Key": "restart-key"}).json()["pid"]
        dropped = post(session, first.url).json()["pid"]
        assert session.delete(f"{first.url}/api/jobs/{dropped}/").status_code == 200
        assert session.get(f"{first.url}/api/jobs/{kept}/").json()["status"] == "queueing"

    with local_cluster(workers=1, db_path=db) as second:
        # Same user (same email), new token: the jobs are still theirs.
        session = session_for(second.url, second.token)
        job = session.get(f"{second.url}/api/jobs/{kept}/", params={"wait": 30}).json()
        assert job["status"] == "success", job["stderr"]
        assert sum(job["frequencies"].values()) == 10
        assert session.get(f"{second.url}/api/jobs/{dropped}/").status_code == 404
        assert [j["pid"] for j in session.get(f"{second.url}/api/jobs/").json()] == [kept]
        # The idempotency key outlives the restart too.
        again = post(session, second.url, **{"Idempotency-Key": "restart-key"}).json()
        assert again["pid"] == kept
        # An old token no longer opens anything.
        assert (
            session_for(second.url, first.token).get(f"{second.url}/api/jobs/").status_code == 401
        )


def test_a_running_job_survives_a_stop(tmp_path: Path) -> None:
    db = tmp_path / "cluster.sqlite3"
    # About half a minute of simulation on numpy: it is certainly still running when the server
    # stops, and stopping does not wait for it (the worker is terminated; the job runs again next
    # start). On qibojit it would take a second: too close to the stop to be certain.
    layer = "\n".join(f"h q[{i}];\ncx q[{i}],q[{(i + 1) % 22}];" for i in range(22))
    long_circuit = qasm(22, "\n".join([layer] * 3), measured=2)
    with local_cluster(workers=1, db_path=db, engine="numpy") as first:
        session = session_for(first.url, first.token)
        response = session.post(f"{first.url}/api/jobs/", json={"circuit": long_circuit})
        pid = response.json()["pid"]
        assert session.get(f"{first.url}/api/jobs/{pid}/").json()["status"] == "running"

    with local_cluster(workers=0, db_path=db) as second:
        session = session_for(second.url, second.token)
        job = session.get(f"{second.url}/api/jobs/{pid}/").json()
        assert job["status"] == "queueing"
        assert job["queue_position"] == 1


def test_too_many_unfinished_jobs_is_429() -> None:
    with local_cluster(workers=0, max_queued_per_user=2) as small:
        session = session_for(small.url, small.token)
        assert [post(session, small.url).status_code for _ in range(2)] == [200, 200]
        refused = post(session, small.url)
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) > 0
        assert "unfinished" in refused.json()["detail"]
        assert len(session.get(f"{small.url}/api/jobs/").json()) == 2
        # Another user has a queue of their own.
        other = session_for(small.url, small.add_user("other@example.org"))
        assert post(other, small.url).status_code == 200


def test_queue_estimates_count_what_the_running_jobs_have_taken() -> None:
    """A job queued behind one that has run for 5 s is not told 50 ms (the old estimate)."""
    from qibo_client.server.jobs.runner import start_estimate, time_left

    assert time_left(5.0, 0.05) >= 2.5
    assert start_estimate([5.0], workers=1, average=0.05, position=1) >= 2.5
    assert start_estimate([5.0], workers=1, average=0.05, position=3) >= 2.6
    assert start_estimate([5.0], workers=2, average=0.05, position=1) == 0.0  # a free worker
    assert start_estimate([], workers=2, average=1.0, position=5) == 2.0
    assert start_estimate([], workers=0, average=1.0, position=1) is None
