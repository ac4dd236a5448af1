"""Hostile and malformed noise, matrices and states in raw JSON: each a RawCircuitError (no qibo).

The well-formed entries come from real qibo objects (through :mod:`qibo_client.circuits.raw`, the
plugin's encoder) and are then corrupted one field at a time, so each case is what a client could
actually send.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from qibo import Circuit, gates
from raw_edits import edited

from qibo_client.server.circuits.program import MAX_DENSITY_QUBITS, Channel, KrausOperator
from qibo_client.server.circuits.raw_circuit import RawCircuitError, program_from_raw

sys.path.insert(0, str(Path(__file__).parent.parent / "server_noise"))
from qibo_client.circuits.raw import circuit_raw

X = [[0, 1], [1, 0]]


def noisy_raw() -> dict[str, Any]:
    circuit = Circuit(2, density_matrix=True)
    circuit.add(gates.Unitary(np.array(X), 0))  # queue[0]
    circuit.add(gates.PauliNoiseChannel(0, [("X", 0.1), ("Z", 0.2)]))  # 1
    circuit.add(gates.DepolarizingChannel((0, 1), 0.1))  # 2
    circuit.add(gates.ThermalRelaxationChannel(1, [1.0, 0.8, 0.1, 0.2]))  # 3
    circuit.add(gates.AmplitudeDampingChannel(0, 0.1))  # 4
    circuit.add(gates.ResetChannel(1, [0.1, 0.2]))  # 5
    circuit.add(
        gates.KrausChannel([(0,), (0,)], [np.sqrt(0.5) * np.eye(2), np.sqrt(0.5) * np.array(X)])
    )  # 6
    circuit.add(gates.UnitaryChannel([(1,)], [(0.3, np.array(X))]))  # 7
    circuit.add(gates.ReadoutErrorChannel(0, np.array([[0.9, 0.1], [0.2, 0.8]])))  # 8
    circuit.add(gates.M(0, 1))  # 9
    return circuit_raw(circuit)


RAW = noisy_raw()


def test_every_channel_reads_back_with_its_parameters():
    program = program_from_raw(RAW)
    channels = [op for op in program.ops if isinstance(op, Channel)]
    assert [c.name for c in channels] == [
        "PauliNoiseChannel",
        "DepolarizingChannel",
        "ThermalRelaxationChannel",
        "AmplitudeDampingChannel",
        "ResetChannel",
        "KrausChannel",
        "UnitaryChannel",
        "ReadoutErrorChannel",
    ]
    assert channels[0].paulis == (("X", 0.1), ("Z", 0.2))
    assert channels[1] == Channel("DepolarizingChannel", (0, 1), (0.1,))
    assert channels[2].params == (1.0, 0.8, 0.1, 0.2)
    assert channels[6].operators == (KrausOperator((1,), ((0j, 1 + 0j), (1 + 0j, 0j)), 0.3),)
    assert len(channels[7].operators) == 4
    assert program.runs_as_density_matrix


def edit(path: str, value: Any, base: dict[str, Any] = RAW) -> dict[str, Any]:
    return edited(base, path, value)


def deep(levels: int) -> Any:
    value: Any = 0.5
    for _ in range(levels):
        value = [value]
    return value


def wide(nqubits: int) -> dict[str, Any]:
    """RAW on more qubits (qibo's default wire names go with the old width)."""
    return edit("wire_names", None, edit("nqubits", nqubits))


NON_UNITARY = [[1, 1], [0, 1]]
NAN = [[math.nan, 0], [0, 1]]


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        # matrices
        (
            edit("queue.0.init_args.0", NON_UNITARY),
            r"queue\[0\] \(Unitary\): Unitary matrix is not unitary",
        ),
        (edit("queue.0.init_args.0", NAN), "entries must be finite numbers or \\[re, im\\] pairs"),
        (edit("queue.0.init_args.0", [[[1, 0, 0], 0], [0, 1]]), "entries must be finite numbers"),
        (edit("queue.0.init_args.0", [[1, 0]]), "must be 2 x 2, got 1 rows"),
        (edit("queue.0.init_args.0", [[1, 0], [0]]), "must have 2 entries per row"),
        (edit("queue.0.init_args.0", "eye"), "must be 2 x 2, got str"),
        (edit("queue.0.init_args.0", deep(10_000)), "must be 2 x 2, got 1 rows"),
        (
            edit("queue.0.init_args", [[[1]] * 128, 0, 1, 2, 3, 4, 5, 6], wide(8)),
            "at most 6 are supported",
        ),
        (edit("queue.0.init_kwargs", {"exec": 1}), r"unexpected init_kwargs \['exec'\]"),
        # channels
        (
            edit("queue.1._class", "CorrelatedNoiseChannel"),
            "unsupported gate class 'CorrelatedNoiseChannel'",
        ),
        (edit("queue.1.init_kwargs.X", 1.5), r"probability of X must be a probability in \[0, 1\]"),
        (edit("queue.1.init_kwargs.X", 0.9), "the Pauli probabilities sum to 1.1"),
        (edit("queue.1.init_kwargs", {"Q": 0.1}), "Pauli string 'Q' must be 1 letters"),
        (
            edit("queue.1.init_kwargs", {f"{i}": 0.0 for i in range(100)}),
            "init_kwargs must map 1 to 64",
        ),
        (edit("queue.2.init_kwargs.lam", -0.1), r"lam must be in \[0, 1.0666"),
        (edit("queue.2.init_kwargs.lam", math.nan), "lam must be a finite number"),
        (edit("queue.2.init_args", [[0, 1, 0]]), "the same qubit appears twice"),
        (edit("queue.3.init_args", [1, 1.0, 2.5, 0.1]), "t2 must be at most 2 \\* t1"),
        (edit("queue.3.init_args", [1, -1.0, 0.5, 0.1]), "t1 and t2 must be positive"),
        (edit("queue.3.init_args", [1, 1.0, 0.5, -0.1]), "time must be >= 0"),
        (
            edit("queue.3.init_kwargs.excited_population", 2),
            "excited_population must be a probability",
        ),
        (edit("queue.4.init_kwargs.gamma", 1.01), "gamma must be a probability in \\[0, 1\\]"),
        (edit("queue.4.init_kwargs.gamma", "0.1"), "gamma must be a finite number"),
        (edit("queue.5.init_kwargs.p_0", 0.9), "p_0 and p_1 sum to 1.1"),
        (edit("queue.6.init_args.0.0.init_args.0", [[1, 0], [0, 1]]), "not trace preserving"),
        (edit("queue.6.init_args.0.0._class", "X"), "operator 0 must be a Unitary entry"),
        (
            edit("queue.6.init_args.0", [RAW["queue"][6]["init_args"][0][0]] * 65),
            "1 to 64 operators",
        ),
        (edit("queue.7.init_args.0", [1.2]), "probability must be a probability"),
        (edit("queue.7.init_args.1.0.init_args.0", NON_UNITARY), "operator 0 is not unitary"),
        (edit("queue.7.init_args.0", [0.3, 0.3]), "one probability per operator"),
        (edit("queue.7._control_qubits", [0]), "a channel cannot be controlled"),
        # initial states, density-matrix width
        (edit("initial_state", [1, 0, 0]), "initial_state must be a list of 4 amplitudes"),
        (edit("initial_state", [1, 1, 0, 0]), "initial_state must be normalised"),
        (edit("initial_state", [[math.inf, 0], 0, 0, 0]), "initial_state entries must be finite"),
        (
            wide(MAX_DENSITY_QUBITS + 1),
            f"density matrix, for at most {MAX_DENSITY_QUBITS} qubits; this circuit has 11",
        ),
    ],
)
def test_hostile_noise_is_refused_naming_what_and_the_limit(obj, message):
    with pytest.raises(RawCircuitError, match=message):
        program_from_raw(obj)


def test_deeply_nested_json_text_is_refused():
    text = json.dumps(RAW)[:-1] + ', "initial_state": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(RawCircuitError, match="neither OpenQASM nor qibo raw JSON"):
        program_from_raw(text)


def test_a_large_initial_state_is_refused_by_its_size_first():
    obj = wide(13)
    obj["queue"] = [obj["queue"][-1]]
    obj["initial_state"] = [0] * 2**13
    with pytest.raises(RawCircuitError, match="at most 12 qubits"):
        program_from_raw(obj)
