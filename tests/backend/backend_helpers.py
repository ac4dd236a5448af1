"""Statistical helpers: the cluster's counts against the exact distribution of local numpy.

Tolerances come from nshots: each count must lie within 5 binomial sigmas of nshots * p (plus one
for discreteness), so a correct backend fails a check about once in a few million, and a wrong
bit order or basis fails it at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from qibo.backends import NumpyBackend


def exact_distribution(build: Callable[[], Any]) -> dict[str, float]:
    """The exact outcome probabilities of a fresh circuit, keyed in measurement order."""
    circuit = build()
    order = [q for gate in circuit.measurements for q in gate.target_qubits]
    probabilities = NumpyBackend().execute_circuit(circuit, nshots=1).probabilities(order)
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
