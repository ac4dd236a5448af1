"""The server's own picture of a circuit: a small, validated, picklable program.

Circuits reach the server as OpenQASM text or as qibo's ``circuit.raw`` object. Both are untrusted,
so neither goes to qibo directly: :mod:`.qasm_parser` and :mod:`.raw_circuit` check them against
the allowlist below and produce a :class:`Program`. A ``Program`` is plain data (no qibo objects),
so the web process never imports qibo to accept a job, and it pickles cheaply to a worker process,
which then calls :meth:`Program.to_circuit`.

Measurements are kept apart from the gates because the server only runs circuits whose
measurements are terminal (no gate touches a qubit after it is measured); placing every ``M`` at
the end of the circuit is then the same circuit, and the order of ``measurements`` is the order of
the bits in each outcome string.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:  # pragma: no cover
    from qibo import Circuit

#: Hard ceilings at parse level; a server applies its devices' (smaller) limits on top.
MAX_QUBITS = 64
MAX_OPS = 200_000


class GateSpec(NamedTuple):
    """What a supported qibo gate takes: how many qubits and which parameters, in order."""

    nqubits: int
    params: tuple[str, ...]


_T = ("theta",)
#: qibo gate class name -> its signature. These are exactly the gates qibo 0.3.6's ``to_qasm``
#: and ``from_qasm`` round-trip; anything else is refused before qibo sees it.
GATE_SPECS: dict[str, GateSpec] = {
    **{name: GateSpec(1, ()) for name in ("H", "X", "Y", "Z", "S", "SDG", "T", "TDG")},
    "SX": GateSpec(1, ()),
    "SXDG": GateSpec(1, ()),
    "I": GateSpec(1, ()),
    **{name: GateSpec(2, ()) for name in ("CNOT", "CZ", "CY", "CH", "SWAP", "CSX", "CSXDG")},
    "FSWAP": GateSpec(2, ()),
    "TOFFOLI": GateSpec(3, ()),
    "CCZ": GateSpec(3, ()),
    "RX": GateSpec(1, _T),
    "RY": GateSpec(1, _T),
    "RZ": GateSpec(1, _T),
    "U1": GateSpec(1, _T),
    "U2": GateSpec(1, ("phi", "lam")),
    "U3": GateSpec(1, ("theta", "phi", "lam")),
    "GPI": GateSpec(1, ("phi",)),
    "GPI2": GateSpec(1, ("phi",)),
    "PRX": GateSpec(1, ("theta", "phi")),
    "CRX": GateSpec(2, _T),
    "CRY": GateSpec(2, _T),
    "CRZ": GateSpec(2, _T),
    "CU1": GateSpec(2, _T),
    "CU3": GateSpec(2, ("theta", "phi", "lam")),
    "RXX": GateSpec(2, _T),
    "RYY": GateSpec(2, _T),
    "RZZ": GateSpec(2, _T),
}


@dataclass(frozen=True, slots=True)
class Op:
    """One gate: the qibo class name, the qubits in constructor order, then its parameters."""

    name: str
    qubits: tuple[int, ...]
    params: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class Measurement:
    """One ``M`` gate: its register name and the measured qubits in bit order."""

    register: str
    qubits: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Program:
    """A validated circuit: ``nqubits`` qubits, gates in order, then the terminal measurements."""

    nqubits: int
    ops: tuple[Op, ...]
    measurements: tuple[Measurement, ...] = ()

    @property
    def nmeasured(self) -> int:
        """Total number of measured bits (the length of each outcome bitstring)."""
        return sum(len(m.qubits) for m in self.measurements)

    @property
    def measured_qubits(self) -> tuple[int, ...]:
        """Measured qubits in outcome-bit order."""
        return tuple(q for m in self.measurements for q in m.qubits)

    def gate_names(self) -> frozenset[str]:
        """The distinct gate class names used, for a device's native-gate check."""
        return frozenset(op.name for op in self.ops)

    def qubit_pairs(self) -> frozenset[tuple[int, int]]:
        """Unordered qubit pairs acted on together by two-qubit gates, for a connectivity check.

        Three-qubit gates contribute all three pairs.
        """
        pairs: set[tuple[int, int]] = set()
        for op in self.ops:
            qs = op.qubits
            if len(qs) > 1:
                for i, a in enumerate(qs):
                    for b in qs[i + 1 :]:
                        pairs.add((a, b) if a < b else (b, a))
        return frozenset(pairs)

    def to_circuit(self, **circuit_kwargs: Any) -> Circuit:
        """Build the qibo ``Circuit`` (imports qibo here, so only worker processes pay for it).

        ``circuit_kwargs`` go to ``qibo.Circuit`` (e.g. ``density_matrix=True``).
        """
        from qibo import Circuit, gates

        circuit = Circuit(self.nqubits, **circuit_kwargs)
        add = circuit.add
        classes = {name: getattr(gates, name) for name in self.gate_names()}
        for op in self.ops:
            add(classes[op.name](*op.qubits, *op.params))
        for m in self.measurements:
            add(gates.M(*m.qubits, register_name=m.register))
        return circuit


__all__ = [
    "GATE_SPECS",
    "MAX_OPS",
    "MAX_QUBITS",
    "GateSpec",
    "Measurement",
    "Op",
    "Program",
]
