"""The server's own picture of a circuit: a small, validated, picklable program.

Circuits reach the server as OpenQASM text or as qibo's ``circuit.raw`` object. Both are untrusted,
so neither goes to qibo directly: :mod:`.qasm_parser` and :mod:`.raw_circuit` check them against
the allowlists below and produce a :class:`Program`. A ``Program`` is plain data (no qibo objects),
so the web process never imports qibo to accept a job, and it pickles cheaply to a worker process,
which then calls :meth:`Program.to_circuit`.

``ops`` are the circuit's operations in order: gates (:class:`Op`, possibly with a matrix or
extra controls), noise channels (:class:`Channel`) and collapsing mid-circuit measurements
(:class:`Collapse`). ``measurements`` are the *terminal* ones, whose bits make each outcome string
in their order: no operation touches a measured qubit afterwards, so placing every ``M`` at the
end is the same circuit. (qibo turns a measurement that a later gate touches into a collapsing
one; the raw reader does the same, so such a measurement lands in ``ops`` as a ``Collapse``.)

The common case, gates and terminal measurements only, stays a plain loop in :meth:`to_circuit`.
Channels and collapsing measurements are simulated with a density matrix, which gives exactly the
statistics of qibo's repeated execution (a collapse without classical feedback is a complete
dephasing of its qubits), in one run instead of one per shot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from qibo_client.server.circuits.channels import Channel, KrausOperator, build_channel
from qibo_client.server.circuits.matrices import Matrix

if TYPE_CHECKING:  # pragma: no cover
    from qibo import Circuit

#: Hard ceilings at parse level; a server applies its devices' (smaller) limits on top.
MAX_QUBITS = 64
MAX_OPS = 200_000
#: Widest circuit simulated as a density matrix (noise channels, collapsing measurements,
#: ``density_matrix=True``): 4**n amplitudes, 16 MiB at 10 qubits. Devices may set less.
MAX_DENSITY_QUBITS = 10


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

#: Gates that only qibo's raw JSON carries (QASM 2.0 cannot say them), with the same signatures.
#: ``Unitary`` and ``GeneralizedfSim`` also carry a matrix (:attr:`Op.matrix`).
RAW_GATE_SPECS: dict[str, GateSpec] = {
    **{name: GateSpec(2, ()) for name in ("iSWAP", "SiSWAP", "SiSWAPDG", "ECR", "SYC")},
    "U1q": GateSpec(1, ("theta", "phi")),
    "GIVENS": GateSpec(2, _T),
    "DEUTSCH": GateSpec(3, _T),
    "fSim": GateSpec(2, ("theta", "phi")),
    "GeneralizedfSim": GateSpec(2, ("phi",)),
    "RZX": GateSpec(2, _T),
    "RXXYY": GateSpec(2, _T),
    "RBS": GateSpec(2, _T),
    "MS": GateSpec(2, ("phi0", "phi1", "theta")),
    "CU2": GateSpec(2, ("phi", "lam")),
}


@dataclass(frozen=True, slots=True)
class Op:
    """One gate: the qibo class name, the qubits in constructor order, then its parameters.

    ``controls`` are the extra qubits of ``gate.controlled_by(...)``; ``matrix`` is the matrix of a
    ``Unitary`` (acting on ``qubits``) or the 2 x 2 block of a ``GeneralizedfSim``.
    """

    name: str
    qubits: tuple[int, ...]
    params: tuple[float, ...] = ()
    controls: tuple[int, ...] = ()
    matrix: Matrix | None = None

    @property
    def all_qubits(self) -> tuple[int, ...]:
        """Every qubit the gate touches: its controls, then its own qubits."""
        return self.controls + self.qubits


@dataclass(frozen=True, slots=True)
class Collapse:
    """A collapsing (mid-circuit) measurement: its bits are not in the outcome, its effect is."""

    qubits: tuple[int, ...]
    name: str = "M"

    @property
    def all_qubits(self) -> tuple[int, ...]:
        return self.qubits


#: What ``Program.ops`` holds.
Operation = Op | Channel | Collapse


@dataclass(frozen=True, slots=True)
class Measurement:
    """One terminal ``M`` gate: its register, the measured qubits in bit order, bit-flip noise.

    ``p0`` and ``p1`` are the per-qubit probabilities of reading 0 as 1 and 1 as 0 (qibo's
    ``M(p0=..., p1=...)``), or None for a perfect readout.
    """

    register: str
    qubits: tuple[int, ...]
    p0: tuple[float, ...] | None = None
    p1: tuple[float, ...] | None = None


@dataclass(frozen=True, slots=True)
class Program:
    """A validated circuit: ``nqubits`` qubits, operations in order, then terminal measurements.

    ``density_matrix`` is what the circuit asked for (``Circuit(n, density_matrix=True)``);
    ``wire_names`` are the names it gave its qubits (on hardware, the physical qubits; see
    :meth:`.devices.Device.check_program`); ``initial_state`` an optional state vector to start
    from (simulators only; :func:`with_initial_state`).
    """

    nqubits: int
    ops: tuple[Operation, ...]
    measurements: tuple[Measurement, ...] = ()
    density_matrix: bool = False
    wire_names: tuple[int | str, ...] | None = None
    initial_state: tuple[complex, ...] | None = None

    @property
    def nmeasured(self) -> int:
        """Total number of measured bits (the length of each outcome bitstring)."""
        return sum(len(m.qubits) for m in self.measurements)

    @property
    def measured_qubits(self) -> tuple[int, ...]:
        """Measured qubits in outcome-bit order."""
        return tuple(q for m in self.measurements for q in m.qubits)

    @property
    def runs_as_density_matrix(self) -> bool:
        """Whether the worker simulates a density matrix: only for channels or collapses.

        A noiseless circuit sent with ``density_matrix=True`` has the same outcome statistics as a
        state vector, so it runs as one (faster, and without the density-matrix qubit limit).
        """
        return any(type(op) is not Op for op in self.ops)

    def gate_names(self) -> frozenset[str]:
        """The distinct gate class names used, for a device's native-gate check."""
        return frozenset(op.name for op in self.ops)

    def qubit_pairs(self) -> frozenset[tuple[int, int]]:
        """Unordered qubit pairs acted on together by multi-qubit operations, for connectivity.

        Three-qubit gates contribute all three pairs.
        """
        pairs: set[tuple[int, int]] = set()
        for op in self.ops:
            qs = op.all_qubits
            if len(qs) > 1:
                for i, a in enumerate(qs):
                    for b in qs[i + 1 :]:
                        pairs.add((a, b) if a < b else (b, a))
        return frozenset(pairs)

    def to_circuit(self, **circuit_kwargs: Any) -> Circuit:
        """Build the qibo ``Circuit`` (imports qibo here, so only worker processes pay for it).

        ``circuit_kwargs`` go to ``qibo.Circuit``; ``density_matrix`` defaults to
        :attr:`runs_as_density_matrix` and ``wire_names`` to the program's own.
        """
        from qibo import Circuit, gates

        circuit_kwargs.setdefault("density_matrix", self.runs_as_density_matrix)
        if self.wire_names is not None:
            circuit_kwargs.setdefault("wire_names", list(self.wire_names))
        circuit = Circuit(self.nqubits, **circuit_kwargs)
        add = circuit.add
        classes = {name: getattr(gates, name) for name in self.gate_names() if name != "M"}
        for op in self.ops:
            if type(op) is Op and op.matrix is None and not op.controls:
                add(classes[op.name](*op.qubits, *op.params))
            else:
                add(_special(op, classes, gates))
        for m in self.measurements:
            if m.p0 is None and m.p1 is None:
                add(gates.M(*m.qubits, register_name=m.register))
            else:
                add(gates.M(*m.qubits, register_name=m.register, p0=m.p0, p1=m.p1))
        return circuit

    def qibo_initial_state(self) -> Any:
        """The initial state as qibo's ``execute`` takes it (a density matrix when simulated as
        one), or None to start from ``|0...0>``."""
        if self.initial_state is None:
            return None
        import numpy as np

        state = np.array(self.initial_state, dtype=complex)
        return np.outer(state, state.conj()) if self.runs_as_density_matrix else state


