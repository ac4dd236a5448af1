"""The rest of qibo beside the plugin: engine-picking helpers, NumPy scalars, refusals' classes.

qibo's helpers that pick their engine from the backend's name must compute locally (with numpy)
under ours and give exactly what they give under numpy (same seed); a circuit they build runs
on the cluster. NumPy scalars travel in both circuit formats. Refusals that qibo also makes
raise qibo's class too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
import qibo
from backend_helpers import assert_counts_match, exact_distribution, plugin_on
from qibo import Circuit, gates
from qibo import quantum_info as qi
from qibo.backends import HammingWeightBackend, NumpyBackend
from qibo.noise import IBMQNoiseModel

from qibo_client.backend import RemoteTIIBackend
from qibo_client.config import ResultUnavailableError, UnsupportedCircuitError

NSHOTS = 2000


def _bell() -> Circuit:
    circuit = Circuit(2)
    circuit.add(gates.H(0))
    circuit.add(gates.CNOT(0, 1))
    circuit.add(gates.M(0, 1))
    return circuit


def _ibmq_noisy() -> int:
    model = IBMQNoiseModel()
    model.from_dict(
        {
            "t1": {"0": 0.1, "1": 0.2},
            "t2": {"0": 0.01, "1": 0.02},
            "depolarizing_one_qubit": {"0": 0.1, "1": 0.1},
            "depolarizing_two_qubit": {"0-1": 0.1},
            "excited_population": 0.1,
            "gate_times": (0.1, 0.2),
            "readout_one_qubit": {"0": (0.1, 0.1), "1": 0.05},
        }
    )
    return len(model.apply(_bell()).queue)


#: Helpers that choose their engine by the global backend's name or platform (qibo 0.3.6),
#: each reduced to something comparable.
ENGINE_PICKING: dict[str, Callable[[], Any]] = {
    "random_clifford": lambda: [g.name for g in qi.random_clifford(3, seed=1).queue],
    "random_clifford as a Clifford": lambda: (
        qi.random_clifford(2, seed=1, return_circuit=False).symplectic_matrix
    ),
    "Clifford.from_circuit": lambda: qi.Clifford.from_circuit(_bell()).stabilizers(),
    "Clifford of a symplectic matrix": lambda: (
        qi.Clifford(np.eye(3, dtype=np.uint8), nqubits=1).platform
    ),
    "IBMQNoiseModel.apply": _ibmq_noisy,
    "HammingWeightBackend()": lambda: HammingWeightBackend().name,
}


@pytest.fixture
def offline_global() -> Iterator[RemoteTIIBackend]:
    """The plugin as qibo's global backend, pointed at no server: local work must not connect."""
    qibo.set_backend("qibo-client", url="http://127.0.0.1:9", token="not-a-real-token")
    try:
        yield qibo.get_backend()
    finally:
        qibo.set_backend("numpy")


def _under_numpy(helper: Callable[[], Any]) -> Any:
    qibo.set_backend("numpy")
    return helper()


@pytest.mark.parametrize("name", sorted(ENGINE_PICKING))
def test_engine_picking_helpers_compute_locally_as_under_numpy(
    name: str, offline_global: RemoteTIIBackend
) -> None:
    ours = ENGINE_PICKING[name]()
    expected = _under_numpy(ENGINE_PICKING[name])
    np.testing.assert_equal(np.asarray(ours, dtype=object), np.asarray(expected, dtype=object))


def test_the_backend_keeps_its_name_and_device(offline_global: RemoteTIIBackend) -> None:
    assert (offline_global.name, offline_global.platform) == ("qibo-client", "sim")
    assert repr(offline_global).startswith("qibo-client (sim at http://127.0.0.1:9")
    assert qibo.backends.CliffordBackend("numpy").platform == "numpy"  # others untouched


def test_a_random_clifford_circuit_runs_on_the_cluster(remote: RemoteTIIBackend) -> None:
    def build() -> Circuit:
        circuit = qi.random_clifford(3, seed=5)
        circuit.add(gates.M(0, 1, 2))
        return circuit

    counts = build()(nshots=NSHOTS).frequencies(binary=True)
    assert_counts_match(counts, exact_distribution(build))


def _numpy_scalars() -> Circuit:
    circuit = Circuit(3)  # qibo itself refuses Circuit(np.int64(3))
    circuit.add(gates.H(np.int64(0)))
    circuit.add(gates.RX(np.int32(1), theta=np.float32(0.7)))
    circuit.add(gates.CNOT(np.int64(0), np.int64(2)))
    circuit.add(gates.U3(np.int64(2), np.float64(0.3), np.float32(0.2), np.float64(0.1)))
    circuit.add(gates.M(*np.arange(3)))
    return circuit


@pytest.mark.parametrize("circuit_format", ["raw", "qasm"])
def test_numpy_scalars_travel_in_both_formats(cluster: Any, circuit_format: str) -> None:
    with plugin_on(cluster) as backend:
        backend.options = dataclasses.replace(backend.options, circuit_format=circuit_format)
        counts = _numpy_scalars()(nshots=np.int64(NSHOTS)).frequencies(binary=True)
    assert sum(counts.values()) == NSHOTS
    assert_counts_match(counts, exact_distribution(_numpy_scalars))


def test_numpy_probabilities_of_a_channel_travel(remote: RemoteTIIBackend) -> None:
    def build() -> Circuit:
        circuit = Circuit(1, density_matrix=True)
        circuit.add(gates.DepolarizingChannel((np.int64(0),), np.float64(0.5)))
        circuit.add(gates.PauliNoiseChannel((np.int64(0),), [("X", np.float32(0.25))]))
        circuit.add(gates.M(np.int64(0)))
        return circuit

    counts = build()(nshots=NSHOTS).frequencies(binary=True)
    assert_counts_match(counts, exact_distribution(build))


def test_unmeasured_probabilities_raise_qibos_runtime_error_too(remote: RemoteTIIBackend) -> None:
    result = _bell()(nshots=10)
    wider = Circuit(3)
    wider.add(gates.M(0))
    with pytest.raises(RuntimeError, match="not measured") as caught:
        wider(nshots=10).probabilities([1])
    assert isinstance(caught.value, UnsupportedCircuitError)  # the existing base stays
    assert isinstance(caught.value, ResultUnavailableError)
    assert result.probabilities([1, 0]).shape == (4,)


def test_numpy_qibo_also_raises_runtime_error_there() -> None:
    """What the class above matches: qibo's own counts-only result raises RuntimeError."""
    from qibo.result import MeasurementOutcomes

    outcomes = MeasurementOutcomes.from_frequencies({"0": 3, "1": 1}, nqubits=1)
    outcomes.backend = NumpyBackend()
    with pytest.raises(RuntimeError):
        outcomes.probabilities([3])
