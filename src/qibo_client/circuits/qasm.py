"""Circuit -> OpenQASM 2.0 for the wire, refusing what QASM would silently change.

qibo's own ``Circuit.to_qasm`` is the exporter; this module only guards it. Left alone it would
quietly drop ``collapse=True`` measurements and measurement bit-flip noise (the server would then
run a different experiment), it cannot write a Y-basis measurement (qibo rotates with a
``Unitary``), it drops ``wire_names``, and it writes gates (``iswap``) that ``qelib1.inc`` does
not define. So:

- measurement bases are translated into standard gates (X: ``h``; Y: ``sdg`` then ``h``), on a
  new circuit that shares the user's gate objects but never changes them;
- :func:`qasm_problem` says why QASM cannot carry a circuit unchanged: the gates it carries both
  ways are :data:`~qibo_client.protocol.QASM_GATE_CLASSES`. Such a circuit travels as qibo's raw
  JSON (:func:`qibo_client.circuits.raw.to_wire` decides); QASM forced on it raises
  :class:`UnsupportedCircuitError`, whose message says what to do instead.

Cost: exporting a 5-qubit, 70-gate circuit takes about 0.1 ms, so nothing is cached: a
variational loop re-exports each step with its new parameters, which is also what keeps it
correct.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from qibo_client.errors import UnsupportedCircuitError
from qibo_client.protocol import QASM_GATE_CLASSES

#: qibo's Y-basis rotation is ``Unitary((Y + Z) / sqrt(2))`` = ``S . H . SDG``. The trailing S is
#: diagonal, so it cannot change what a Z measurement sees: ``sdg`` then ``h`` gives the same
#: outcome distribution as qibo.
_Y_ROTATION = np.array([[1, -1j], [1j, -1]]) / np.sqrt(2)

_SHOTS_HINT = (
    "The cluster returns measurement counts: add measurement gates (gates.M) and run with shots, "
    "e.g. circuit(nshots=1000) or hamiltonian.expectation(circuit, nshots=1000)."
)


def to_qasm(circuit: Any, *, checked: bool = False) -> str:
    """Return the OpenQASM 2.0 text of ``circuit`` (a QASM string passes through unchanged).

    Raises :class:`UnsupportedCircuitError` when the circuit cannot run remotely with the
    semantics it has locally. ``checked=True`` skips the checks a caller has just made (it found
    a measurement and no :func:`qasm_problem`).
    """
    if isinstance(circuit, str):
        return circuit
    if not checked:
        check_exportable(circuit)
    exportable = with_standard_bases(circuit)
    try:
        return str(exportable.to_qasm())
    except (NotImplementedError, ValueError, NameError, TypeError, KeyError) as error:
        raise UnsupportedCircuitError(
            f"This circuit cannot be written as OpenQASM 2.0: {error}. Decompose the gate into "
            "standard gates (H, X, Y, Z, S, T, SX, RX, RY, RZ, U3, CNOT, CZ, SWAP, ...) with "
            "lower-case measurement register names."
        ) from error


def check_exportable(circuit: Any) -> None:
    """Refuse, with a typed error, what QASM would silently change or cannot carry."""
    check_measured(circuit)
    problem = qasm_problem(circuit, wire_names=False)
    if problem:
        raise UnsupportedCircuitError(problem)


def check_measured(circuit: Any) -> None:
    """Refuse a circuit that measures nothing: only counts come back from the cluster."""
    if not circuit.measurements:
        raise UnsupportedCircuitError(f"The circuit has no measurements. {_SHOTS_HINT}")


# mccabe over 10 on purpose: one check per thing OpenQASM cannot say, read top to bottom
def qasm_problem(circuit: Any, *, wire_names: bool = True) -> str | None:  # noqa: C901
    """Why OpenQASM 2.0 cannot carry ``circuit`` unchanged, or None when it can.

    A circuit with a problem travels as qibo's raw JSON instead (:mod:`qibo_client.circuits.raw`);
    the message is what :func:`to_qasm` raises when QASM is forced. ``wire_names=False`` lets
    QASM drop ``circuit.wire_names``, which choose physical qubits only on hardware devices.
    """
    from qibo import gates

    if getattr(circuit, "density_matrix", False):
        return (
            "Density-matrix circuits cannot be written as OpenQASM 2.0: the QASM path simulates "
            "pure states. Send the circuit as qibo raw JSON (the default where QASM cannot say "
            "it), or build it with density_matrix=False."
        )
    channels = [gate for gate in circuit.queue if isinstance(gate, gates.Channel)]
    if channels:
        names = sorted({type(gate).__name__ for gate in channels})
        return (
            f"Noise channels cannot be written as OpenQASM 2.0 ({', '.join(names)}): it has no "
            "noise, and dropping them would run a noiseless circuit. Send the circuit as qibo raw "
            "JSON (the default where QASM cannot say it)."
        )
    collapsing = circuit.has_collapse or any(
        isinstance(gate, gates.M) and gate.collapse for gate in circuit.queue
    )
    if collapsing:
        return (
            "Mid-circuit measurements (collapse=True, or gates applied to an already measured "
            "qubit) cannot be written as OpenQASM 2.0: the export would drop them. Send the "
            "circuit as qibo raw JSON, or measure each qubit once, at the end."
        )
    noisy = [gate for gate in circuit.measurements if gate.has_bitflip_noise()]
    if noisy:
        registers = ", ".join(str(gate.register_name) for gate in noisy)
        return (
            f"Measurement bit-flip noise (M(p0=..., p1=...), registers {registers}) cannot be "
            "written as OpenQASM 2.0: the export would drop it. Send the circuit as qibo raw "
            "JSON, or apply the flips to the result with result.apply_bitflips(p0, p1)."
        )
    if wire_names and list(circuit.wire_names) != list(range(circuit.nqubits)):
        return (
            "OpenQASM 2.0 drops wire_names (the physical qubits of a hardware device). Send the "
            "circuit as qibo raw JSON (the default where QASM cannot say it)."
        )
    upper = [str(g.register_name) for g in circuit.measurements if not g.register_name.islower()]
    if upper:
        return (
            f"OpenQASM 2.0 register names are lower-case, got {', '.join(upper)}. Rename them, "
            "or send the circuit as qibo raw JSON (the default where QASM cannot say it)."
        )
    try:
        rotations = basis_translations(circuit)
    except UnsupportedCircuitError as error:
        return str(error)
    for gate in circuit.queue:
        if isinstance(gate, gates.M) or id(gate) in rotations:
            continue
        if gate.is_controlled_by or type(gate).__name__ not in QASM_GATE_CLASSES:
            what = "controlled_by gates" if gate.is_controlled_by else type(gate).__name__
            return (
                f"This circuit cannot be written as OpenQASM 2.0: it has no word for {what}. "
                "Send the circuit as qibo raw JSON (the default where QASM cannot say it), or "
                "decompose the gate into standard gates (H, X, Y, Z, S, T, SX, RX, RY, RZ, U3, "
                "CNOT, CZ, SWAP, ...)."
            )
    return None


def basis_translations(circuit: Any) -> dict[int, list[Any]]:
    """Map ``id(rotation gate)`` -> standard gates, for every measurement-basis rotation.

    X needs none (its rotation is ``H``); Y's ``Unitary`` becomes ``SDG`` then ``H``. Raises
    :class:`UnsupportedCircuitError` for any other rotation."""
    from qibo import gates

    translations: dict[int, list[Any]] = {}
    for measurement in circuit.measurements:
        for rotation in measurement.basis:
            if isinstance(rotation, gates.H):
                continue  # X basis: QASM writes ``h`` itself
            (qubit,) = rotation.target_qubits
            if isinstance(rotation, gates.Unitary) and np.allclose(
                np.asarray(rotation.parameters[0]), _Y_ROTATION
            ):
                translations[id(rotation)] = [gates.SDG(qubit), gates.H(qubit)]
            else:
                raise UnsupportedCircuitError(
                    f"Measurement {measurement.register_name!r} uses a basis rotation "
                    f"({type(rotation).__name__}) that cannot be sent: measure in the X, Y or Z "
                    "basis, or rotate explicitly with standard gates before a Z measurement."
                )
    return translations


def with_standard_bases(circuit: Any) -> Any:
    """The circuit itself when it needs no translation, else a translated look-alike.

    The copy shares the user's gate objects, except the measurement gates: ``Circuit.add`` points
    a measurement's result at the circuit it joins, so those are rebuilt (in the Z basis, their
    rotation already being in the queue) with the same qubits and register names.
    """
    translations = basis_translations(circuit)
    if not translations:
        return circuit
    from qibo import Circuit, gates

    exportable = Circuit(circuit.nqubits)
    for gate in circuit.queue:
        if isinstance(gate, gates.M):
            exportable.add(gates.M(*gate.target_qubits, register_name=gate.register_name))
        else:
            exportable.add(translations.get(id(gate), [gate]))
    return exportable


__all__ = [
    "basis_translations",
    "check_exportable",
    "check_measured",
    "qasm_problem",
    "to_qasm",
    "with_standard_bases",
]
