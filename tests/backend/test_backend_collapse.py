"""A collapsing measurement's own outcomes come back through the plugin, shot by shot.

The server simulates each collapse as a CNOT onto a fresh ancilla read at the end (the deferred
measurement principle), so one run gives every shot's mid-circuit and final outcomes together.
These tests run the user's code against the session's server and compare the joint outcomes
with local qibo's repeated execution (within 5 sigma of the difference of two binomial draws,
seeded), and check what is exact: per shot, a collapse and a final measurement of the same
untouched qubit agree. Where the outcomes cannot come back, asking for them raises a typed
error (never ``None``).
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np
import pytest
from backend_helpers import plugin_on
from qibo import Circuit, gates
from qibo.backends import NumpyBackend

from qibo_client.backend import RemoteTIIBackend
from qibo_client.config import ResultUnavailableError

NSHOTS = 1000


def test_the_issues_reproduction_gives_each_shots_outcome(remote: RemoteTIIBackend) -> None:
    circuit = Circuit(2)
    circuit.add(gates.H(0))
    r = circuit.add(gates.M(0, collapse=True))
    circuit.add(gates.M(0, 1))
    result = circuit(nshots=5)
    samples = np.asarray(r.samples())
    assert samples.shape == (5, 1)
    # Nothing touches qubit 0 between the two measurements: each shot reads it the same twice.
    np.testing.assert_array_equal(samples[:, 0], np.asarray(result.samples())[:, 0])
    assert sum(r.frequencies().values()) == 5
    assert r.symbols[0].outcome() == samples[-1][0]
    assert dict(r.frequencies(binary=False)) == dict(Counter(samples[:, 0].tolist()))
    assert sum(result.frequencies().values()) == 5  # the final counts as before


def _mid_circuit() -> tuple[Circuit, Any, Any]:
    """Two collapses (the second over two qubits, given out of order) between rotations."""
    circuit = Circuit(3)
    circuit.add(gates.RY(0, 0.9))
    circuit.add(gates.RY(1, 2.1))
    first = circuit.add(gates.M(0, collapse=True))
    circuit.add(gates.RY(0, 0.5))
    circuit.add(gates.CNOT(0, 2))
    second = circuit.add(gates.M(1, 0, collapse=True))
    circuit.add(gates.RX(2, 0.4))
    circuit.add(gates.M(2, 0))
    return circuit, first, second


def _joint(first: Any, second: Any, result: Any) -> Counter[str]:
    rows = zip(
        np.asarray(first.samples()).tolist(),
        np.asarray(second.samples()).tolist(),
        np.asarray(result.samples()).tolist(),
        strict=True,
    )
    return Counter("".join(str(int(b)) for part in row for b in part) for row in rows)


def test_joint_outcomes_agree_with_local_qibo(remote: RemoteTIIBackend) -> None:
    circuit, first, second = _mid_circuit()
    ours = _joint(first, second, circuit(nshots=NSHOTS))
    local_circuit, local_first, local_second = _mid_circuit()
    backend = NumpyBackend()
    backend.set_seed(7)
    np.random.seed(7)
    local = _joint(local_first, local_second, backend.execute_circuit(local_circuit, nshots=NSHOTS))
    assert sum(ours.values()) == sum(local.values()) == NSHOTS
    for key in set(ours) | set(local):
        a, b = ours.get(key, 0), local.get(key, 0)
        p = (a + b) / (2 * NSHOTS)
        assert abs(a - b) <= 5 * math.sqrt(2 * NSHOTS * p * (1 - p)) + 3, (key, a, b)


def test_a_server_without_the_extension_says_so_when_asked(strict_cluster: Any) -> None:
    circuit, first, _ = _mid_circuit()
    with plugin_on(strict_cluster):
        result = circuit(nshots=50)
    assert sum(result.frequencies().values()) == 50
    with pytest.raises(ResultUnavailableError, match="collapse_outcomes extension") as caught:
        first.samples()
    assert isinstance(caught.value, RuntimeError)  # where qibo's own results raise RuntimeError
    with pytest.raises(ResultUnavailableError):
        first.frequencies()
    with pytest.raises(ResultUnavailableError):
        first.symbols[0].outcome()


def test_outcomes_come_back_again_on_a_server_that_returns_them(
    strict_cluster: Any, cluster: Any
) -> None:
    circuit, first, _ = _mid_circuit()
    with plugin_on(strict_cluster):
        circuit(nshots=20)
    with plugin_on(cluster):
        circuit(nshots=20)
    assert np.asarray(first.samples()).shape == (20, 1)


def test_a_circuit_too_wide_with_its_ancillas_raises_when_asked(remote: RemoteTIIBackend) -> None:
    """Six qubits with a channel is a density matrix; five collapses would make it eleven."""
    circuit = Circuit(6, density_matrix=True)
    circuit.add(gates.H(q) for q in range(5))
    collapse = circuit.add(gates.M(0, 1, 2, 3, 4, collapse=True))
    circuit.add(gates.DepolarizingChannel((5,), 0.1))
    circuit.add(gates.M(0, 5))
    result = circuit(nshots=30)
    assert sum(result.frequencies().values()) == 30
    with pytest.raises(ResultUnavailableError, match="wider than it simulates"):
        collapse.samples()


def test_a_circuit_run_locally_first_runs_remotely_too(cluster: Any) -> None:
    """A local collapsing run leaves a list of samples on the gate that qibo's raw cannot write."""
    circuit, first, _ = _mid_circuit()
    NumpyBackend().execute_circuit(circuit, nshots=5)
    assert isinstance(first.samples(), list)  # what the local run left
    with plugin_on(cluster):
        circuit(nshots=30)
    assert np.asarray(first.samples()).shape == (30, 1)


def test_a_batch_brings_back_each_circuits_collapse_outcomes(remote: RemoteTIIBackend) -> None:
    built = [_mid_circuit() for _ in range(2)]
    results = remote.execute_circuits([circuit for circuit, _, _ in built], nshots=25)
    for (_, first, second), result in zip(built, results, strict=True):
        assert np.asarray(first.samples()).shape == (25, 1)
        assert np.asarray(second.samples()).shape == (25, 2)
        assert sum(result.frequencies().values()) == 25
