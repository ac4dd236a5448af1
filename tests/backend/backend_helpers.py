"""Statistical helpers: the cluster's counts against the exact distribution of local numpy.

Tolerances come from nshots: each count must lie within 5 binomial sigmas of nshots * p (plus one
for discreteness), so a correct backend fails a check about once in a few million, and a wrong
bit order or basis fails it at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np
import qibo
from qibo.backends import NumpyBackend

from qibo_client.backend import RemoteTIIBackend


@contextmanager
def plugin_on(cluster: Any) -> Iterator[RemoteTIIBackend]:
    """qibo's global backend set to the plugin on ``cluster``; numpy again afterwards."""
    np.random.seed(1234)
    qibo.set_backend("qibo-client", url=cluster.url, token=cluster.token)
    try:
        backend = qibo.get_backend()
        assert isinstance(backend, RemoteTIIBackend)
        yield backend
    finally:
        qibo.set_backend("numpy")


def exact_distribution(build: Callable[[], Any], initial_state: Any = None) -> dict[str, float]:
    """The exact outcome probabilities of a fresh circuit, keyed in measurement order.

    Exact for state-vector and density-matrix circuits alike (noise channels included); not for
    readout noise or collapsing measurements, which only show in samples (see
    :func:`assert_agrees_with_local`).
    """
    circuit = build()
    order = [q for gate in circuit.measurements for q in gate.target_qubits]
    result = NumpyBackend().execute_circuit(circuit, initial_state, nshots=1)
    probabilities = result.probabilities(order)
    width = len(order)
    return {f"{i:0{width}b}": float(p) for i, p in enumerate(probabilities) if p > 1e-12}


def assert_counts_match(counts: Mapping[str, int], expected: Mapping[str, float]) -> None:
    """Every outcome count within 5 binomial sigmas (+1 for discreteness) of nshots * p."""
    nshots = sum(counts.values())
    unexpected = set(counts) - set(expected)
    assert not unexpected, f"outcomes with probability 0 were counted: {sorted(unexpected)}"
    for key, p in expected.items():
        mean = nshots * p
        sigma = math.sqrt(nshots * p * (1 - p))
        assert abs(counts.get(key, 0) - mean) <= 5 * sigma + 1, (key, counts.get(key, 0), mean)


def assert_agrees_with_local(counts: Mapping[str, int], build: Callable[[], Any]) -> None:
    """The cluster's counts against local qibo's own samples of a fresh circuit (fixed seed).

    For what has no exact distribution to read (readout noise, collapsing measurements): each
    outcome's two counts differ by less than 5 sigmas of the difference of two binomial draws,
    plus 3 counts for outcomes near probability 0.
    """
    nshots = sum(counts.values())
    backend = NumpyBackend()
    backend.set_seed(7)
    np.random.seed(7)
    local = backend.execute_circuit(build(), nshots=nshots).frequencies(binary=True)
    assert sum(local.values()) == nshots
    for key in set(counts) | set(local):
        a, b = counts.get(key, 0), local.get(key, 0)
        p = (a + b) / (2 * nshots)
        assert abs(a - b) <= 5 * math.sqrt(2 * nshots * p * (1 - p)) + 3, (key, a, b)


def read_in_another_process(result: Any) -> tuple[dict[str, int], dict[str, dict[str, int]], str]:
    """What a worker process reads of a pickled result: counts, registers, its server's URL.

    Module-level, so that ``multiprocessing`` (spawn) and joblib can send it to a child.
    """
    return (
        dict(result.frequencies(binary=True)),
        {name: dict(counts) for name, counts in result.frequencies(registers=True).items()},
        result.backend.url,
    )