def _special(op: Operation, classes: dict[str, Any], gates: Any) -> Any:
    """The qibo gate of an operation that is not a plain gate (matrix, controls, noise)."""
    import numpy as np

    if isinstance(op, Collapse):
        # A collapse without classical feedback, over all shots, is a complete dephasing:
        # qibo's PhaseDampingChannel with gamma=1 has the Kraus operators |0><0| and |1><1|.
        return gates.KrausChannel(
            [(q,) for q in op.qubits for _ in range(2)],
            [np.diag([1.0, 0.0]), np.diag([0.0, 1.0])] * len(op.qubits),
        )
    if isinstance(op, Channel):
        return build_channel(op, gates)
    if op.name == "Unitary":
        gate = gates.Unitary(np.array(op.matrix, dtype=complex), *op.qubits, check_unitary=False)
    elif op.name == "GeneralizedfSim":
        gate = gates.GeneralizedfSim(*op.qubits, np.array(op.matrix, dtype=complex), *op.params)
    else:
        gate = classes[op.name](*op.qubits, *op.params)
    return gate.controlled_by(*op.controls) if op.controls else gate


def with_initial_state(program: Program, value: Any) -> Program:
    """``program`` starting from the state vector ``value`` (a list of ``[re, im]`` pairs).

    ``None`` leaves the program as it is. Raises :class:`~.matrices.MatrixError` (a ValueError)
    for a vector of the wrong length, too long, not finite or not normalised. Whether the device
    may take an initial state at all is :meth:`.devices.Device.check_program`'s concern.
    """
    if value is None:
        return program
    from dataclasses import replace

    from qibo_client.server.circuits.matrices import read_state

    return replace(program, initial_state=read_state(value, program.nqubits))


__all__ = [
    "GATE_SPECS",
    "MAX_DENSITY_QUBITS",
    "MAX_OPS",
    "MAX_QUBITS",
    "RAW_GATE_SPECS",
    "Channel",
    "Collapse",
    "GateSpec",
    "KrausOperator",
    "Measurement",
    "Op",
    "Operation",
    "Program",
    "with_initial_state",
]
