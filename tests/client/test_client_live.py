"""The happy paths against the real reference server on loopback (the session ``cluster``)."""

from __future__ import annotations

import argparse
import json
import logging
from typing import Any

import numpy as np
import pytest

from qibo_client.cli import jobs as journal_cli
from qibo_client.config import AuthenticationError, JobNotFoundError, JobTimeoutError
from qibo_client.jobs.job import JobStatus
from qibo_client.qibo_client import Client
from qibo_client.results.counts import frequencies_from_archive
from qibo_client.tii import TII

BELL = (
    'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg m[2];\nh q[0];\ncx q[0],q[1];\n'
    "measure q[0] -> m[0];\nmeasure q[1] -> m[1];\n"
)


def bell_circuit() -> Any:
    from qibo import Circuit, gates

    circuit = Circuit(2)
    circuit.add(gates.H(0))
    circuit.add(gates.CNOT(0, 1))
    circuit.add(gates.M(0, 1))
    return circuit


class Counter:
    """Counts the HTTP round trips a client makes (a response hook on its session)."""

    def __init__(self, client: Client) -> None:
        self.requests: list[str] = []
        client.api.session.hooks["response"].append(self._hook)

    def _hook(self, response: Any, *args: Any, **kwargs: Any) -> None:
        self.requests.append(f"{response.request.method} {response.request.path_url}")


def run_cli(command: str, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog=f"qibo-client {command}")
    getattr(journal_cli, f"add_{command}_arguments")(parser)
    return int(getattr(journal_cli, f"{command}_main")(parser.parse_args(argv)))


def test_bell_run_circuit_done_when(cluster: Any) -> None:
    counts = Client(cluster.url, cluster.token).run_circuit(bell_circuit(), nshots=1000)
    assert isinstance(counts, np.ndarray)
    assert counts.dtype == np.int64
    assert counts.shape == (4,)
    assert counts[1] == 0
    assert counts[2] == 0
    assert counts.sum() == 1000
    assert counts[0] > 0
    assert counts[3] > 0


def test_a_fast_job_costs_one_round_trip(client: Client) -> None:
    trips = Counter(client)
    counts = client.run_circuit(BELL, nshots=100)
    assert counts is not None
    assert counts.sum() == 100
    assert trips.requests == ["POST /api/jobs/"]


def test_wait_is_one_held_request(client: Client) -> None:
    job = client.submit(BELL, nshots=50)
    trips = Counter(client)
    assert job.wait(timeout=60) is JobStatus.SUCCESS
    assert len(trips.requests) == 1
    assert trips.requests[0].startswith(f"GET /api/jobs/{job.pid}/?wait=")
    assert sum(job.frequencies().values()) == 50
    assert len(trips.requests) == 1  # cached once final
    assert client.features.holds is not False


def test_submit_get_list_delete(client: Client) -> None:
    job = client.submit(BELL, nshots=20, wait=10)
    assert job.is_final
    again = client.get_job(job.pid)
    assert again.frequencies() == job.frequencies()
    assert job.pid in {item["pid"] for item in client.jobs()}
    client.delete_job(job.pid)
    with pytest.raises(JobNotFoundError):
        client.get_job(job.pid)


def test_batch_submit_and_wait_all(client: Client) -> None:
    jobs = client.submit_many([BELL, BELL, bell_circuit()], nshots=30)
    trips = Counter(client)
    assert client.wait_all(jobs, timeout=60) == [JobStatus.SUCCESS] * 3
    assert len(trips.requests) == 1  # one batch GET for the three jobs
    for job in jobs:
        dense = job.dense_frequencies()
        assert dense.sum() == 30
        assert dense[1] == dense[2] == 0


def test_resubmitting_with_the_same_key_queues_nothing_new(client: Client) -> None:
    first = client.submit(BELL, nshots=10, idempotency_key="same-key-123")
    before = len(client.jobs())
    second = client.submit(BELL, nshots=10, idempotency_key="same-key-123")
    assert second.pid == first.pid
    assert len(client.jobs()) == before


def test_download_is_read_safely(client: Client) -> None:
    job = client.submit(BELL, nshots=40, wait=10)
    archive = client.api.download(job.pid)
    assert frequencies_from_archive(archive) == job.frequencies()


def test_devices_and_quotas(client: Client) -> None:
    assert "sim" in {device["name"] for device in client.devices()}
    assert "kbs_left" in client.disk_quota()
    assert client.project_quotas()


def test_wrong_token_is_an_authentication_error(cluster: Any) -> None:
    client = Client(cluster.url, "not-a-token", progress=False)  # the version check is public
    with pytest.raises(AuthenticationError):
        client.jobs()


