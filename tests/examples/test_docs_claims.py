"""What the documentation warns qibo users about is true of the installed qibo.

docs/backend.md and the quick start say: a Hamiltonian built *before*
``qibo.set_backend("qibo-client")`` keeps the backend it was built with, so its shots-based
expectation runs locally, silently; one built after runs on the cluster; a circuit takes the
backend that is set when it runs. The server's own job list is the witness.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import qibo
from qibo import Circuit, gates
from qibo.hamiltonians import SymbolicHamiltonian
from qibo.symbols import Z

from qibo_client import Client


@pytest.fixture
def server_jobs(cluster: Any) -> Iterator[Any]:
    """How many jobs the cluster holds for the test's user, asked on demand."""
    with Client(cluster.url, cluster.token, progress=False, journal=False) as client:
        yield lambda: len(client.jobs())


def bell() -> Circuit:
    circuit = Circuit(2)
    circuit.add(gates.H(0))
    circuit.add(gates.CNOT(0, 1))
    return circuit


def test_hamiltonian_built_before_set_backend_runs_locally(cluster: Any, server_jobs: Any) -> None:
    qibo.set_backend("numpy")
    before = SymbolicHamiltonian(Z(0) * Z(1))
    try:
        qibo.set_backend("qibo-client", url=cluster.url, token=cluster.token)
        after = SymbolicHamiltonian(Z(0) * Z(1))

        jobs = server_jobs()
        assert float(before.expectation(bell(), nshots=100)) == 1.0
        assert server_jobs() == jobs, "the old Hamiltonian sent a job"
        assert before.backend.name == "numpy"

        assert float(after.expectation(bell(), nshots=100)) == 1.0
        assert server_jobs() == jobs + 1
        assert after.backend.name == "qibo-client"
    finally:
        qibo.set_backend("numpy")


def test_circuit_built_before_set_backend_runs_remotely(cluster: Any, server_jobs: Any) -> None:
    qibo.set_backend("numpy")
    circuit = bell()
    circuit.add(gates.M(0, 1))
    try:
        qibo.set_backend("qibo-client", url=cluster.url, token=cluster.token)
        jobs = server_jobs()
        frequencies = circuit(nshots=100).frequencies()
        assert server_jobs() == jobs + 1
        assert set(frequencies) <= {"00", "11"}
    finally:
        qibo.set_backend("numpy")
