"""``seed=`` makes a program's jobs replay, against a real loopback cluster.

The backend draws each job's seed from a numpy Generator seeded with the option, in submission
order, and sends it where the server lists the ``seed`` extension: the same program with the
same seed gets the same counts (so a failing statistical run can be replayed), another seed other
counts. A server that does not list the extension (the ``tii`` profile) is never sent a seed,
and the user hears once that the seed cannot be honoured.
"""

from __future__ import annotations

import json
import pickle
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
import qibo
from qibo import Circuit, gates
from qibo.hamiltonians import SymbolicHamiltonian
from qibo.symbols import X, Z

from qibo_client.backend import MetaBackend, RemoteTIIBackend
from qibo_client.errors import ConfigurationError
from qibo_client.protocol import MAX_SEED

SEED = 20240611
NSHOTS = 500


@contextmanager
def seeded(cluster: Any, seed: int | None) -> Iterator[RemoteTIIBackend]:
    """qibo's global backend set to the plugin on ``cluster`` with ``seed``; numpy afterwards."""
    qibo.set_backend("qibo-client", url=cluster.url, token=cluster.token, seed=seed)
    try:
        backend = qibo.get_backend()
        assert isinstance(backend, RemoteTIIBackend)
        yield backend
    finally:
        qibo.set_backend("numpy")


def posted(backend: RemoteTIIBackend) -> list[dict[str, Any]]:
    """The job bodies this backend POSTs from now on (a batch's jobs one by one)."""
    bodies: list[dict[str, Any]] = []

    def keep(answer: Any, *args: Any, **kwargs: Any) -> None:
        if answer.request.method == "POST" and "/jobs/" in answer.request.path_url:
            body = json.loads(answer.request.body)
            bodies.extend(body.get("jobs", [body]))

    backend.client.api.session.hooks["response"].append(keep)
    return bodies


def superposition(width: int, angle: float) -> Circuit:
    """Every outcome likely: counts that differ between two seeds for all practical purposes."""
    circuit = Circuit(width)
    for qubit in range(width):
        circuit.add(gates.H(qubit))
        circuit.add(gates.RY(qubit, theta=angle * (qubit + 1)))
    circuit.add(gates.M(*range(width)))
    return circuit


def sequence() -> list[dict[str, int]]:
    """Counts of a few circuits in a row, one job each, with the global backend."""
    return [
        dict(superposition(width, angle)(nshots=NSHOTS).frequencies())
        for width, angle in ((2, 0.3), (3, 0.7), (3, 1.1))
    ]


def energy() -> float:
    """A shots-based expectation value: two measurement groups, so one batch of two jobs."""
    hamiltonian = SymbolicHamiltonian(Z(0) * Z(1) + 0.5 * (X(0) + X(1)))
    circuit = Circuit(2)
    circuit.add(gates.RY(0, theta=0.4))
    circuit.add(gates.RY(1, theta=1.3))
    circuit.add(gates.CNOT(0, 1))
    return float(hamiltonian.expectation(circuit, nshots=NSHOTS))


def test_the_same_seed_gives_the_same_counts_and_another_seed_others(cluster: Any) -> None:
    runs = {}
    for name, seed in (("first", SEED), ("again", SEED), ("other", SEED + 1)):
        with seeded(cluster, seed):
            runs[name] = sequence()
    assert runs["first"] == runs["again"]
    assert all(first != other for first, other in zip(runs["first"], runs["other"], strict=True))
    assert all(sum(counts.values()) == NSHOTS for counts in runs["other"])


def test_an_expectation_value_replays_with_its_seed(cluster: Any) -> None:
    values = []
    for seed in (SEED, SEED, SEED + 1):
        with seeded(cluster, seed):
            values.append(energy())
    assert values[0] == values[1]
    assert values[0] != values[2]


def test_each_job_gets_the_next_seed_of_the_generator_batches_in_order(cluster: Any) -> None:
    with seeded(cluster, SEED) as backend:
        bodies = posted(backend)
        superposition(2, 0.3)(nshots=NSHOTS)
        energy()  # a batch of two jobs
    expected = np.random.default_rng(SEED).integers(0, MAX_SEED, size=3, endpoint=True)
    assert [body["seed"] for body in bodies] == [int(seed) for seed in expected]


def test_an_unseeded_backend_sends_no_seed(cluster: Any) -> None:
    with seeded(cluster, None) as backend:
        bodies = posted(backend)
        energy()
    assert len(bodies) == 2
    assert all("seed" not in body for body in bodies)


def test_a_pickled_backend_keeps_its_seed_and_draws_on_where_it_stood(
    cluster: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QIBO_CLIENT_URL", cluster.url)
    monkeypatch.setenv("QIBO_CLIENT_TOKEN", cluster.token)
    with seeded(cluster, SEED) as backend:
        superposition(2, 0.3)(nshots=NSHOTS)  # one seed drawn before the copy is made
        copy = pickle.loads(pickle.dumps(backend))
        assert isinstance(copy, RemoteTIIBackend)
        assert copy.seed == SEED
        circuit = superposition(3, 0.7)
        original = backend.execute_circuit(circuit, nshots=NSHOTS).frequencies()
        copied = copy.execute_circuit(superposition(3, 0.7), nshots=NSHOTS).frequencies()
    assert copied == original


def test_a_server_without_the_extension_gets_no_seed_and_the_user_hears_once(
    strict_cluster: Any,
) -> None:
    with seeded(strict_cluster, SEED) as backend:
        bodies = posted(backend)
        with warnings.catch_warnings(record=True) as heard:
            warnings.simplefilter("always")
            superposition(2, 0.3)(nshots=NSHOTS)
            superposition(2, 0.3)(nshots=NSHOTS)
            energy()
    assert len(bodies) == 4
    assert all("seed" not in body for body in bodies)
    said = [str(w.message) for w in heard if "cannot be honoured" in str(w.message)]
    assert len(said) == 1
    assert f"seed={SEED}" in said[0]
    assert strict_cluster.url in said[0]


@pytest.mark.parametrize("seed", [-1, 1.5, "7", True])
def test_a_seed_that_is_not_a_non_negative_integer_is_refused(seed: Any) -> None:
    with pytest.raises(ConfigurationError, match="non-negative integer"):
        MetaBackend.load(url="http://127.0.0.1:9", token="not-a-real-token", seed=seed)