def test_another_users_job_is_not_found(cluster: Any, client: Client) -> None:
    job = client.submit(BELL, nshots=5)
    other = Client(cluster.url, cluster.add_user("other@localhost"), progress=False)
    with pytest.raises(JobNotFoundError):
        other.get_job(job.pid)


def test_credentials_from_the_environment(cluster: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QIBO_CLIENT_URL", cluster.url)
    monkeypatch.setenv("QIBO_CLIENT_TOKEN", cluster.token)
    assert Client().url == cluster.url
    tii = TII(progress=False)
    assert tii.url == cluster.url
    assert tii.run_circuit(BELL, nshots=10).sum() == 10


def test_timeout_leaves_the_job_retrievable(held: Any) -> None:
    client = Client(held.url, held.token, progress=False)
    job = client.submit(BELL, nshots=10)
    with pytest.raises(JobTimeoutError) as info:
        job.wait(timeout=0.2)
    assert info.value.pid == job.pid
    assert client.get_job(job.pid).status() is JobStatus.QUEUEING
    with pytest.raises(JobTimeoutError):
        client.run_circuit(BELL, nshots=10, timeout=0.2)


def test_a_wait_is_held_on_the_server_up_to_the_deadline(held: Any) -> None:
    client = Client(held.url, held.token, progress=False)
    job = client.submit(BELL, nshots=10)
    trips = Counter(client)
    with pytest.raises(JobTimeoutError):
        job.wait(timeout=1.5)
    assert trips.requests == [f"GET /api/jobs/{job.pid}/?wait=1.5"]  # no polling meanwhile
    assert client.features.holds is True
    job.cancel()


def test_cancel_removes_a_queued_job(held: Any) -> None:
    client = Client(held.url, held.token, progress=False)
    job = client.submit(BELL, nshots=10)
    assert job.status() is JobStatus.QUEUEING
    job.cancel()
    with pytest.raises(JobNotFoundError):
        job.status()


def test_cli_lists_and_prints_journalled_jobs(
    cluster: Any, client: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    job = client.submit(BELL, nshots=25, wait=10)
    assert run_cli("jobs", "--url", cluster.url, f"--token={cluster.token}") == 0
    listing = capsys.readouterr().out
    assert job.pid in listing
    assert "success" in listing
    assert cluster.token not in listing
    assert run_cli("result", job.pid, "--url", cluster.url, f"--token={cluster.token}") == 0
    assert json.loads(capsys.readouterr().out) == job.frequencies()
    gone = client.submit(BELL, nshots=5, wait=10)
    client.delete_job(gone.pid)
    assert run_cli("jobs", "--url", cluster.url, f"--token={cluster.token}") == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if gone.pid in line)
    assert "deleted" in row
    assert run_cli("jobs", "--url", cluster.url, "--token", "wrong-token") == 0
    captured = capsys.readouterr()
    assert gone.pid in captured.out
    assert captured.err.count("rejected the token") == 1


def test_a_slow_wait_shows_a_status_line(
    held: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich draws only on a terminal; pretend to be one
    client = Client(held.url, held.token, progress=True)
    job = client.submit(BELL, nshots=10)
    with pytest.raises(JobTimeoutError):
        job.wait(timeout=1.5)  # one request held 1.5 s; the line appears on its own timer
    err = capsys.readouterr().err
    assert f"job {job.pid[:8]}: queueing" in err
    assert "job ?" not in err  # the pid is known from the start
    assert "position" in err
    job.cancel()


def test_a_slow_batch_shows_one_bar(
    held: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    client = Client(held.url, held.token, progress=True)
    jobs = client.submit_many([BELL, BELL], nshots=10)
    with pytest.raises(JobTimeoutError) as info:
        client.wait_all(jobs, timeout=1.5)
    assert info.value.pid == jobs[0].pid
    err = capsys.readouterr().err
    assert "qibo-client jobs" in err
    assert "0/2" in err
    assert "job " not in err  # no per-job status line inside a batch
    for job in jobs:
        job.cancel()


def test_one_keep_alive_connection_per_client(
    cluster: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="urllib3.connectionpool")
    client = Client(cluster.url, cluster.token, progress=False)
    for _ in range(3):
        client.run_circuit(BELL, nshots=10)
    client.jobs()
    opened = [r for r in caplog.records if "Starting new HTTP connection" in r.getMessage()]
    assert len(opened) == 1
    assert all(cluster.token not in r.getMessage() for r in caplog.records)
