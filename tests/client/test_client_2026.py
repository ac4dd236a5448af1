"""The client against a 2026-generation service, played by a real loopback server (``faults.py``):
the new version keys, the counts only in the job object, no download, ``accounts/me`` and the
quota as one object. A service that sends no counts at all is a clear error naming the job."""

from __future__ import annotations

from typing import Any

import pytest
from faults import FaultServer, json_reply
from qibo import Circuit, gates
from qibo.backends import NumpyBackend
from qibo.result import MeasurementOutcomes

from qibo_client.config import MalformedResponseError, QiboApiError
from qibo_client.http.session import default_retry
from qibo_client.qibo_client import Client
from qibo_client.versions import qibo_version

VERSIONS_2026 = {
    "server_qibo_version": qibo_version(),
    "minimum_qibo_version": "0.3.0",
    "minimum_client_version": "0.0.1",
}
NSHOTS = 10


def _service(faults: FaultServer, frequencies: dict[str, int] | None) -> Client:
    """A 2026 service whose only job ``p1`` succeeded with ``frequencies`` (its download 404s)."""
    faults.always("/api/qibo_version/", json_reply(VERSIONS_2026))
    faults.always("/api/jobs/", json_reply({"pid": "p1"}))
    job = {"pid": "p1", "status": "SUCCESS", "nshots": NSHOTS, "frequencies": frequencies}
    faults.always("/api/jobs/p1/", json_reply(job))
    return Client(faults.url, "tok", progress=False, retry=default_retry(backoff_factor=0))


def _registers_circuit() -> Circuit:
    """Three qubits, two named registers, measured out of order: q2, q0 in "a"; q1 in "b"."""
    circuit = Circuit(3)
    circuit.add([gates.X(0), gates.X(1)])
    circuit.add(gates.M(2, 0, register_name="a"))
    circuit.add(gates.M(1, register_name="b"))
    return circuit


def test_counts_in_the_job_object_give_qibos_own_registers_without_a_download(
    faults: FaultServer,
) -> None:
    circuit = _registers_circuit()
    client = _service(faults, {"011": NSHOTS})  # (q2, q0, q1) = (0, 1, 1)
    result = client.submit(circuit, nshots=NSHOTS).result()
    local = _registers_circuit()(nshots=NSHOTS)  # qibo's own numpy run of the same circuit
    assert result.frequencies(registers=True) == local.frequencies(registers=True)
    assert result.frequencies() == local.frequencies()
    assert result.measurement_gate.target_qubits == local.measurement_gate.target_qubits
    assert faults.seen("/api/jobs/p1/download/") == 0


def test_a_job_rebuilt_from_its_pid_reads_like_from_frequencies(faults: FaultServer) -> None:
    counts = {"00": 6, "11": 4}
    client = _service(faults, counts)
    result = client.get_job("p1").result()
    expected = MeasurementOutcomes.from_frequencies(counts, nqubits=2, backend=NumpyBackend())
    assert result.frequencies() == expected.frequencies()
    assert result.measurement_gate.target_qubits == expected.measurement_gate.target_qubits
    assert result.nshots == expected.nshots
    assert faults.seen("/api/jobs/p1/download/") == 0


def test_a_service_with_neither_counts_nor_download_says_it_sent_no_counts(
    faults: FaultServer,
) -> None:
    client = _service(faults, None)  # the download path answers the default 404
    with pytest.raises(MalformedResponseError) as info:
        client.get_job("p1").frequencies()
    message = str(info.value)
    assert "p1" in message
    assert "no counts" in message
    assert "404" in message


def test_accounts_me_names_the_tokens_user(faults: FaultServer) -> None:
    client = _service(faults, None)
    faults.always("/api/accounts/me/", json_reply({"email": "a@b.c"}))
    assert client.me() == {"email": "a@b.c"}


def test_accounts_me_on_an_older_server_is_a_404_error(faults: FaultServer) -> None:
    client = _service(faults, None)
    with pytest.raises(QiboApiError) as info:
        client.me()
    assert info.value.status == 404


QUOTA = {"user": {"email": "a@b.c"}, "kbs_left": 10.0, "kbs_max": 20.0}


@pytest.mark.parametrize("body", [QUOTA, [QUOTA]], ids=["2026-object", "0.2.4-list"])
def test_disk_quota_reads_either_generations_shape(faults: FaultServer, body: Any) -> None:
    client = _service(faults, None)
    faults.always("/api/disk_quota/", json_reply(body))
    assert client.disk_quota() == QUOTA
