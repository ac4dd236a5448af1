"""qibo circuit -> the raw JSON object the server reads, completed where ``circuit.raw`` is lossy.

qibo 0.3.6's ``circuit.raw`` holds NumPy arrays (``Unitary``, Kraus operators) that ``json.dumps``
cannot write, and keeps only a few named keyword arguments of each gate, which loses most
channels' parameters and ``GeneralizedfSim``'s block. This writes every gate's own ``init_args``
and ``init_kwargs``, arrays as rows of ``[re, im]`` pairs and gate objects as their own entries:
the format ``qibo_client.server.raw_circuit`` documents. (The plugin needs the same function.)
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from qibo import Circuit
from qibo.gates.abstract import Gate


def encode(value: Any) -> Any:
    """A JSON-ready copy of a gate argument."""
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


def gate_entry(gate: Gate) -> dict[str, Any]:
    """qibo's ``gate.raw`` with the gate's full constructor arguments, JSON-ready."""
    entry = {key: value for key, value in gate.raw.items()}
    entry["init_args"] = encode(gate.init_args)
    entry["init_kwargs"] = encode(gate.init_kwargs)
    entry["_target_qubits"] = list(gate.target_qubits)
    entry["_control_qubits"] = list(gate.control_qubits)
    return entry


def circuit_raw(circuit: Circuit) -> dict[str, Any]:
    """The whole circuit, as JSON text would carry it (round-tripped through ``json``)."""
    raw = {key: value for key, value in circuit.raw.items() if key != "queue"}
    raw["queue"] = [gate_entry(gate) for gate in circuit.queue]
    return json.loads(json.dumps(raw))
