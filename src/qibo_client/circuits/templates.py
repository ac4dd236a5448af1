"""Circuit templates: a circuit's structure sent once, its parameters with every job.

A variational loop sends the same circuit again and again with new angles. On a server that lists
the ``templates`` extension, the client sends the circuit's *structure* once (``PUT
/api/templates/{id}/``: gate classes, qubits, measurement layout, every parameter a placeholder)
and afterwards jobs of the form ``{"template": id, "parameters": [...]}``. The id is the SHA-256
of the structure's canonical JSON, so the same structure from any process maps to the same
template, and a server can check it. Nothing here changes the user's program: qibo circuits list
their gates and parameters, which is all a template needs.

Why it is cheap on the hot path: a circuit is read in ONE pass over its queue, which yields both
its *signature* (what the structure depends on: gate classes, qubits, measurement registers, bases,
collapse and noise flags; never parameter values) and its parameter values in gate order. The
export (validation, canonical JSON, hash) happens once per signature, cached in an LRU; a
circuit that changes shape has another signature and is exported again. Every parameter of every
parametrised gate is a placeholder, trainable or not, so a parameter that qibo's
``set_parameters`` skips (``trainable=False``) can still change without touching the template.

What cannot be a template (gates outside the server's list, ``controlled_by``, noise, collapsing
measurements, density matrices, named wires) goes whole, the usual way
(:mod:`qibo_client.circuits.export`), which refuses what cannot run remotely; a cached negative
answer keeps that decision cheap too.
"""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from qibo_client.errors import UnsupportedCircuitError
from qibo_client.protocol import TEMPLATE_FORMAT, template_id_of

#: How many circuit shapes one client remembers (a loop has one to a few per Hamiltonian).
CACHE_SIZE = 256

#: qibo gate class name -> number of parameters, for the gates a template may hold. The same
#: list as the server's (``server/circuits/program.py``), which checks it again.
TEMPLATE_GATES: dict[str, int] = {
    **dict.fromkeys(("H", "X", "Y", "Z", "S", "SDG", "T", "TDG", "SX", "SXDG", "I"), 0),
    **dict.fromkeys(("CNOT", "CZ", "CY", "CH", "SWAP", "CSX", "CSXDG", "FSWAP"), 0),
    **dict.fromkeys(("TOFFOLI", "CCZ"), 0),
    **dict.fromkeys(("RX", "RY", "RZ", "U1", "GPI", "GPI2", "CRX", "CRY", "CRZ", "CU1"), 1),
    **dict.fromkeys(("RXX", "RYY", "RZZ"), 1),
    **dict.fromkeys(("U2", "PRX"), 2),
    **dict.fromkeys(("U3", "CU3"), 3),
}
#: Qubits per template gate (``I`` takes any number).
_GATE_QUBITS: dict[str, int] = {
    **dict.fromkeys(("CNOT", "CZ", "CY", "CH", "SWAP", "CSX", "CSXDG", "FSWAP"), 2),
    **dict.fromkeys(("CRX", "CRY", "CRZ", "CU1", "CU3", "RXX", "RYY", "RZZ"), 2),
    **dict.fromkeys(("TOFFOLI", "CCZ"), 3),
}
#: qibo's Y-basis rotation (see :mod:`qibo_client.circuits.qasm`), sent as ``SDG`` then ``H``.
_Y_ROTATION = np.array([[1, -1j], [1j, -1]]) / np.sqrt(2)
_ROTATION = "basis-rotation"


@dataclass(frozen=True)
class Template:
    """One exported structure: its id, its canonical JSON bytes, its parameter count."""

    template_id: str
    structure: bytes
    nparams: int


