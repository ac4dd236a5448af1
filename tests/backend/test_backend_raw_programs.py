"""Qibo programs that OpenQASM 2.0 cannot say, unchanged but for ``set_backend``, on a real cluster.

They travel as qibo's raw JSON, completed by :mod:`qibo_client.circuits.raw`. Each is compared
with local qibo: with its exact distribution where one exists (noise channels, gates, initial
states, wire names), with local qibo's own seeded samples where only samples show the effect
(readout noise, collapsing measurements). Each test also checks a signature of what it tests, so
that a server that ignored the noise, the collapse or the state would fail.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import qibo
from backend_helpers import assert_agrees_with_local, assert_counts_match, exact_distribution
from qibo import Circuit, gates
from qibo.noise import DepolarizingError, NoiseModel
from qibo.quantum_info import random_statevector, random_unitary

from qibo_client.backend import RemoteTIIBackend
from qibo_client.config import QiboApiError

NSHOTS = 2000


def share(counts: dict[str, int], keys: set[str]) -> float:
    return sum(counts.get(key, 0) for key in keys) / sum(counts.values())


def noisy_ghz(density_matrix: bool) -> Circuit:
    circuit = Circuit(3, density_matrix=density_matrix)
    circuit.add(gates.H(0))
    circuit.add(gates.CNOT(0, 1))
    circuit.add(gates.CNOT(1, 2))
    circuit.add(gates.M(0, 1, 2))
    noise = NoiseModel()
    noise.add(DepolarizingError(0.2))
    return noise.apply(circuit)


@pytest.mark.parametrize("density_matrix", [True, False], ids=["density-matrix", "state-vector"])
def test_depolarizing_noise_model_on_ghz(remote: RemoteTIIBackend, density_matrix: bool) -> None:
    """A state-vector circuit with noise runs as qibo's repeated sampling would: same law."""
    counts = noisy_ghz(density_matrix)(nshots=NSHOTS).frequencies()

    assert_counts_match(counts, exact_distribution(lambda: noisy_ghz(True)))
    assert share(counts, {"000", "111"}) < 0.97  # the ideal GHZ gives only 000 and 111


def relaxing() -> Circuit:
    circuit = Circuit(1, density_matrix=True)
    circuit.add(gates.X(0))
    circuit.add(gates.ThermalRelaxationChannel(0, [1.0, 0.8, 0.5, 0.1]))
    circuit.add(gates.M(0))
    return circuit


def test_thermal_relaxation_on_one_qubit(remote: RemoteTIIBackend) -> None:
    counts = relaxing()(nshots=NSHOTS).frequencies()

    assert_counts_match(counts, exact_distribution(relaxing))
    assert 0.2 < share(counts, {"0"}) < 0.5  # decays towards |0>: about 0.36


def noisy_readout() -> Circuit:
    circuit = Circuit(2)
    circuit.add(gates.H(0))
    circuit.add(gates.CNOT(0, 1))
    circuit.add(gates.M(0, 1, p0=0.1, p1={1: 0.3}, register_name="Bell"))
    return circuit


def test_readout_error_on_a_bell_pair(remote: RemoteTIIBackend) -> None:
    """Bit-flip readout noise, and an upper-case register name (which QASM cannot write)."""
    result = noisy_readout()(nshots=NSHOTS)
    counts = result.frequencies()

    assert_agrees_with_local(counts, noisy_readout)
    assert share(counts, {"01", "10"}) > 0.1  # a perfect readout never gives 01 or 10
    assert result.frequencies(registers=True) == {"Bell": counts}


def collapsing() -> Circuit:
    circuit = Circuit(2)
    circuit.add(gates.H(0))
    circuit.add(gates.M(0, collapse=True))
    circuit.add(gates.H(0))
    circuit.add(gates.M(1))  # qibo makes this one collapse too: the CNOT touches qubit 1 next
    circuit.add(gates.CNOT(0, 1))
    circuit.add(gates.M(0, 1))
    return circuit


def test_collapsing_mid_circuit_measurement(remote: RemoteTIIBackend) -> None:
    counts = collapsing()(nshots=NSHOTS).frequencies()

    assert_agrees_with_local(counts, collapsing)
    assert set(counts) <= {"00", "11"}
    assert 0.4 < share(counts, {"00"}) < 0.6  # without the collapse, H H gives 00 always


def exotic_gates() -> Circuit:
    circuit = Circuit(3)
    circuit.add(gates.H(0))
    circuit.add(gates.RY(1, 0.7))
    circuit.add(gates.iSWAP(0, 1))
    circuit.add(gates.fSim(1, 2, 0.4, 0.9))
    circuit.add(gates.RZX(0, 2, 1.1))
    circuit.add(gates.ECR(2, 0))
    circuit.add(gates.Unitary(random_unitary(4, seed=11), 1, 2))
    circuit.add(gates.RY(2, 2.0).controlled_by(0, 1))
    circuit.add(gates.M(0, 1, 2))
    return circuit


