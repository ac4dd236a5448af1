"""Batches through the batch extension on the real server, and the fallback on an old one."""

from __future__ import annotations

import json
from typing import Any

import pytest
import responses
from client_fakes import FAKE, job_object

from qibo_client.config import JobNotFoundError, JobTimeoutError
from qibo_client.jobs.job import JobStatus
from qibo_client.jobs.journal import journal_path
from qibo_client.qibo_client import Client

BELL = (
    'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg m[2];\nh q[0];\ncx q[0],q[1];\n'
    "measure q[0] -> m[0];\nmeasure q[1] -> m[1];\n"
)
X0 = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg m[2];\nx q[0];\nmeasure q -> m;\n'


def trips(client: Client) -> list[str]:
    """The requests a client sends from now on (a response hook on its session)."""
    seen: list[str] = []
    client.api.session.hooks["response"].append(
        lambda response, *a, **k: seen.append(
            f"{response.request.method} {response.request.path_url.split('?')[0]}"
        )
    )
    return seen


def test_held_batch_is_one_round_trip_with_results(client: Client) -> None:
    seen = trips(client)
    jobs = client.submit_many([BELL, X0], nshots=40, wait=30)
    assert seen == ["POST /api/jobs/batch/"]
    assert all(job.is_final for job in jobs)
    assert client.wait_all(jobs) == [JobStatus.SUCCESS, JobStatus.SUCCESS]
    assert jobs[1].frequencies() == {"10": 40}
    assert sum(jobs[0].frequencies().values()) == 40
    assert seen == ["POST /api/jobs/batch/"]  # waiting on final jobs asks nothing
    journal = journal_path().read_text().splitlines()
    assert [json.loads(line)["pid"] for line in journal] == [job.pid for job in jobs]


def test_unheld_batch_then_one_batch_wait(client: Client) -> None:
    seen = trips(client)
    jobs = client.submit_many([BELL] * 3, nshots=10)
    assert client.wait_all(jobs, timeout=60) == [JobStatus.SUCCESS] * 3
    assert seen[0] == "POST /api/jobs/batch/"
    assert set(seen[1:]) == {"GET /api/jobs/batch/"}
    assert client.features.batches is True


def test_batch_wait_timeout_names_the_unfinished_jobs(held: Any) -> None:
    with Client(held.url, held.token, progress=False, journal=False) as client:
        jobs = client.submit_many([BELL, BELL], nshots=10, wait=0.01)
        assert [job.is_final for job in jobs] == [False, False]
        with pytest.raises(JobTimeoutError) as caught:
            client.wait_all(jobs, timeout=0.05)
        assert jobs[0].pid in str(caught.value)
        assert jobs[1].pid in str(caught.value)


def test_batch_wait_on_a_deleted_job_is_not_found(held: Any) -> None:
    with Client(held.url, held.token, progress=False, journal=False) as client:
        jobs = client.submit_many([BELL, BELL], nshots=10)
        client.delete_job(jobs[1].pid)
        with pytest.raises(JobNotFoundError, match=jobs[1].pid):
            client.wait_all(jobs, timeout=0.05)
        assert client.features.batches is True  # a 404 naming a job is not "no batch endpoint"


def test_old_server_falls_back_to_one_post_per_job(
    fake: responses.RequestsMock, fake_client: Client
) -> None:
    """The ``fake`` server has no batch extension (its batch paths answer 405 and 404)."""
    fake.post(f"{FAKE}/api/jobs/", json={"pid": "j1"})
    fake.post(f"{FAKE}/api/jobs/", json={"pid": "j2"})
    fake.get(f"{FAKE}/api/jobs/j1/", json=job_object("j1", "success", frequencies={"0": 10}))
    fake.get(f"{FAKE}/api/jobs/j2/", json=job_object("j2", "success", frequencies={"1": 10}))
    jobs = fake_client.submit_many([BELL, BELL], nshots=10, wait=5)
    assert [job.pid for job in jobs] == ["j1", "j2"]
    assert fake_client.features.batches is False
    assert fake_client.wait_all(jobs, timeout=5) == [JobStatus.SUCCESS] * 2
    assert jobs[1].frequencies() == {"1": 10}
    batch_calls = [c for c in fake.calls if "/batch/" in (c.request.url or "")]
    assert len(batch_calls) == 1  # asked once, remembered
    fake_client.submit_many([BELL], nshots=10)
    assert len([c for c in fake.calls if "/batch/" in (c.request.url or "")]) == 1


def test_old_server_without_batch_get_falls_back_to_per_job_waits(
    fake: responses.RequestsMock, fake_client: Client
) -> None:
    fake.post(f"{FAKE}/api/jobs/", json={"pid": "j1"})
    fake.get(f"{FAKE}/api/jobs/j1/", json=job_object("j1", "success", frequencies={"0": 10}))
    job = fake_client.submit(BELL, nshots=10)
    assert fake_client.wait_all([job], timeout=5) == [JobStatus.SUCCESS]
    assert fake_client.features.batches is False


def test_malformed_batch_answer_is_refused(
    fake: responses.RequestsMock, fake_client: Client
) -> None:
    from qibo_client.config import MalformedResponseError

    fake.replace(responses.POST, f"{FAKE}/api/jobs/batch/", json={"pids": ["only-one"]})
    with pytest.raises(MalformedResponseError):
        fake_client.submit_many([BELL, BELL], nshots=10)
    fake.replace(
        responses.POST,
        f"{FAKE}/api/jobs/batch/",
        json={"pids": ["a"], "statuses": ["vanished"]},
    )
    from qibo_client.config import UnknownJobStatusError

    with pytest.raises(UnknownJobStatusError):
        fake_client.submit_many([BELL], nshots=10)
