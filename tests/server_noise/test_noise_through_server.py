"""What qibo's raw JSON carries beyond QASM, run by a real server and compared with local qibo.

Each circuit goes to the session's server (``cluster`` in tests/conftest.py) as the raw object of
:mod:`qibo_client.circuits.raw` (the plugin's encoder), and runs locally on qibo's numpy backend
with a fixed seed. Counts agree when every outcome's counts differ by less than 5 standard
deviations of the difference of two binomial draws (plus 3 counts of slack for outcomes near
probability 0). Each test also checks a
signature of what is being tested (the noise, the collapse, the initial state) so that a server
that ignored it would fail.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import requests
from qibo import Circuit, gates
from qibo.backends import NumpyBackend
from qibo.noise import DepolarizingError, NoiseModel
from qibo.quantum_info import random_statevector, random_unitary

from qibo_client.circuits.raw import circuit_raw

NSHOTS = 2000


def run_remote(
    cluster: Any, circuit: Circuit, device: str = "sim", **fields: Any
) -> dict[str, int]:
    response = requests.post(
        f"{cluster.url}/api/jobs/",
        json={"circuit": circuit_raw(circuit), "nshots": NSHOTS, "device": device, **fields},
        headers={"x-api-token": cluster.token, "Prefer": "wait=30"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    job = response.json()
    assert job["status"] == "success", job
    return job["frequencies"]


def run_local(circuit: Circuit, initial_state: Any = None, seed: int = 7) -> dict[str, int]:
    backend = NumpyBackend()
    backend.set_seed(seed)
    np.random.seed(seed)
    result = backend.execute_circuit(circuit, initial_state, nshots=NSHOTS)
    return {str(k): int(v) for k, v in result.frequencies(binary=True).items()}


def assert_agree(remote: dict[str, int], local: dict[str, int]) -> None:
    assert sum(remote.values()) == sum(local.values()) == NSHOTS
    for key in set(remote) | set(local):
        a, b = remote.get(key, 0), local.get(key, 0)
        p = (a + b) / (2 * NSHOTS)
        sigma = math.sqrt(2 * NSHOTS * p * (1 - p))
        assert abs(a - b) <= 5 * sigma + 3, f"{key}: server {a}, local {b} (of {NSHOTS})"


def share(counts: dict[str, int], keys: set[str]) -> float:
    return sum(counts.get(key, 0) for key in keys) / NSHOTS


def test_depolarizing_noise_model_on_ghz(cluster):
    circuit = Circuit(3, density_matrix=True)  # local qibo then runs once, not once per shot
    circuit.add(gates.H(0))
    circuit.add(gates.CNOT(0, 1))
    circuit.add(gates.CNOT(1, 2))
    circuit.add(gates.M(0, 1, 2))
    noise = NoiseModel()
    noise.add(DepolarizingError(0.2))
    noisy = noise.apply(circuit)
    remote = run_remote(cluster, noisy)
    assert_agree(remote, run_local(noisy))
    assert share(remote, {"000", "111"}) < 0.97  # ideal GHZ gives only 000 and 111


def test_thermal_relaxation_on_one_qubit(cluster):
    circuit = Circuit(1, density_matrix=True)
    circuit.add(gates.X(0))
    circuit.add(gates.ThermalRelaxationChannel(0, [1.0, 0.8, 0.5, 0.1]))
    circuit.add(gates.M(0))
    remote = run_remote(cluster, circuit)
    assert_agree(remote, run_local(circuit))
    assert 0.2 < share(remote, {"0"}) < 0.5  # decay towards |0>: about 0.36


def test_readout_error_on_a_bell_pair(cluster):
    circuit = Circuit(2)
    circuit.add(gates.H(0))
    circuit.add(gates.CNOT(0, 1))
    circuit.add(gates.M(0, 1, p0=0.1, p1={1: 0.3}))
    remote = run_remote(cluster, circuit)
    assert_agree(remote, run_local(circuit))
    assert share(remote, {"01", "10"}) > 0.1  # a perfect readout never gives 01 or 10


def test_collapsing_mid_circuit_measurement(cluster):
    circuit = Circuit(2)
    circuit.add(gates.H(0))
    circuit.add(gates.M(0, collapse=True))
    circuit.add(gates.H(0))
    circuit.add(gates.M(1))  # qibo turns this one into a collapse too: CNOT touches qubit 1 next
    circuit.add(gates.CNOT(0, 1))
    circuit.add(gates.M(0, 1))
    remote = run_remote(cluster, circuit)
    assert_agree(remote, run_local(circuit))
    assert set(remote) <= {"00", "11"}
    assert 0.4 < share(remote, {"00"}) < 0.6  # without the collapse H H gives 00 always


def test_gates_that_qasm_cannot_say(cluster):
    circuit = Circuit(3)
    circuit.add(gates.H(0))
    circuit.add(gates.RY(1, 0.7))
    circuit.add(gates.iSWAP(0, 1))
    circuit.add(gates.fSim(1, 2, 0.4, 0.9))
    circuit.add(gates.RZX(0, 2, 1.1))
    circuit.add(gates.ECR(2, 0))
    circuit.add(gates.Unitary(random_unitary(4, seed=11), 1, 2))
    circuit.add(gates.SiSWAP(0, 2))
    circuit.add(gates.RXXYY(0, 1, 0.3))
    circuit.add(gates.GeneralizedfSim(1, 2, random_unitary(2, seed=12), 0.5))
    circuit.add(gates.CU2(2, 1, 0.2, 0.6))
    circuit.add(gates.SYC(0, 1))
    circuit.add(gates.Align(2, delay=10))
    circuit.add(gates.GIVENS(0, 2, 0.8))
    circuit.add(gates.U1q(1, 0.5, 0.2))
    circuit.add(gates.DEUTSCH(0, 1, 2, 0.9))
    circuit.add(gates.SiSWAPDG(1, 2))
    circuit.add(gates.M(0, 1, 2))
    remote = run_remote(cluster, circuit)
    assert_agree(remote, run_local(circuit))
    assert len(remote) >= 4  # a spread-out distribution, not one outcome


def test_controlled_by_gate(cluster):
    circuit = Circuit(3)
    circuit.add(gates.H(0))
    circuit.add(gates.X(1))
    circuit.add(gates.RY(2, 2.0).controlled_by(0, 1))
    circuit.add(gates.M(0, 1, 2))
    remote = run_remote(cluster, circuit)
    assert_agree(remote, run_local(circuit))
    assert share(remote, {"110"}) < 0.2
    assert share(remote, {"111"}) > 0.3


def test_initial_state_on_a_simulator(cluster):
    state = random_statevector(4, seed=5)
    circuit = Circuit(2)
    circuit.add(gates.CNOT(0, 1))
    circuit.add(gates.M(0, 1))
    raw = circuit_raw(circuit)
    raw["initial_state"] = [[float(a.real), float(a.imag)] for a in state]
    response = requests.post(
        f"{cluster.url}/api/jobs/",
        json={"circuit": raw, "nshots": NSHOTS, "device": "sim"},
        headers={"x-api-token": cluster.token, "Prefer": "wait=30"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    remote = response.json()["frequencies"]
    assert_agree(remote, run_local(circuit, initial_state=state))
    assert share(remote, {"00"}) < 0.9  # not |00>


def test_wire_names_on_hw5_run_as_local_qibo(cluster):
    circuit = Circuit(2, wire_names=[3, 4])
    circuit.add(gates.H(0))
    circuit.add(gates.CNOT(0, 1))
    circuit.add(gates.RX(1, 0.4))
    circuit.add(gates.M(0, 1))
    remote = run_remote(cluster, circuit, device="hw5")
    assert_agree(remote, run_local(circuit))


def _hostile(kind: str) -> dict[str, Any]:
    circuit = Circuit(2, density_matrix=True)
    circuit.add(gates.H(0))
    circuit.add(gates.DepolarizingChannel((0,), 0.1))
    circuit.add(gates.M(0, 1))
    raw = circuit_raw(circuit)
    entry = raw["queue"][1]
    if kind == "non-unitary":
        raw["queue"][0] = {"_class": "Unitary", "init_args": [[[1, 1], [0, 1]], 0]}
    elif kind == "huge":
        raw["nqubits"], raw["wire_names"] = 8, None
        raw["queue"][0] = {"_class": "Unitary", "init_args": [[[1] * 256] * 256, *range(8)]}
    elif kind == "probability":
        entry["init_kwargs"]["lam"] = 7.0
    elif kind == "unknown channel":
        entry["_class"] = "os.system"
    elif kind == "wide density matrix":
        raw["nqubits"], raw["wire_names"] = 14, None
    return raw


@pytest.mark.parametrize(
    ("kind", "detail"),
    [
        ("non-unitary", "queue[0] (Unitary): Unitary matrix is not unitary"),
        ("huge", "queue[0] (Unitary): Unitary matrix acts on 8 qubits; at most 6 are supported"),
        ("probability", "queue[1] (DepolarizingChannel): lam must be in [0, 1.33333], got 7.0"),
        ("unknown channel", "queue[1] (os.system): unsupported gate class 'os.system'"),
        ("wide density matrix", "density matrix, for at most 10 qubits; this circuit has 14"),
    ],
)
def test_hostile_raw_is_a_400_naming_it_and_nothing_is_stored(cluster, kind, detail):
    token = cluster.add_user(f"hostile-{kind.replace(' ', '-')}@example.org")
    headers = {"x-api-token": token}
    response = requests.post(
        f"{cluster.url}/api/jobs/",
        json={"circuit": _hostile(kind), "nshots": 10},
        headers={**headers, "Prefer": "wait=5"},
        timeout=60,
    )
    assert response.status_code == 400, response.text
    assert detail in response.json()["detail"]
    assert requests.get(f"{cluster.url}/api/jobs/", headers=headers, timeout=60).json() == []


def post(cluster: Any, circuit: Circuit, **fields: Any) -> requests.Response:
    return requests.post(
        f"{cluster.url}/api/jobs/",
        json={"circuit": circuit_raw(circuit), "nshots": 100, **fields},
        headers={"x-api-token": cluster.token, "Prefer": "wait=30"},
        timeout=60,
    )


def test_submission_applies_the_device_rules(cluster: Any) -> None:
    """Wire names, verbatim couplings, initial states and noise are checked when a job arrives."""
    chip = Circuit(2, wire_names=[1, 3])  # physical qubits 1 and 3 are not coupled on hw5's line
    chip.add(gates.GPI2(0, 0.0))
    chip.add(gates.CZ(0, 1))
    chip.add(gates.M(0, 1))
    refused = post(cluster, chip, device="hw5", verbatim=True)
    assert refused.status_code == 400
    assert "couples qubits" in refused.json()["detail"]

    unknown = Circuit(2, wire_names=["q9", 3])
    unknown.add(gates.H(0))
    unknown.add(gates.M(0, 1))
    refused = post(cluster, unknown, device="hw5")
    assert refused.status_code == 400
    assert "wire name 'q9'" in refused.json()["detail"]

    plain = Circuit(2)
    plain.add(gates.M(0, 1))
    ran = post(cluster, plain, initial_state=[0, 0, 0, [1, 0]])
    assert ran.status_code == 200
    assert ran.json()["frequencies"] == {"11": 100}
    refused = post(cluster, plain, device="hw5", initial_state=[0, 0, 0, 1])
    assert refused.status_code == 400
    assert "hardware" in refused.json()["detail"]

    noisy = Circuit(2)
    noisy.add(gates.DepolarizingChannel((0,), 0.1))
    noisy.add(gates.M(0, 1))
    refused = post(cluster, noisy, device="hw5")
    assert refused.status_code == 400
    assert "DepolarizingChannel" in refused.json()["detail"]