def test_gates_qasm_cannot_say(remote: RemoteTIIBackend) -> None:
    """iSWAP, fSim, RZX, ECR, a random two-qubit Unitary and a controlled_by gate."""
    counts = exotic_gates()(nshots=NSHOTS).frequencies()

    expected = exact_distribution(exotic_gates)
    assert_counts_match(counts, expected)
    assert len(expected) >= 4  # a spread-out distribution, not one outcome


def prepared() -> Circuit:
    circuit = Circuit(2)
    circuit.add(gates.CNOT(0, 1))
    circuit.add(gates.M(0, 1))
    return circuit


def test_initial_state_travels_in_its_field(remote: RemoteTIIBackend) -> None:
    state = random_statevector(4, seed=5)
    bodies: list[dict[str, Any]] = []

    def hook(response: Any, *args: Any, **kwargs: Any) -> None:
        if response.request.method == "POST":
            bodies.append(json.loads(response.request.body))

    remote.client.api.session.hooks["response"].append(hook)
    counts = prepared()(state, nshots=NSHOTS).frequencies()

    assert_counts_match(counts, exact_distribution(prepared, state))
    (body,) = bodies
    assert isinstance(body["circuit"], dict)  # an initial state goes with raw only
    assert np.allclose([complex(*pair) for pair in body["initial_state"]], state)


def test_initial_states_of_a_batch_and_of_a_density_matrix_circuit(
    remote: RemoteTIIBackend,
) -> None:
    """One state per circuit, as in qibo; a pure density matrix goes as its state vector."""
    first, second = np.eye(4)[2], np.eye(4)[1]  # |10> and |01>
    results = remote.execute_circuits([prepared(), prepared()], [first, second], nshots=50)
    assert [result.frequencies() for result in results] == [{"11": 50}, {"01": 50}]

    circuit = Circuit(2, density_matrix=True)
    circuit.add(gates.CNOT(0, 1))
    circuit.add(gates.M(0, 1))
    assert circuit(np.outer(first, first), nshots=50).frequencies() == {"11": 50}


def test_initial_circuit_runs_first(remote: RemoteTIIBackend) -> None:
    """qibo's other form of initial state, a circuit, is prepended as qibo does."""
    preparation = Circuit(2)
    preparation.add(gates.X(1))
    circuit = Circuit(2)
    circuit.add(gates.CNOT(1, 0))
    circuit.add(gates.M(0, 1))

    assert circuit(preparation, nshots=50).frequencies() == {"11": 50}


@pytest.fixture
def hw5(cluster: Any) -> Iterator[RemoteTIIBackend]:
    qibo.set_backend("qibo-client", url=cluster.url, token=cluster.token, device="hw5")
    try:
        backend = qibo.get_backend()
        assert isinstance(backend, RemoteTIIBackend)
        yield backend
    finally:
        qibo.set_backend("numpy")


def wired() -> Circuit:
    circuit = Circuit(2, wire_names=["q3", "q4"])
    circuit.add(gates.H(0))
    circuit.add(gates.CNOT(0, 1))
    circuit.add(gates.RX(1, 0.4))
    circuit.add(gates.M(0, 1))
    return circuit


def test_wire_names_on_hw5(hw5: RemoteTIIBackend) -> None:
    assert_counts_match(wired()(nshots=NSHOTS).frequencies(), exact_distribution(wired))
    unknown = Circuit(1, wire_names=["q7"])  # hw5 has q0 to q4: the names did travel
    unknown.add(gates.M(0))
    with pytest.raises(QiboApiError, match="wire name 'q7'"):
        unknown(nshots=10)


def test_raw_without_matrices_or_channels_is_what_qibos_from_dict_reads() -> None:
    """TII's service is believed to read raw with qibo's ``from_dict``: bases stay right there."""
    from qibo.backends import NumpyBackend

    from qibo_client.circuits.raw import circuit_raw

    circuit = Circuit(3, wire_names=["q2", "q0", "q1"])
    circuit.add(gates.RX(0, 0.7))
    circuit.add(gates.iSWAP(0, 1))
    circuit.add(gates.RY(2, 1.3).controlled_by(0, 1))
    circuit.add(gates.M(0, basis=gates.Y))
    circuit.add(gates.M(1, 2, basis=gates.X))
    read = Circuit.from_dict(json.loads(json.dumps(circuit_raw(circuit))))

    local = NumpyBackend()
    exact = local.execute_circuit(circuit, nshots=1).probabilities([0, 1, 2])
    assert np.allclose(local.execute_circuit(read, nshots=1).probabilities([0, 1, 2]), exact)
    assert read.wire_names == circuit.wire_names
