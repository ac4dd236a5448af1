"""Jobs against replies a real server cannot give: unknown statuses, an old server that ignores
server-side waits, failed jobs, and result downloads that try to escape or run code."""

from __future__ import annotations

import io
import logging
import os
import pickle
import tarfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import responses
from client_fakes import FAKE, FAKE_TOKEN, VERSIONS, job_object

import qibo_client
from qibo_client.config import (
    IncompatibleVersionsError,
    JobFailedError,
    JobNotFoundError,
    JobTimeoutError,
    MalformedResponseError,
    UnknownJobStatusError,
    UnsafeResultError,
    UnsupportedCircuitError,
)
from qibo_client.jobs.job import Job, JobStatus
from qibo_client.qibo_client import (
    Client,
    check_client_server_qibo_versions,
    wait_for_response_to_get_request,
)
from qibo_client.results.counts import dense_from_frequencies, frequencies_from_archive, load_npy
from qibo_client.versions import qibo_version

QASM = "OPENQASM 2.0;"
JOB = f"{FAKE}/api/jobs/j1/"


def _tar(members: dict[str, bytes], *, link: str | None = None) -> bytes:
    blob = io.BytesIO()
    with tarfile.open(fileobj=blob, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if link is not None:
            info = tarfile.TarInfo("results.npy")
            info.type = tarfile.SYMTYPE
            info.linkname = link
            tar.addfile(info)
    return blob.getvalue()


def _qibo_dump(samples: np.ndarray) -> bytes:
    """The shape of qibo's ``result.dump()``: np.save of the ``to_dict()`` dictionary."""
    payload = {
        "measurements": ['{"name": "measure", "_target_qubits": [0, 1], "_class": "M"}'],
        "probabilities": None,
        "samples": samples,
        "nshots": len(samples),
        "nqubits": 2,
        "dtype": "MeasurementOutcomes",
        "qibo": "0.3.6",
    }
    blob = io.BytesIO()
    np.save(blob, payload, allow_pickle=True)
    return blob.getvalue()


class _RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _evil_npy(marker: Path) -> bytes:
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "|O", "fortran_order": False, "shape": ()}
    )
    return header.getvalue() + pickle.dumps(_RunsCode(marker), protocol=3)


# -- statuses and waits -----------------------------------------------------------------------


def test_status_parse_is_case_insensitive_and_knows_terminals() -> None:
    assert JobStatus.parse("SUCCESS") is JobStatus.SUCCESS
    assert JobStatus.parse(" Running ") is JobStatus.RUNNING
    assert {s for s in JobStatus if s.is_terminal} == {JobStatus.SUCCESS, JobStatus.ERROR}


def test_unknown_status_is_an_error_not_a_wait(
    fake: responses.RequestsMock, fake_client: Client
) -> None:
    fake.get(JOB, json=job_object("j1", "frozen"))
    with pytest.raises(UnknownJobStatusError) as info:
        Job.from_pid(fake_client.api, "j1").wait()
    assert "frozen" in str(info.value)
    assert len([c for c in fake.calls if c.request.url.startswith(JOB)]) == 1


def test_from_pid_takes_the_client_as_in_the_first_release(
    fake: responses.RequestsMock, fake_client: Client
) -> None:
    fake.get(JOB, json=job_object("j1", "success", frequencies={"00": 6, "11": 4}))
    job = Job.from_pid(fake_client, "j1")
    assert job.frequencies() == {"00": 6, "11": 4}
    assert Job.from_pid(fake_client.api, "j1").pid == "j1"


def test_from_pid_with_something_else_says_what_it_takes() -> None:
    with pytest.raises(TypeError, match=r"takes a qibo_client Client \(or its \.api\), not str"):
        Job.from_pid("https://example.org", "j1")  # type: ignore[arg-type]


