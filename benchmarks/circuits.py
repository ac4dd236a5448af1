"""Seeded circuits shared by the cases and the official client's driver.

This file runs under both qibo 0.3.6 (our side) and qibo 0.3.2 (the official client's venv), so it
uses only gates and calls that exist, unchanged, in both.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def bell() -> Any:
    """H, CNOT and a measurement of both qubits: the smallest job that means something."""
    from qibo import Circuit, gates

    circuit = Circuit(2)
    circuit.add(gates.H(0))
    circuit.add(gates.CNOT(0, 1))
    circuit.add(gates.M(0, 1))
    return circuit


#: The angles of :func:`energy_ansatz` (fixed: every client measures the same state).
ENERGY_ANGLES = (0.3, 1.1)


def energy_ansatz(basis: str | None = None) -> Any:
    """Two qubits, RY(0.3), RY(1.1) and a CNOT: the state of B11's energy of Z0 Z1 + X0 X1.

    ``basis=None``: no measurement (what ``SymbolicHamiltonian.expectation`` is given); ``"z"``
    or ``"x"``: measured in that basis (``H`` on both qubits first for X), the two groups a
    client without qibo's grouping runs itself.
    """
    from qibo import Circuit, gates

    circuit = Circuit(2)
    circuit.add(gates.RY(0, theta=ENERGY_ANGLES[0]))
    circuit.add(gates.RY(1, theta=ENERGY_ANGLES[1]))
    circuit.add(gates.CNOT(0, 1))
    if basis == "x":
        circuit.add(gates.H(0))
        circuit.add(gates.H(1))
    if basis is not None:
        circuit.add(gates.M(0, 1))
    return circuit


def parity(counts: dict[str, int]) -> float:
    """The mean of (-1)^(b0 + b1) over two-bit counts: <Z0 Z1> in the measured basis."""
    total = sum(counts.values())
    return sum((-1) ** key.count("1") * value for key, value in counts.items()) / total


def layered(nqubits: int, depth: int, seed: int) -> Any:
    """A random brickwork circuit: a random rotation on every qubit, then CZs, ``depth`` times.

    5 qubits and depth 10 give 70 gates plus one measurement of every qubit.
    """
    from qibo import Circuit, gates

    rng = np.random.default_rng(seed)
    rotations = (gates.RX, gates.RY, gates.RZ)
    circuit = Circuit(nqubits)
    for layer in range(depth):
        for qubit in range(nqubits):
            gate = rotations[int(rng.integers(3))]
            circuit.add(gate(qubit, theta=float(rng.uniform(0, 2 * np.pi))))
        for qubit in range(layer % 2, nqubits - 1, 2):
            circuit.add(gates.CZ(qubit, qubit + 1))
    circuit.add(gates.M(*range(nqubits)))
    return circuit


def batch(count: int, nqubits: int = 5, depth: int = 10, seed: int = 1234) -> list[Any]:
    """``count`` distinct layered circuits, the same on every run and in every environment."""
    return [layered(nqubits, depth, seed + index) for index in range(count)]


def mixed(ngates: int, nqubits: int, seed: int) -> Any:
    """A random circuit of ``ngates`` gates drawn from what ``to_qasm`` round-trips, measured."""
    from qibo import Circuit, gates

    rng = np.random.default_rng(seed)
    one = (gates.H, gates.X, gates.Y, gates.Z, gates.S, gates.T, gates.SDG, gates.TDG)
    rot = (gates.RX, gates.RY, gates.RZ, gates.U1)
    two = (gates.CNOT, gates.CZ, gates.SWAP)
    circuit = Circuit(nqubits)
    for _ in range(ngates):
        kind = int(rng.integers(4))
        if kind == 0:
            circuit.add(one[int(rng.integers(len(one)))](int(rng.integers(nqubits))))
        elif kind == 1:
            angle = float(rng.uniform(-np.pi, np.pi))
            circuit.add(rot[int(rng.integers(len(rot)))](int(rng.integers(nqubits)), angle))
        elif kind == 2:
            q = int(rng.integers(nqubits))
            a, b, c = (float(x) for x in rng.uniform(-np.pi, np.pi, 3))
            circuit.add(gates.U3(q, a, b, c))
        else:
            q0, q1 = (int(x) for x in rng.choice(nqubits, 2, replace=False))
            circuit.add(two[int(rng.integers(len(two)))](q0, q1))
    circuit.add(gates.M(*range(nqubits)))
    return circuit
