"""Circuit -> OpenQASM 2.0 for the wire, refusing what QASM would silently change.

qibo's own ``Circuit.to_qasm`` is the exporter; this module only guards it. Left alone it would
quietly drop ``collapse=True`` measurements and measurement bit-flip noise (the server would then
run a different experiment), it cannot write a Y-basis measurement (qibo rotates with a
``Unitary``), and it raises untyped errors for gates QASM has no word for. So:

- measurement bases are translated into standard gates (X: ``h``; Y: ``sdg`` then ``h``), on a
  new circuit that shares the user's gate objects but never changes them;
- everything else that cannot travel unchanged raises :class:`UnsupportedCircuitError`, whose
  message says what to do instead.

Cost: exporting a 5-qubit, 70-gate circuit takes about 0.1 ms, so nothing is cached: a
variational loop re-exports each step with its new parameters, which is also what keeps it
correct.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from qibo_client.config import UnsupportedCircuitError

#: qibo's Y-basis rotation is ``Unitary((Y + Z) / sqrt(2))`` = ``S . H . SDG``. The trailing S is
#: diagonal, so it cannot change what a Z measurement sees: ``sdg`` then ``h`` gives the same
#: outcome distribution as qibo.
_Y_ROTATION = np.array([[1, -1j], [1j, -1]]) / np.sqrt(2)

_SHOTS_HINT = (
    "The cluster returns measurement counts: add measurement gates (gates.M) and run with shots, "
    "e.g. circuit(nshots=1000) or hamiltonian.expectation(circuit, nshots=1000)."
)


def to_qasm(circuit: Any) -> str:
    """Return the OpenQASM 2.0 text of ``circuit`` (a QASM string passes through unchanged).

    Raises :class:`UnsupportedCircuitError` when the circuit cannot run remotely with the
    semantics it has locally.
    """
    if isinstance(circuit, str):
        return circuit
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
    from qibo import gates

    if getattr(circuit, "density_matrix", False):
        raise UnsupportedCircuitError(
            "Density-matrix circuits cannot run remotely: the cluster simulates pure states. "
            "Build the circuit with density_matrix=False and measure it with shots."
        )
    channels = [gate for gate in circuit.queue if isinstance(gate, gates.Channel)]
    if channels:
        names = sorted({type(gate).__name__ for gate in channels})
        raise UnsupportedCircuitError(
            f"Noise channels cannot run remotely ({', '.join(names)}): OpenQASM 2.0 has no "
            "noise, and dropping them would run a noiseless circuit. Remove them, or simulate "
            "the noisy circuit locally with qibo's numpy backend."
        )
    collapsing = circuit.has_collapse or any(
        isinstance(gate, gates.M) and gate.collapse for gate in circuit.queue
    )
    if collapsing:
        raise UnsupportedCircuitError(
            "Mid-circuit measurements (collapse=True, or gates applied to an already measured "
            "qubit) cannot run remotely: OpenQASM export would drop them. Measure each qubit "
            "once, at the end of the circuit."
        )
    if not circuit.measurements:
        raise UnsupportedCircuitError(f"The circuit has no measurements. {_SHOTS_HINT}")
    noisy = [gate for gate in circuit.measurements if gate.has_bitflip_noise()]
    if noisy:
        registers = ", ".join(str(gate.register_name) for gate in noisy)
        raise UnsupportedCircuitError(
            f"Measurement bit-flip noise (M(p0=..., p1=...), registers {registers}) cannot run "
            "remotely: OpenQASM export would drop it. Measure without p0/p1 and apply the "
            "flips to the result with result.apply_bitflips(p0, p1)."
        )


def _basis_translations(circuit: Any) -> dict[int, list[Any]]:
    """Map ``id(rotation gate)`` -> standard gates, for every measurement-basis rotation."""
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


def with_standard_bases(circuit: Any, *, z_measurements: bool = False) -> Any:
    """The circuit itself when it needs no translation, else a translated look-alike.

    The copy shares the user's gate objects, except the measurement gates: ``Circuit.add`` points
    a measurement's result at the circuit it joins, so those are rebuilt (in the Z basis, their
    rotation already being in the queue) with the same qubits and register names.
    ``z_measurements`` also rebuilds a circuit whose only bases are X: qibo's ``circuit.raw``
    lists an X measurement's ``H`` *and* its basis, and ``Circuit.from_dict`` would apply it twice.
    """
    translations = _basis_translations(circuit)
    rotated = z_measurements and any(gate.basis for gate in circuit.measurements)
    if not translations and not rotated:
        return circuit
    from qibo import Circuit, gates

    exportable = Circuit(circuit.nqubits)
    for gate in circuit.queue:
        if isinstance(gate, gates.M):
            exportable.add(gates.M(*gate.target_qubits, register_name=gate.register_name))
        else:
            exportable.add(translations.get(id(gate), [gate]))
    return exportable


__all__ = ["check_exportable", "to_qasm", "with_standard_bases"]