def test_old_server_ignoring_waits_falls_back_to_polling(
    fake: responses.RequestsMock, fake_client: Client
) -> None:
    fake.get(JOB, json=job_object("j1", "queueing"))
    fake.get(JOB, json=job_object("j1", "running"))
    fake.get(JOB, json=job_object("j1", "success", frequencies={"00": 6, "11": 4}))
    job = Job.from_pid(fake_client.api, "j1")
    assert job.frequencies() == {"00": 6, "11": 4}
    urls = [c.request.url for c in fake.calls if c.request.url.startswith(JOB)]
    assert len(urls) == 3
    assert "wait=" in urls[0]
    assert all("wait=" not in url for url in urls[1:])
    assert fake_client.features.holds is False


def test_an_early_answer_with_news_keeps_server_waits(
    fake: responses.RequestsMock, fake_client: Client
) -> None:
    fake.post(f"{FAKE}/api/jobs/", json={"pid": "j1", "status": "queueing"})
    fake.get(JOB, json=job_object("j1", "running"))
    fake.get(JOB, json=job_object("j1", "success", frequencies={"0": 10}))
    job = fake_client.submit(QASM, nshots=10)
    assert job.frequencies() == {"0": 10}
    urls = [c.request.url for c in fake.calls if c.request.url.startswith(JOB)]
    assert len(urls) == 2
    assert all("wait=" in url for url in urls)
    assert fake_client.features.holds is True


def test_timeout_raises_with_pid_and_leaves_the_job(
    fake: responses.RequestsMock, fake_client: Client
) -> None:
    fake.get(JOB, json=job_object("j1", "queueing"))
    job = Job.from_pid(fake_client.api, "j1")
    with pytest.raises(JobTimeoutError) as info:
        job.wait(timeout=0)
    assert info.value.pid == "j1"
    assert "get_job('j1')" in str(info.value)
    assert fake.calls[-1].request.method == "GET"  # nothing was cancelled or deleted
    assert job.status() is JobStatus.QUEUEING


def test_a_final_job_costs_nothing_more(fake: responses.RequestsMock, fake_client: Client) -> None:
    fake.get(JOB, json=job_object("j1", "success", frequencies={"1": 10}))
    job = Job.from_pid(fake_client.api, "j1")
    assert job.wait() is JobStatus.SUCCESS
    before = len(fake.calls)
    assert job.status() is JobStatus.SUCCESS
    assert job.frequencies() == {"1": 10}
    assert job.dense_frequencies().tolist() == [0, 10]
    assert len(fake.calls) == before


def test_run_circuit_is_one_round_trip_when_the_server_holds_the_answer(
    fake: responses.RequestsMock, fake_client: Client
) -> None:
    fake.post(f"{FAKE}/api/jobs/", json=job_object("j1", "success", frequencies={"00": 7, "11": 3}))
    before = len(fake.calls)
    counts = fake_client.run_circuit(QASM, nshots=10)
    assert counts is not None
    assert counts.dtype == np.int64
    assert counts.tolist() == [7, 0, 0, 3]
    assert len(fake.calls) - before == 1


