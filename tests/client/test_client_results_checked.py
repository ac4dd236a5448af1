"""A result is checked against the job that was asked, in every accessor, through a real socket.

The fault server answers with results no job of that shape can produce: counts that do not add up
to the shots, bitstrings of the wrong width, far more outcomes than shots. Each is refused with a
MalformedResponseError naming the pid, never returned as the result.
"""

from __future__ import annotations

import json

import pytest
from faults import FaultServer, archive, huge, json_reply, raw_reply
from qibo import Circuit, gates

from qibo_client.config import MalformedResponseError
from qibo_client.qibo_client import Client

TOKEN = "tok-checked-SECRET"


def _bell() -> Circuit:
    circuit = Circuit(2)
    circuit.add(gates.H(0))
    circuit.add(gates.CNOT(0, 1))
    circuit.add(gates.M(0, 1))
    return circuit


def _client(faults: FaultServer) -> Client:
    return Client(faults.url, TOKEN, progress=False, timeout=10, journal=False)


def _answers(faults: FaultServer, pid: str, counts: object, nshots: object = 1000) -> None:
    """The submission is answered at once with a finished job holding ``counts``."""
    body = {"pid": pid, "status": "success", "nshots": nshots, "frequencies": counts}
    faults.always("/api/jobs/", json_reply(body))
    faults.always(f"/api/jobs/{pid}/", json_reply(body))


@pytest.mark.parametrize(
    ("counts", "wrong"),
    [
        ({"00": 450, "11": 450}, "sum to 900"),
        ({"00": 500_000, "11": 500_000}, "sum to 1000000"),
    ],
)
def test_run_circuit_refuses_counts_that_do_not_add_up(
    faults: FaultServer, counts: dict[str, int], wrong: str
) -> None:
    _answers(faults, "c1", counts)
    with pytest.raises(MalformedResponseError) as info:
        _client(faults).run_circuit(_bell(), nshots=1000)
    assert "c1" in str(info.value)
    assert wrong in str(info.value)


@pytest.mark.parametrize("width", [0, 1, 3])
def test_frequencies_refuses_outcomes_of_the_wrong_width(faults: FaultServer, width: int) -> None:
    counts = {"0" * width: 600, "1" * width: 400} if width else {"": 1000}
    _answers(faults, "c2", counts)
    with pytest.raises(MalformedResponseError) as info:
        _client(faults).submit(_bell(), nshots=1000).frequencies()
    assert "c2" in str(info.value)
    assert f"{width}-bit outcomes" in str(info.value)


def test_more_outcomes_than_shots_are_refused_while_they_arrive(faults: FaultServer) -> None:
    faults.always("/api/jobs/", json_reply({"pid": "c3", "status": "queueing"}))
    faults.always("/api/jobs/c3/", huge(150 * 1024 * 1024))  # as a 5,000,000-outcome answer
    job = _client(faults).submit(_bell(), nshots=1000)
    with pytest.raises(MalformedResponseError) as info:
        job.frequencies()
    assert "larger than" in str(info.value)


def test_the_device_default_reported_by_the_server_is_the_sum_to_meet(
    faults: FaultServer,
) -> None:
    _answers(faults, "c4", {"00": 300, "11": 300}, nshots=500)
    with pytest.raises(MalformedResponseError) as info:
        _client(faults).submit(_bell()).frequencies()
    assert "500 shots" in str(info.value)
    _answers(faults, "c5", {"00": 300, "11": 200}, nshots=500)
    assert _client(faults).submit(_bell()).frequencies() == {"00": 300, "11": 200}


def test_counts_read_from_a_download_are_checked_too(faults: FaultServer) -> None:
    body = {"pid": "c6", "status": "success", "nshots": 1000, "frequencies": None}
    faults.always("/api/jobs/", json_reply(body))
    faults.always("/api/jobs/c6/", json_reply(body))
    blob = archive({"frequencies.json": json.dumps({"00": 10, "11": 10}).encode()})
    faults.always("/api/jobs/c6/download/", raw_reply(200, blob, {"Content-Type": "x"}))
    with pytest.raises(MalformedResponseError) as info:
        _client(faults).submit(_bell(), nshots=1000).dense_frequencies()
    assert "sum to 20" in str(info.value)


def test_a_fair_result_passes(faults: FaultServer) -> None:
    _answers(faults, "c7", {"00": 512, "11": 488})
    dense = _client(faults).run_circuit(_bell(), nshots=1000)
    assert dense is not None
    assert dense.tolist() == [512, 0, 0, 488]