def read_circuit(circuit: Any) -> tuple[tuple[Any, ...], list[Any]]:
    """One pass over the queue -> (signature, raw parameter values in gate order)."""
    rotations = {id(rotation) for gate in circuit.measurements for rotation in gate.basis}
    signature: list[Any] = [
        circuit.nqubits,
        bool(getattr(circuit, "density_matrix", False)),
        tuple(getattr(circuit, "wire_names", ())),
    ]
    values: list[Any] = []
    append, extend = signature.append, values.extend
    for gate in circuit.queue:
        cls = gate.__class__
        if id(gate) in rotations:
            append((_ROTATION, cls, gate.target_qubits))
        elif cls.__name__ == "M":
            append(
                (
                    cls,
                    gate.target_qubits,
                    gate.register_name,
                    gate.collapse,
                    gate.has_bitflip_noise(),
                    tuple(type(rotation) for rotation in gate.basis),
                )
            )
        else:
            append((cls, gate.qubits, gate.is_controlled_by))
            parameters = gate.parameters
            if parameters:
                extend(parameters)
    return tuple(signature), values


# mccabe over 10 on purpose: one early return per gate kind a template cannot take
def export(circuit: Any) -> Template | None:  # noqa: C901
    """The template of ``circuit``, or None if it cannot be one (it then goes as QASM)."""
    if getattr(circuit, "density_matrix", False) or circuit.has_collapse:
        return None
    if list(getattr(circuit, "wire_names", range(circuit.nqubits))) != list(range(circuit.nqubits)):
        return None  # named wires (physical qubits on hardware) travel with the whole circuit
    rotations = {id(rotation) for gate in circuit.measurements for rotation in gate.basis}
    gates: list[list[Any]] = []
    measurements: list[list[Any]] = []
    nparams = 0
    for gate in circuit.queue:
        name = type(gate).__name__
        if id(gate) in rotations:
            (qubit,) = gate.target_qubits
            if name == "H":
                gates.append(["H", [qubit]])
            elif name == "Unitary" and np.allclose(np.asarray(gate.parameters[0]), _Y_ROTATION):
                gates += [["SDG", [qubit]], ["H", [qubit]]]
            else:
                return None
        elif name == "M":
            if gate.collapse or gate.has_bitflip_noise():
                return None
            register = gate.register_name or f"register{len(measurements)}"
            measurements.append([str(register), [int(q) for q in gate.target_qubits]])
        elif name in TEMPLATE_GATES and not gate.is_controlled_by:
            qubits = [int(q) for q in gate.qubits]
            if name != "I" and len(qubits) != _GATE_QUBITS.get(name, 1):
                return None
            if len(gate.parameters) != TEMPLATE_GATES[name]:
                return None
            nparams += TEMPLATE_GATES[name]
            gates.append([name, qubits])
        else:
            return None
    if not measurements:
        return None
    structure = {
        "format": TEMPLATE_FORMAT,
        "nqubits": int(circuit.nqubits),
        "gates": gates,
        "measurements": measurements,
    }
    text = json.dumps(structure, separators=(",", ":"), sort_keys=True).encode()
    return Template(template_id_of(text), text, nparams)


def finite_values(values: list[Any]) -> list[float]:
    """The parameters as plain floats; a non-finite or non-real one is refused here."""
    try:
        numbers = [float(value) for value in values]
    except (TypeError, ValueError) as error:
        raise UnsupportedCircuitError(
            f"A gate parameter is not a real number ({error}); the cluster takes real angles."
        ) from None
    if not all(map(math.isfinite, numbers)):
        index = next(i for i, number in enumerate(numbers) if not math.isfinite(number))
        raise UnsupportedCircuitError(
            f"Gate parameter {index} is {numbers[index]}: parameters must be finite numbers."
        )
    return numbers


class TemplateCache:
    """Signature -> Template (or None: not a template), least recently used first out."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[Any, ...], Template | None] = OrderedDict()
        #: How many exports this cache made (public: tests check that a loop exports once).
        self.exports = 0

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, circuit: Any) -> tuple[Template, list[float]] | None:
        """``circuit``'s template and its parameter values, or None if it cannot be one."""
        signature, values = read_circuit(circuit)
        entries = self._entries
        if signature in entries:
            entries.move_to_end(signature)
            template = entries[signature]
        else:
            template = export(circuit)
            self.exports += 1
            entries[signature] = template
            if len(entries) > self.size:
                entries.popitem(last=False)
        if template is None:
            return None
        return template, finite_values(values)


__all__ = [
    "CACHE_SIZE",
    "TEMPLATE_GATES",
    "Template",
    "TemplateCache",
    "export",
    "finite_values",
    "read_circuit",
]
