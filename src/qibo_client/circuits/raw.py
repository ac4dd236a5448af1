"""Circuit -> qibo's raw JSON object, completed where qibo's own ``circuit.raw`` is lossy.

The official client posts ``circuit.raw``, and every server of the protocol reads it. But qibo
0.3.6's ``raw`` cannot carry much of what raw is needed for: it holds NumPy arrays (``Unitary``
matrices, Kraus operators) that ``json.dumps`` cannot write, and keeps only a few named keyword
arguments of each gate, which loses most channels' parameters (a ``DepolarizingChannel`` would
arrive without ``lam``) and ``GeneralizedfSim``'s block. So each queue entry here is qibo's own
``gate.raw`` with the gate's *full* ``init_args`` and ``init_kwargs``:

- every NumPy array as nested lists, complex numbers as ``[re, im]`` pairs;
- every gate object inside the arguments (the operators of Kraus and unitary channels) as that
  gate's own entry;
- measurements in the Z basis: ``circuit.raw`` already lists a basis's rotation gates before the
  ``M``, and qibo 0.3.2-0.3.6's ``Circuit.from_dict`` would add them a second time, so a server
  that reads raw with qibo gets the right answer only if the ``M`` says Z. The Y basis's rotation
  (a complex ``Unitary``) is written as ``SDG`` then ``H``, as in QASM, so that a circuit without
  matrices or channels stays one that ``Circuit.from_dict`` reads (TII's service is believed to);
- no stored samples (``measurement_result`` is ``{"samples": null}``).

This is the format the reference server documents in ``server/circuits/raw_circuit.py`` and
``server/circuits/channels.py``; ``docs/protocol.md`` describes it for people.

:mod:`qibo_client.circuits.export` picks the format (QASM where the server takes it and QASM says
the circuit exactly, this completed raw otherwise). :func:`check_remote` refuses, before anything is
sent, what no server can run; :func:`encode_state` writes the ``initial_state`` field.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np

from qibo_client.circuits.qasm import basis_translations, check_measured
from qibo_client.errors import UnsupportedCircuitError

logger = logging.getLogger(__name__)

#: What a gate parameter may be (a sympy expression of measurement symbols is not).
_NUMERIC = (int, float, complex, np.number, np.ndarray)
#: How close to 1 the largest eigenvalue of an initial density matrix must be to count as pure.
_PURITY_TOLERANCE = 1e-6


def encode(value: Any) -> Any:
    """A JSON-ready copy of a gate argument: arrays as lists, complex as ``[re, im]``."""
    from qibo.gates.abstract import Gate

    if isinstance(value, Gate):
        return gate_entry(value)
    if isinstance(value, np.ndarray):
        return [encode(item) for item in value]
    if isinstance(value, complex | np.complexfloating):
        return [float(value.real), float(value.imag)]
    if isinstance(value, np.integer | np.floating | np.bool_):
        return value.item()
    if isinstance(value, list | tuple):
        return [encode(item) for item in value]
    if isinstance(value, dict):
        return {str(key): encode(item) for key, item in value.items()}
    return value


def gate_entry(gate: Any) -> dict[str, Any]:
    """qibo's ``gate.raw`` with the gate's full constructor arguments, JSON-ready."""
    from qibo import gates

    entry = dict(gate.raw)
    entry["init_args"] = encode(gate.init_args)
    entry["init_kwargs"] = encode(gate.init_kwargs)
    entry["_target_qubits"] = list(gate.target_qubits)
    entry["_control_qubits"] = list(gate.control_qubits)
    if isinstance(gate, gates.M):
        # The basis rotations are already in the queue, before this M: measure in Z.
        entry["init_kwargs"]["basis"] = ["Z"] * len(gate.target_qubits)
        entry["measurement_result"] = {"samples": None}
    return entry


def check_remote(circuit: Any) -> None:
    """Refuse, with a typed error that says what to do, what no server can run.

    A circuit must measure something (only counts come back); a ``CallbackGate`` reads the state
    vector while the circuit runs; a gate parameter computed from a mid-circuit outcome (qibo's
    ``result.symbols``) is classical feedback, which raw JSON has no way to say.
    """
    from qibo import gates

    check_measured(circuit)
    for index, gate in enumerate(circuit.queue):
        if isinstance(gate, gates.CallbackGate):
            raise UnsupportedCircuitError(
                f"Gate {index} is a CallbackGate: callbacks read the state vector while the "
                "circuit runs, and only measurement counts come back from the cluster. Remove it, "
                "or run the circuit locally (qibo.set_backend('numpy'))."
            )
        if isinstance(gate, gates.ParametrizedGate) and not all(
            isinstance(value, _NUMERIC) for value in gate.parameters
        ):
            raise UnsupportedCircuitError(
                f"Gate {index} ({type(gate).__name__}) takes its parameters from a mid-circuit "
                "measurement (result.symbols): classical feedback cannot be sent to the cluster. "
                "Run it locally, or replace the feedback with controlled gates."
            )


def circuit_raw(circuit: Any) -> dict[str, Any]:
    """The completed raw object of ``circuit``, as JSON text would carry it.

    Only encodes (a circuit without measurements is written too);
    :mod:`~qibo_client.circuits.export` refuses first what no server can run. Raises
    :class:`UnsupportedCircuitError` for an argument that still is not JSON (a gate parameter of an
    unknown kind, NaN).
    """
    try:
        rotations = basis_translations(circuit)
    except UnsupportedCircuitError:
        rotations = {}  # an unusual rotation travels as the gate it is
    raw = {key: value for key, value in circuit.raw.items() if key != "queue"}
    raw["queue"] = [
        gate_entry(written) for gate in circuit.queue for written in rotations.get(id(gate), [gate])
    ]
    try:
        return dict(json.loads(json.dumps(raw, allow_nan=False)))
    except (TypeError, ValueError) as error:
        raise UnsupportedCircuitError(
            f"This circuit cannot be written as qibo's raw JSON: {error}. Give every gate "
            "finite numeric parameters."
        ) from None


def encode_state(state: Any, circuit: Any) -> list[list[float]]:
    """A state for ``circuit`` (a Circuit or raw object) as the ``initial_state`` field.

    The field is ``2**nqubits`` ``[re, im]`` pairs, and travels only with a raw circuit. A pure
    density matrix (what qibo takes as the initial state of a density-matrix circuit) is sent as
    its state vector; a mixed one is refused, with what to do instead, as are states of the
    wrong size. The norm and the largest state are the server's to check.
    """
    if isinstance(circuit, str):
        raise UnsupportedCircuitError(
            "An initial state travels only with a qibo Circuit or a raw object, not QASM text."
        )
    nqubits = int(circuit.get("nqubits", 0) if isinstance(circuit, dict) else circuit.nqubits)
    size = 2**nqubits
    try:
        amplitudes = np.asarray(state).astype(complex)
    except (TypeError, ValueError):
        raise UnsupportedCircuitError(
            f"The initial state must be an array of numbers, got {type(state).__name__}."
        ) from None
    if not np.all(np.isfinite(amplitudes)):
        raise UnsupportedCircuitError("The initial state holds NaN or infinite amplitudes.")
    if amplitudes.shape == (size, size):
        amplitudes = _pure_state(amplitudes)
    if amplitudes.shape != (size,):
        raise UnsupportedCircuitError(
            f"The initial state must be a vector of 2**{nqubits} amplitudes (or a pure "
            f"{size} x {size} density matrix), got shape {amplitudes.shape}."
        )
    return [[float(a.real), float(a.imag)] for a in amplitudes]


def _pure_state(rho: Any) -> Any:
    """The state vector of a pure density matrix (up to a global phase), or a refusal."""
    values, vectors = np.linalg.eigh((rho + rho.conj().T) / 2)
    if not (
        np.allclose(rho, rho.conj().T, atol=_PURITY_TOLERANCE)
        and abs(1 - values[-1]) < _PURITY_TOLERANCE
    ):
        raise UnsupportedCircuitError(
            "A mixed (or unnormalised) initial density matrix cannot be sent: the cluster starts "
            "from a pure state vector. Start from a pure state and add the noise as channels in "
            "the circuit."
        )
    return vectors[:, -1]


__all__ = [
    "check_remote",
    "circuit_raw",
    "encode",
    "encode_state",
    "gate_entry",
]