def test_failed_job_returns_none_and_logs_the_reason(
    fake: responses.RequestsMock, fake_client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    fake.post(f"{FAKE}/api/jobs/", json={"pid": "j1", "status": "queueing"})
    fake.get(JOB, json=job_object("j1", "error", stderr="qubit 7 does not exist"))
    with caplog.at_level(logging.ERROR, logger="qibo_client"):
        assert fake_client.run_circuit(QASM, nshots=10) is None
    assert any("qubit 7 does not exist" in r.getMessage() for r in caplog.records)
    with pytest.raises(JobFailedError) as info:
        Job.from_pid(fake_client.api, "j1").frequencies()
    assert info.value.reason == "qubit 7 does not exist"


def test_failure_reason_read_from_the_download_when_the_json_has_none(
    fake: responses.RequestsMock, fake_client: Client
) -> None:
    fake.get(JOB, json={"pid": "j1", "status": "ERROR"})
    fake.get(f"{JOB}download/", body=_tar({"stdout.log": b"", "stderr.log": b"out of memory\n"}))
    with pytest.raises(JobFailedError) as info:
        Job.from_pid(fake_client.api, "j1").frequencies()
    assert info.value.reason == "out of memory"


def test_wait_for_response_to_get_request_returns_the_final_response(
    fake: responses.RequestsMock,
) -> None:
    fake.get(JOB, json=job_object("j1", "pending"))
    fake.get(JOB, json=job_object("j1", "success", frequencies={"0": 1}))
    response = wait_for_response_to_get_request(JOB, token=FAKE_TOKEN)
    assert response.json()["status"] == "success"
    assert fake.calls[-1].request.headers["x-api-token"] == FAKE_TOKEN


def test_wait_for_response_to_get_request_knows_the_protocol_statuses(
    fake: responses.RequestsMock,
) -> None:
    fake.get(JOB, body="Job still in progress")
    fake.get(JOB, json=job_object("j1", "ERROR"))  # any case; error is final too
    assert wait_for_response_to_get_request(JOB, token=FAKE_TOKEN).json()["status"] == "ERROR"
    fake.replace(responses.GET, JOB, json=job_object("j1", "paused"))
    with pytest.raises(UnknownJobStatusError, match="paused"):
        wait_for_response_to_get_request(JOB, token=FAKE_TOKEN)


def test_wait_for_response_to_get_request_has_a_deadline(fake: responses.RequestsMock) -> None:
    fake.get(JOB, json=job_object("j1", "running"))
    with pytest.raises(JobTimeoutError):
        wait_for_response_to_get_request(JOB, token=FAKE_TOKEN, timeout=0.2)
    assert all("wait" not in (c.request.url or "") for c in fake.calls)  # a URL is never held


# -- versions -----------------------------------------------------------------------------------


def _versions(fake: responses.RequestsMock, body: dict[str, str]) -> None:
    fake.replace(responses.GET, f"{FAKE}/api/qibo_version/", json=body)


def test_local_qibo_below_the_minimum_is_refused(fake: responses.RequestsMock) -> None:
    _versions(fake, {"server_qibo_version": "9.0.0", "minimum_client_qibo_version": "9.0.0"})
    with pytest.raises(IncompatibleVersionsError) as info:
        Client(FAKE, FAKE_TOKEN, progress=False)
    assert isinstance(info.value, AssertionError)
    assert "9.0.0" in str(info.value)


def test_old_server_with_another_version_is_refused(fake: responses.RequestsMock) -> None:
    _versions(fake, {"qibo_version": "0.2.1"})
    with pytest.raises(IncompatibleVersionsError):
        Client(FAKE, FAKE_TOKEN, progress=False)
    local = {"qibo_version": qibo_version()}  # whatever qibo is installed: no pin here
    _versions(fake, local)
    assert Client(FAKE, FAKE_TOKEN, progress=False).server_versions == local


def test_newer_server_only_warns(
    fake: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    _versions(fake, {"server_qibo_version": "0.9.0", "minimum_client_qibo_version": "0.3.0"})
    with caplog.at_level(logging.WARNING, logger="qibo_client"):
        Client(FAKE, FAKE_TOKEN, progress=False)
    assert any("0.9.0" in r.getMessage() for r in caplog.records)


def test_version_payload_without_versions_is_malformed(fake: responses.RequestsMock) -> None:
    _versions(fake, {"hello": "world"})
    with pytest.raises(MalformedResponseError) as info:
        Client(FAKE, FAKE_TOKEN, progress=False)
    assert "minimum_qibo_version" in str(info.value)


#: The 2026 generation's answer for a server running the installed qibo.
VERSIONS_2026 = {
    "server_qibo_version": qibo_version(),
    "minimum_qibo_version": "0.3.0",
    "minimum_client_version": "0.0.1",
}


def test_a_2026_version_answer_is_read(fake: responses.RequestsMock) -> None:
    _versions(fake, VERSIONS_2026)
    assert Client(FAKE, FAKE_TOKEN, progress=False).server_versions == VERSIONS_2026


@pytest.mark.parametrize(
    "body",
    [
        {**VERSIONS_2026, "minimum_qibo_version": "9.0.0"},
        {**VERSIONS, **VERSIONS_2026, "minimum_qibo_version": "9.0.0"},
        {**VERSIONS, **VERSIONS_2026, "minimum_client_qibo_version": "9.0.0"},
    ],
    ids=["2026", "both-new-minimum-higher", "both-old-minimum-higher"],
)
def test_local_qibo_below_either_minimum_is_refused(
    fake: responses.RequestsMock, body: dict[str, str]
) -> None:
    _versions(fake, body)
    with pytest.raises(IncompatibleVersionsError) as info:
        Client(FAKE, FAKE_TOKEN, progress=False)
    assert "pip install -U 'qibo>=9.0.0'" in str(info.value)


def test_a_client_below_the_services_minimum_only_warns_naming_both(
    fake: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    _versions(fake, {**VERSIONS_2026, "minimum_client_version": "99.1"})
    with caplog.at_level(logging.WARNING, logger="qibo_client"):
        client = Client(FAKE, FAKE_TOKEN, progress=False)
    assert client.server_versions is not None
    warned = [r.getMessage() for r in caplog.records if "99.1" in r.getMessage()]
    assert len(warned) == 1
    assert qibo_client.__version__ in warned[0]


def test_a_client_at_the_services_minimum_is_not_warned(
    fake: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    _versions(fake, {**VERSIONS_2026, "minimum_client_version": qibo_client.__version__})
    with caplog.at_level(logging.WARNING, logger="qibo_client"):
        Client(FAKE, FAKE_TOKEN, progress=False)
    assert caplog.records == []


@pytest.mark.parametrize(
    "body",
    [
        {"server_qibo_version": qibo_version()},
        {"minimum_qibo_version": "0.3.0", "minimum_client_version": "0.1"},
    ],
    ids=["no-minimum", "no-server-version"],
)
def test_a_version_answer_of_neither_generation_is_malformed(
    fake: responses.RequestsMock, body: dict[str, str]
) -> None:
    _versions(fake, body)
    with pytest.raises(MalformedResponseError):
        Client(FAKE, FAKE_TOKEN, progress=False)


def test_the_original_function_reads_a_2026_answer_alike(
    fake: responses.RequestsMock,
) -> None:
    _versions(fake, VERSIONS_2026)
    client = Client(FAKE, FAKE_TOKEN, progress=False, check_versions=False)
    check_client_server_qibo_versions(client)  # the 0.2 function form: no error
    _versions(fake, {**VERSIONS_2026, "minimum_qibo_version": "9.0.0"})
    refused = Client(FAKE, FAKE_TOKEN, progress=False, check_versions=False)
    with pytest.raises(IncompatibleVersionsError):
        check_client_server_qibo_versions(refused)


# -- results --------------------------------------------------------------------------------------


def test_success_without_json_frequencies_reads_the_download(
    fake: responses.RequestsMock, fake_client: Client
) -> None:
    samples = np.array([[0, 0], [1, 1], [1, 1], [0, 1]])
    fake.get(JOB, json=job_object("j1", "success", frequencies=None, nshots=4))
    fake.get(f"{JOB}download/", body=_tar({"results.npy": _qibo_dump(samples)}))
    job = Job.from_pid(fake_client.api, "j1")
    assert job.frequencies() == {"00": 1, "11": 2, "01": 1}
    assert job.dense_frequencies().tolist() == [1, 1, 0, 2]


def _probabilities_dump() -> bytes:
    """qibo's ``result.dump()`` of a result that holds probabilities but no samples."""
    payload = {"probabilities": np.array([0.5, 0.0, 0.0, 0.5]), "samples": None, "nshots": 4}
    blob = io.BytesIO()
    np.save(blob, payload, allow_pickle=True)
    return blob.getvalue()


def _resampled_jobs(fake: responses.RequestsMock, client: Client, pids: list[str]) -> list[Any]:
    """Read jobs whose downloads hold probabilities only; return the warnings they gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # only the client's own once-only rule may hold it back
        for pid in pids:
            url = f"{FAKE}/api/jobs/{pid}/"
            fake.get(url, json=job_object(pid, "success", frequencies=None, nshots=4))
            fake.get(f"{url}download/", body=_tar({"results.npy": _probabilities_dump()}))
            assert sum(Job.from_pid(client.api, pid).frequencies().values()) == 4
    return [w for w in caught if issubclass(w.category, qibo_client.ResampledCountsWarning)]


def test_resampled_counts_are_said_once_per_client_as_a_filterable_warning(
    fake: responses.RequestsMock, fake_client: Client
) -> None:
    said = _resampled_jobs(fake, fake_client, ["r1", "r2"])
    assert len(said) == 1
    assert issubclass(said[0].category, UserWarning)
    assert "r1" in str(said[0].message)
    other = Client(FAKE, FAKE_TOKEN, progress=False, check_versions=False)
    assert len(_resampled_jobs(fake, other, ["r3"])) == 1  # a new client says it again


@pytest.mark.parametrize("name", ["../results.npy", "/tmp/results.npy", "a/../../results.npy"])
def test_tar_member_escaping_its_folder_is_refused(name: str) -> None:
    with pytest.raises(UnsafeResultError):
        frequencies_from_archive(_tar({name: b"x"}))


def test_tar_link_is_refused() -> None:
    with pytest.raises(UnsafeResultError):
        frequencies_from_archive(_tar({}, link="/etc/passwd"))


def test_results_npy_that_runs_code_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    with pytest.raises(UnsafeResultError) as info:
        frequencies_from_archive(_tar({"results.npy": _evil_npy(marker)}))
    assert "posix.system" in str(info.value) or "os.system" in str(info.value)
    assert not marker.exists()


def test_restricted_loader_rebuilds_plain_arrays() -> None:
    blob = io.BytesIO()
    np.save(blob, np.arange(4))
    assert load_npy(blob.getvalue()).tolist() == [0, 1, 2, 3]


def test_dense_form_indexes_by_binary_value_and_refuses_huge_registers() -> None:
    assert dense_from_frequencies({"10": 3, "01": 2}).tolist() == [0, 2, 3, 0]
    with pytest.raises(UnsupportedCircuitError) as info:
        dense_from_frequencies({"0" * 40: 1})
    assert "job.frequencies()" in str(info.value)


def test_malformed_frequencies_are_rejected(
    fake: responses.RequestsMock, fake_client: Client
) -> None:
    fake.get(JOB, json=job_object("j1", "success", frequencies={"0x": 1}))
    with pytest.raises(MalformedResponseError):
        Job.from_pid(fake_client.api, "j1").wait()


def test_tii_points_at_the_tii_service_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from qibo_client.tii import TII

    with responses.RequestsMock() as mock:
        mock.get("https://q-cloud.tii.ae/api/qibo_version/", json=VERSIONS)
        assert TII(FAKE_TOKEN, progress=False).url == "https://q-cloud.tii.ae"
    monkeypatch.setenv("QIBO_CLIENT_URL", FAKE)
    with responses.RequestsMock() as mock:
        mock.get(f"{FAKE}/api/qibo_version/", json=VERSIONS)
        assert TII(FAKE_TOKEN, progress=False).url == FAKE


def test_a_pid_cannot_reach_other_paths(fake: responses.RequestsMock, fake_client: Client) -> None:
    fake.get(f"{FAKE}/api/jobs/..%2F..%2Fapi%2Fdisk_quota/", json={"detail": "nope"}, status=404)
    with pytest.raises(JobNotFoundError):
        fake_client.get_job("../../api/disk_quota")


def test_run_circuit_with_too_many_bits_says_where_the_counts_are(
    fake: responses.RequestsMock, fake_client: Client
) -> None:
    wide = {"0" * 40: 6, "1" * 40: 4}
    fake.post(f"{FAKE}/api/jobs/", json=job_object("j1", "success", frequencies=wide))
    with pytest.raises(UnsupportedCircuitError) as info:
        fake_client.run_circuit(QASM, nshots=10)
    assert "get_job('j1').frequencies()" in str(info.value)
