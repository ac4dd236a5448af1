"""What cannot travel fails loudly, before anything is sent, with a message that says what to do.

Most refusals use a backend whose server does not exist: if one of them reached the network, the
test would fail with a connection error instead of the typed refusal.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import responses
from qibo import Circuit, gates
from qibo.hamiltonians import SymbolicHamiltonian
from qibo.symbols import X, Z

from qibo_client.backend import RemoteTIIBackend
from qibo_client.config import JobFailedError, UnsupportedCircuitError
from qibo_client.qasm import to_qasm


def measured(nqubits: int = 2) -> Circuit:
    circuit = Circuit(nqubits)
    circuit.add(gates.H(0))
    return circuit


def with_measurement(circuit: Circuit) -> Circuit:
    circuit.add(gates.M(*range(circuit.nqubits)))
    return circuit


def test_initial_state_is_refused(offline: RemoteTIIBackend) -> None:
    circuit = with_measurement(measured())
    state = np.zeros(4, dtype=complex)
    state[3] = 1
    with pytest.raises(UnsupportedCircuitError, match="Prepare the state with gates"):
        offline.execute_circuit(circuit, state, 100)
    with pytest.raises(UnsupportedCircuitError, match="Initial states"):
        offline.execute_circuits([circuit], initial_states=[state], nshots=100)


def test_circuit_without_measurements_says_use_shots(offline: RemoteTIIBackend) -> None:
    with pytest.raises(UnsupportedCircuitError, match=r"no measurements.*nshots"):
        offline.execute_circuit(measured(), nshots=100)


def test_density_matrix_circuit_is_refused(offline: RemoteTIIBackend) -> None:
    circuit = Circuit(1, density_matrix=True)
    circuit.add(gates.H(0))
    circuit.add(gates.M(0))
    with pytest.raises(UnsupportedCircuitError, match="Density-matrix"):
        offline.execute_circuit(circuit, nshots=100)


@pytest.mark.parametrize(
    "channel",
    [
        gates.DepolarizingChannel((0,), 0.1),
        gates.PauliNoiseChannel(0, [("X", 0.1)]),
        gates.AmplitudeDampingChannel(0, 0.2),
    ],
    ids=["depolarizing", "pauli", "amplitude-damping"],
)
def test_noise_channels_are_refused(offline: RemoteTIIBackend, channel: Any) -> None:
    circuit = measured()
    circuit.add(channel)
    with_measurement(circuit)
    with pytest.raises(UnsupportedCircuitError, match="Noise channels"):
        offline.execute_circuit(circuit, nshots=100)


def test_collapsing_measurement_is_refused(offline: RemoteTIIBackend) -> None:
    circuit = measured()
    circuit.add(gates.M(0, collapse=True))
    circuit.add(gates.H(0))
    circuit.add(gates.M(0, 1))
    with pytest.raises(UnsupportedCircuitError, match="collapse=True"):
        offline.execute_circuit(circuit, nshots=100)


def test_gate_after_measurement_is_refused(offline: RemoteTIIBackend) -> None:
    """qibo turns such a measurement into a collapsing one; QASM would move it to the end."""
    circuit = measured()
    circuit.add(gates.M(0))
    circuit.add(gates.X(0))
    circuit.add(gates.M(1))
    with pytest.raises(UnsupportedCircuitError, match="Mid-circuit"):
        offline.execute_circuit(circuit, nshots=100)


def test_measurement_bitflip_noise_is_refused(offline: RemoteTIIBackend) -> None:
    circuit = measured()
    circuit.add(gates.M(0, 1, p0=0.1))
    with pytest.raises(UnsupportedCircuitError, match=r"bit-flip.*apply_bitflips"):
        offline.execute_circuit(circuit, nshots=100)


@pytest.mark.parametrize(
    "gate",
    [
        gates.Unitary(np.array([[0, 1], [1, 0]], dtype=complex), 0),
        gates.fSim(0, 1, 0.3, 0.2),
        gates.RX(0, theta=0.3).controlled_by(1, 2),
    ],
    ids=["unitary", "fsim", "multi-controlled"],
)
def test_gates_qasm_cannot_express_are_refused(offline: RemoteTIIBackend, gate: Any) -> None:
    circuit = Circuit(3)
    circuit.add(gate)
    with_measurement(circuit)
    with pytest.raises(UnsupportedCircuitError, match="cannot be written as OpenQASM"):
        offline.execute_circuit(circuit, nshots=100)


def test_upper_case_register_is_refused(offline: RemoteTIIBackend) -> None:
    circuit = measured()
    circuit.add(gates.M(0, register_name="Alice"))
    with pytest.raises(UnsupportedCircuitError, match="lower-case"):
        offline.execute_circuit(circuit, nshots=100)


def test_batch_is_refused_before_anything_is_queued(offline: RemoteTIIBackend) -> None:
    good = with_measurement(measured())
    with (
        responses.RequestsMock(assert_all_requests_are_fired=False) as wire,
        pytest.raises(UnsupportedCircuitError, match="no measurements"),
    ):
        offline.execute_circuits([good, measured()], nshots=100)
    assert len(wire.calls) == 0  # not even the version check was sent


def test_exact_expectation_without_shots_says_use_shots(remote: RemoteTIIBackend) -> None:
    circuit = measured()
    hamiltonian = SymbolicHamiltonian(X(0) + Z(1))
    with pytest.raises(UnsupportedCircuitError, match=r"expectation\(circuit, nshots="):
        hamiltonian.expectation(circuit)


def test_state_vector_of_a_remote_result_says_use_shots(remote: RemoteTIIBackend) -> None:
    result = with_measurement(measured())(nshots=10)
    with pytest.raises(UnsupportedCircuitError, match="not the state vector"):
        result.state()


def test_probabilities_of_unmeasured_qubit_are_refused(remote: RemoteTIIBackend) -> None:
    circuit = measured(3)
    circuit.add(gates.M(0, 2))
    result = circuit(nshots=10)
    assert result.probabilities([2, 0]).shape == (4,)
    with pytest.raises(UnsupportedCircuitError, match=r"Qubits \[1\] were not measured"):
        result.probabilities([1])
    with pytest.raises(UnsupportedCircuitError, match="not measured"):
        result.probabilities()  # native would include qubit 1: counts cannot


def test_failed_job_raises_with_the_servers_reason() -> None:
    """A job that ends in ``error`` (a reply the reference server gives only for crashes)."""
    url = "http://cluster.invalid"
    failed = {"pid": "p1", "status": "error", "stderr": "ValueError: out of memory on node 3"}
    backend = RemoteTIIBackend(token="t", url=url)
    with responses.RequestsMock() as server:
        server.get(
            f"{url}/api/qibo_version/",
            json={"server_qibo_version": "0.3.6", "minimum_client_qibo_version": "0.3.0"},
        )
        server.post(f"{url}/api/jobs/", json=failed)
        with pytest.raises(JobFailedError, match="out of memory on node 3") as caught:
            backend.execute_circuit(with_measurement(measured()), nshots=10)
    assert caught.value.pid == "p1"


# -- the QASM export itself ------------------------------------------------------------------


def test_bases_become_standard_gates_without_touching_the_circuit() -> None:
    circuit = Circuit(3)
    circuit.add(gates.RX(0, theta=math.pi / 3))
    circuit.add(gates.M(0, 2, basis=gates.Y, register_name="y"))
    circuit.add(gates.M(1, basis=gates.X, register_name="x"))
    queue = list(circuit.queue)

    text = to_qasm(circuit)

    lines = text.splitlines()
    body = lines[lines.index("creg x[1];") + 1 :]
    assert body == [
        "rx(1.0471975511965976) q[0];",
        "sdg q[0];",
        "h q[0];",
        "sdg q[2];",
        "h q[2];",
        "h q[1];",
        "measure q[0] -> y[0];",
        "measure q[2] -> y[1];",
        "measure q[1] -> x[0];",
    ]
    assert list(circuit.queue) == queue
    assert all(gate.result.circuit is circuit for gate in circuit.measurements)
    assert to_qasm(text) == text  # QASM text passes through
