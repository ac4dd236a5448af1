"""What cannot travel fails loudly, before anything is sent, with a message that says what to do.

Most refusals use a backend whose server does not exist: if one of them reached the network, the
test would fail with a connection error instead of the typed refusal.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
import responses
from qibo import Circuit, gates
from qibo.hamiltonians import SymbolicHamiltonian
from qibo.symbols import X, Z

from qibo_client.backend import RemoteTIIBackend
from qibo_client.circuits.export import export_circuit
from qibo_client.circuits.qasm import qasm_problem, to_qasm
from qibo_client.circuits.raw import circuit_raw
from qibo_client.config import JobFailedError, UnsupportedCircuitError


def measured(nqubits: int = 2) -> Circuit:
    circuit = Circuit(nqubits)
    circuit.add(gates.H(0))
    return circuit


def with_measurement(circuit: Circuit) -> Circuit:
    circuit.add(gates.M(*range(circuit.nqubits)))
    return circuit


def test_initial_state_on_hardware_is_refused_before_the_circuit_is_sent(cluster: Any) -> None:
    backend = RemoteTIIBackend(url=cluster.url, token=cluster.token, device="hw5")
    posts: list[str] = []
    backend.client.api.session.hooks["response"].append(
        lambda response, *args, **kwargs: posts.append(response.request.method)
    )
    state = np.zeros(4, dtype=complex)
    state[3] = 1
    with pytest.raises(UnsupportedCircuitError, match=r"'hw5' is hardware.*preparation"):
        backend.execute_circuit(with_measurement(measured()), state, 100)
    with pytest.raises(UnsupportedCircuitError, match="hardware"):
        backend.execute_circuits([with_measurement(measured())], initial_states=[state])
    assert "POST" not in posts


def test_initial_state_is_not_sent_to_a_server_that_does_not_list_it(strict_cluster: Any) -> None:
    """The ``tii`` profile lists no extensions: TII's service might ignore the field."""
    backend = RemoteTIIBackend(url=strict_cluster.url, token=strict_cluster.token)
    posts: list[str] = []
    backend.client.api.session.hooks["response"].append(
        lambda response, *args, **kwargs: posts.append(response.request.method)
    )
    with pytest.raises(UnsupportedCircuitError, match=r"does not list the initial_state.*gates"):
        backend.execute_circuit(with_measurement(measured()), np.eye(4)[3], 100)
    assert "POST" not in posts


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (np.eye(4) / 4, "mixed .*initial density matrix"),
        (np.ones(8) / np.sqrt(8), r"2\*\*2 amplitudes"),
        (np.array([np.nan, 1, 0, 0]), "NaN"),
    ],
    ids=["mixed", "wrong-size", "nan"],
)
def test_initial_states_that_cannot_travel(
    offline: RemoteTIIBackend, state: Any, message: str
) -> None:
    with pytest.raises(UnsupportedCircuitError, match=message):
        offline.execute_circuit(with_measurement(measured()), state, 100)


def test_callback_is_refused(offline: RemoteTIIBackend) -> None:
    from qibo.callbacks import EntanglementEntropy

    circuit = measured()
    circuit.add(gates.CallbackGate(EntanglementEntropy([0])))
    with_measurement(circuit)
    with pytest.raises(UnsupportedCircuitError, match=r"CallbackGate.*state vector"):
        offline.execute_circuit(circuit, nshots=100)


def test_classical_feedback_is_refused(offline: RemoteTIIBackend) -> None:
    circuit = measured()
    outcome = circuit.add(gates.M(0, collapse=True))
    circuit.add(gates.RX(1, theta=np.pi * outcome.symbols[0] / 2))
    circuit.add(gates.M(1))
    with pytest.raises(UnsupportedCircuitError, match="classical feedback"):
        offline.execute_circuit(circuit, nshots=100)


def test_circuit_without_measurements_says_use_shots(offline: RemoteTIIBackend) -> None:
    with pytest.raises(UnsupportedCircuitError, match=r"no measurements.*nshots"):
        offline.execute_circuit(measured(), nshots=100)


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


# -- what goes on the wire: QASM where it says the circuit, completed raw elsewhere ---------------


def _qasm_cannot_say(kind: str) -> Circuit:
    circuit = Circuit(3, density_matrix=kind == "density-matrix", wire_names=None)
    circuit.add(gates.H(0))
    if kind == "channel":
        circuit.add(gates.DepolarizingChannel((0,), 0.1))
    elif kind == "collapse":
        circuit.add(gates.M(0, collapse=True))
        circuit.add(gates.H(0))
    elif kind == "gate-after-measurement":
        circuit.add(gates.M(0))
        circuit.add(gates.X(0))
    elif kind == "unitary":
        circuit.add(gates.Unitary(np.array([[0, 1], [1, 0]], dtype=complex), 0))
    elif kind == "iswap":  # qibo writes ``iswap``, which qelib1.inc does not define
        circuit.add(gates.iSWAP(0, 1))
    elif kind == "multi-controlled":
        circuit.add(gates.RX(0, theta=0.3).controlled_by(1, 2))
    if kind == "bit-flip":
        circuit.add(gates.M(0, 1, 2, p0=0.1))
    elif kind == "upper-case":
        circuit.add(gates.M(0, 1, 2, register_name="Alice"))
    else:
        circuit.add(gates.M(1, 2))
    return circuit


@pytest.mark.parametrize(
    "kind",
    [
        "density-matrix",
        "channel",
        "collapse",
        "gate-after-measurement",
        "bit-flip",
        "unitary",
        "iswap",
        "multi-controlled",
        "upper-case",
    ],
)
def test_what_qasm_cannot_say_goes_as_raw(kind: str) -> None:
    circuit = _qasm_cannot_say(kind)

    assert qasm_problem(circuit)
    with pytest.raises(UnsupportedCircuitError):
        to_qasm(circuit)  # QASM, when forced, still refuses rather than change the circuit
    wire = export_circuit(circuit, "auto", "qasm")  # to a server that takes QASM
    assert isinstance(wire, dict)
    assert json.loads(json.dumps(wire)) == wire


def test_what_qasm_says_stays_qasm() -> None:
    circuit = Circuit(3)
    circuit.add(gates.X(1).controlled_by(0))  # qibo makes this a CNOT: no controlled_by left
    circuit.add(gates.M(0, 1, basis=gates.Y))
    circuit.add(gates.M(2, basis=gates.X))

    assert qasm_problem(circuit) is None
    assert export_circuit(circuit, "auto", "qasm") == to_qasm(circuit)


def test_raw_is_completed_where_qibos_raw_loses_things() -> None:
    circuit = Circuit(2, density_matrix=True)
    circuit.add(gates.DepolarizingChannel((0, 1), 0.3))
    circuit.add(gates.KrausChannel(0, [np.sqrt(0.5) * np.eye(2)] * 2))
    circuit.add(gates.M(0, 1, basis=gates.Y))

    queue = circuit_raw(circuit)["queue"]

    assert queue[0]["init_kwargs"]["lam"] == 0.3  # qibo's raw drops it
    (operators,) = queue[1]["init_args"]
    assert operators[0]["_class"] == "Unitary"
    root = 0.5**0.5
    assert operators[0]["init_args"] == [[[root, 0.0], [0.0, root]], 0]  # real: plain numbers
    assert [entry["_class"] for entry in queue[2:]] == ["SDG", "H", "SDG", "H", "M"]  # Y bases
    assert queue[-1]["init_kwargs"]["basis"] == ["Z", "Z"]  # measured after the rotations
    assert queue[-1]["measurement_result"] == {"samples": None}
