"""The batch extension: ``POST /api/jobs/batch/`` and ``GET /api/jobs/batch/``, on loopback."""

from __future__ import annotations

import uuid
from pathlib import Path

import requests
from server_helpers import BELL, Api, qasm, session_for

from qibo_client.server import LocalCluster, local_cluster


def batch_post(
    session: requests.Session, url: str, jobs: list[dict], **headers: str
) -> requests.Response:
    return session.post(f"{url}/api/jobs/batch/", json={"jobs": jobs}, headers=headers)


def test_batch_waits_and_answers_every_job_in_order(cluster: LocalCluster, api: Api) -> None:
    jobs = [{"circuit": BELL, "nshots": 50}, {"circuit": qasm(3, "x q[2];"), "nshots": 20}]
    response = batch_post(api(), cluster.url, jobs, Prefer="wait=30")
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["pids"]) == 2
    assert [job["pid"] for job in body["jobs"]] == body["pids"]
    assert [job["status"] for job in body["jobs"]] == ["success", "success"]
    assert sum(body["jobs"][0]["frequencies"].values()) == 50
    assert body["jobs"][1]["frequencies"] == {"001": 20}


def test_batch_without_wait_answers_pids_then_get_collects(cluster: LocalCluster, api: Api) -> None:
    session = api()
    pids = batch_post(session, cluster.url, [{"circuit": BELL, "nshots": 10}] * 3).json()["pids"]
    assert len(set(pids)) == 3
    asked = [pids[2], pids[0]]
    response = session.get(
        f"{cluster.url}/api/jobs/batch/", params={"pids": ",".join(asked), "wait": 30}
    )
    assert response.status_code == 200, response.text
    jobs = response.json()["jobs"]
    assert [job["pid"] for job in jobs] == asked
    assert {job["status"] for job in jobs} == {"success"}
    assert sum(jobs[0]["frequencies"].values()) == 10


def test_one_bad_job_refuses_the_whole_batch(
    cluster: LocalCluster, api: Api, fresh_user: str
) -> None:
    session = api(fresh_user)
    jobs = [
        {"circuit": BELL, "nshots": 10, "project": "qml"},
        {"circuit": qasm(2, measured=0), "nshots": 10, "project": "qml"},
    ]
    refused = batch_post(session, cluster.url, jobs)
    assert refused.status_code == 400
    assert refused.json()["detail"].startswith("jobs[1]: the circuit measures nothing")
    shaped = batch_post(session, cluster.url, [jobs[0], {"circuit": BELL, "nshots": "ten"}])
    assert shaped.status_code == 422
    assert shaped.json()["detail"].startswith("jobs[1]: 'nshots' must be")
    assert session.get(f"{cluster.url}/api/jobs/").json() == []  # nothing half done


def test_batch_shape_and_size_refusals(cluster: LocalCluster, api: Api) -> None:
    session = api()
    assert session.post(f"{cluster.url}/api/jobs/batch/", json=[BELL]).status_code == 422
    assert batch_post(session, cluster.url, []).status_code == 422
    too_many = batch_post(session, cluster.url, [{"circuit": BELL}] * 1001)
    assert too_many.status_code == 422
    assert "1000" in too_many.json()["detail"]
    assert batch_post(session, cluster.url, ["text"]).json()["detail"].startswith("jobs[0]: ")
    assert api(None).post(f"{cluster.url}/api/jobs/batch/", json={"jobs": []}).status_code == 401


def test_batch_idempotency_key_names_the_same_jobs(
    cluster: LocalCluster, api: Api, fresh_user: str
) -> None:
    session = api(fresh_user)
    key = uuid.uuid4().hex
    jobs = [{"circuit": BELL, "nshots": 10, "project": "qml"}] * 2
    first = batch_post(session, cluster.url, jobs, **{"Idempotency-Key": key}).json()["pids"]
    again = batch_post(session, cluster.url, jobs, **{"Idempotency-Key": key}).json()["pids"]
    assert again == first
    assert len(session.get(f"{cluster.url}/api/jobs/").json()) == 2
    other_size = batch_post(session, cluster.url, jobs[:1], **{"Idempotency-Key": key})
    assert other_size.status_code == 409
    assert "new key" in other_size.json()["detail"]
    # The same key on a single POST is another key: it makes a job of its own.
    single = session.post(
        f"{cluster.url}/api/jobs/",
        json=jobs[0],
        headers={"Idempotency-Key": key},
    ).json()["pid"]
    assert single not in first


def test_batch_get_is_the_callers_own_jobs_only(
    cluster: LocalCluster, api: Api, fresh_user: str
) -> None:
    mine = batch_post(api(), cluster.url, [{"circuit": BELL, "nshots": 10}]).json()["pids"]
    other = api(fresh_user)
    response = other.get(f"{cluster.url}/api/jobs/batch/", params={"pids": mine[0]})
    assert response.status_code == 404
    assert mine[0] in response.json()["detail"]
    assert other.get(f"{cluster.url}/api/jobs/batch/", params={"pids": ""}).status_code == 422
    bad_wait = api().get(f"{cluster.url}/api/jobs/batch/", params={"pids": mine[0], "wait": "x"})
    assert bad_wait.status_code == 422


def test_unfinished_batch_answers_statuses_and_counts_towards_the_limit(tmp_path: Path) -> None:
    with local_cluster(workers=0, max_queued_per_user=3, db_path=tmp_path / "q.db") as small:
        session = session_for(small.url, small.token)
        jobs = [{"circuit": BELL, "nshots": 10}] * 2
        held = batch_post(session, small.url, jobs, Prefer="wait=0.01").json()
        assert held["statuses"] == ["queueing", "queueing"]
        assert "jobs" not in held
        got = session.get(f"{small.url}/api/jobs/batch/", params={"pids": ",".join(held["pids"])})
        assert [job["queue_position"] for job in got.json()["jobs"]] == [1, 2]
        refused = batch_post(session, small.url, jobs)
        assert refused.status_code == 429
        assert "2 more jobs" in refused.json()["detail"]
        assert len(session.get(f"{small.url}/api/jobs/").json()) == 2
        # Deleting frees room (the in-memory count follows deletions).
        session.delete(f"{small.url}/api/jobs/{held['pids'][0]}/")
        assert batch_post(session, small.url, jobs).status_code == 200
    # The count is rebuilt from the file at start.
    with local_cluster(workers=0, max_queued_per_user=3, db_path=tmp_path / "q.db") as again:
        session = session_for(again.url, again.token)
        assert batch_post(session, again.url, jobs[:1]).status_code == 429
