"""Turn qibo's ``circuit.raw`` (what the official client 0.2.x sends) into a :class:`Program`.

qibo's own ``Circuit.from_dict`` looks every gate class up by the name it is given and calls it
with whatever arguments come along, so an unchecked object could construct any qibo gate (or
fail deep inside a worker). Here the object is checked against allow-lists first: the gate
classes in :data:`~.program.GATE_SPECS` and :data:`~.program.RAW_GATE_SPECS`, ``Unitary``, the
channels of :mod:`.channels`, ``M``, ``Barrier`` and ``Align``; integer qubits in range, finite
numeric parameters by their constructor names, matrices checked by :mod:`.matrices`. Anything else
raises :class:`RawCircuitError` naming the queue entry at fault and the limit.

The format is the same in qibo 0.3.2 (used by the official client 0.2.4) and 0.3.6::

    {"queue": [{"_class": "RX", "init_args": [0], "init_kwargs": {"theta": 0.1},
                "_target_qubits": [0], "_control_qubits": [], "name": "rx"}, ...,
               {"_class": "M", "init_args": [0, 1],
                "init_kwargs": {"register_name": null, "collapse": false, "basis": ["Z", "Z"],
                                "p0": null, "p1": null},
                "measurement_result": {"samples": null}, ...}],
     "nqubits": 2, "density_matrix": false, "wire_names": [...], "qibo_version": "0.3.6"}

What qibo's ``raw`` cannot write as JSON travels as follows (a client completes the entry):
``Unitary``'s matrix is ``init_args[0]`` and ``GeneralizedfSim``'s block is
``init_kwargs["unitary"]``, each a list of rows of numbers or ``[re, im]`` pairs; channels carry
their own ``init_args``/``init_kwargs`` (see :mod:`.channels`). A gate made with
``controlled_by`` lists the extra qubits in ``_control_qubits``.

Measurements follow qibo's ``Circuit.add``: a measurement that a later operation touches becomes a
collapsing one (its bits leave the outcome), as does ``M(collapse=True)``; bit-flip readout noise
(``p0``, ``p1``) is kept. Bases other than Z need no special care: ``Circuit.add`` already put the
basis rotation gates into the queue before the ``M`` (qibo's ``from_dict`` adds them a second
time, a bug we do not copy), so the ``M`` itself is read as a Z measurement. Unnamed registers get
the names qibo would give them (``register<k>`` for the k-th ``M`` of the queue). ``Barrier`` and
``Align`` change no outcome and are dropped once their qubits are checked.

An optional top-level ``"initial_state"`` (a list of ``2**nqubits`` amplitudes, numbers or
``[re, im]`` pairs; see :func:`.program.with_initial_state`) starts the circuit from that state
vector. Kept inside the circuit object, it is stored with the job and read again on a restart.
"""

from __future__ import annotations

import json
import math
from typing import Any

from qibo_client.server.circuits.channels import CHANNELS, read_channel
from qibo_client.server.circuits.matrices import Matrix, check_unitary, finite_float, read_matrix
from qibo_client.server.circuits.program import (
    GATE_SPECS,
    MAX_DENSITY_QUBITS,
    MAX_OPS,
    MAX_QUBITS,
    RAW_GATE_SPECS,
    Collapse,
    Measurement,
    Op,
    Operation,
    Program,
    with_initial_state,
)

#: Every gate class read from raw JSON, with its signature.
_SPECS = {**GATE_SPECS, **RAW_GATE_SPECS}
#: Gates whose leading qubits are controls by construction (qibo's GATES_CONTROLLED_BY_DEFAULT).
_CONTROLLED_BY_DEFAULT = frozenset(
    "CNOT CZ CY CH CSX CSXDG CRX CRY CRZ CU1 CU2 CU3 TOFFOLI CCZ DEUTSCH".split()  # noqa: SIM905
)
_GATE_KWARGS_EXTRA = frozenset({"trainable"})
_UNITARY_KWARGS = frozenset({"name", "draw_label", "check_unitary", "trainable"})
_M_KWARGS = frozenset({"register_name", "collapse", "basis", "p0", "p1"})
_BASES = frozenset({"X", "Y", "Z"})
_DROPPED = frozenset({"Barrier", "Align"})
#: The init_kwargs each gate may carry (its parameters, ``trainable``, GeneralizedfSim's block).
_ALLOWED_KWARGS = {
    name: frozenset(spec.params)
    | _GATE_KWARGS_EXTRA
    | ({"unitary"} if name == "GeneralizedfSim" else set())
    for name, spec in _SPECS.items()
}
_SUPPORTED = " ".join([*_SPECS, "Unitary", "M", *sorted(_DROPPED), *sorted(CHANNELS)])


class RawCircuitError(ValueError):
    """The circuit object is not a qibo ``circuit.raw`` the server can run; says which entry."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _Pending:
    """Where a measurement stands in ``ops``, until the end tells if it stayed terminal."""

    __slots__ = ("collapsed", "measurement")

    def __init__(self, measurement: Measurement) -> None:
        self.measurement = measurement
        self.collapsed = False


class _Reader:
    """Validates one raw object entry by entry, remembering registers and measured qubits."""

    def __init__(self, nqubits: int) -> None:
        self.nqubits = nqubits
        self.ops: list[Operation | _Pending] = []
        self.nm = 0  # M entries so far (qibo names unnamed registers by this count)
        self.open: dict[int, _Pending] = {}  # qubit -> its terminal-so-far measurement
        self.registers: set[str] = set()
        self.where = ""

    def fail(self, message: str) -> RawCircuitError:
        return RawCircuitError(f"{self.where}: {message}")

    def qubits(self, value: Any, field: str = "init_args") -> tuple[int, ...]:
        if not isinstance(value, list | tuple) or not value:
            raise self.fail(f"{field} must be a non-empty list of qubit indices")
        if not all(_is_int(q) for q in value):
            raise self.fail(f"{field} must hold integer qubit indices, got {value!r:.80}")
        for q in value:
            if not 0 <= q < self.nqubits:
                raise self.fail(f"qubit {q} out of range for a {self.nqubits}-qubit circuit")
        if len(set(value)) != len(value):
            raise self.fail(f"the same qubit appears twice in {list(value)}")
        return tuple(value)

    def entry(self, index: int, raw: Any) -> None:
        if not isinstance(raw, dict):
            self.where = f"queue[{index}]"
            raise self.fail("each queue entry must be an object (a qibo gate's raw)")
        name = raw.get("_class")
        self.where = f"queue[{index}] ({name!s:.40})"
        if name == "M":
            self.measurement(raw)
        elif not isinstance(name, str):
            raise self.fail(f"unsupported gate class {name!r:.40}; supported are {_SUPPORTED}")
        elif name in _SPECS or name == "Unitary":
            self.add(self.gate(name, raw))
        elif name in CHANNELS:
            try:
                self.add(read_channel(name, raw, self.qubits))
            except RawCircuitError:
                raise
            except ValueError as error:
                raise self.fail(str(error)) from None
        elif name in _DROPPED:
            self.touch(self.qubits(raw.get("init_args")))  # checked, then dropped
        else:
            raise self.fail(f"unsupported gate class {name!r:.40}; supported are {_SUPPORTED}")

    def add(self, op: Operation) -> None:
        if self.open:
            self.touch(op.all_qubits)
        self.ops.append(op)

    def touch(self, qubits: tuple[int, ...]) -> None:
        """What qibo's ``Circuit.add`` does: a measurement on these qubits becomes a collapse."""
        for q in qubits:
            pending = self.open.get(q)
            if pending is not None:
                pending.collapsed = True
                self.registers.discard(pending.measurement.register)
                for other in pending.measurement.qubits:
                    del self.open[other]

    def kwargs(self, raw: dict[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
        kwargs = raw.get("init_kwargs", {})
        if not isinstance(kwargs, dict):
            raise self.fail("init_kwargs must be an object")
        unknown = sorted(str(key) for key in kwargs if key not in allowed)
        if unknown:
            raise self.fail(f"unexpected init_kwargs {unknown}; allowed are {sorted(allowed)}")
        return kwargs

    def gate(self, name: str, raw: dict[str, Any]) -> Op:
        args = raw.get("init_args")
        if name == "Unitary":
            if not isinstance(args, list) or len(args) < 2:
                raise self.fail("init_args must be [matrix, qubit, ...]")
            qubits = self.qubits(args[1:])
            self.kwargs(raw, _UNITARY_KWARGS)
            try:
                unitary = read_matrix(args[0], len(qubits), "Unitary matrix")
                check_unitary(unitary, "Unitary matrix")
            except ValueError as error:
                raise self.fail(str(error)) from None
            return Op(name, qubits, (), self.controls(name, qubits, raw), unitary)
        spec = _SPECS[name]
        qubits = self.qubits(args)
        if len(qubits) != spec.nqubits and name != "I":  # I takes any number of qubits
            raise self.fail(f"{name} acts on {spec.nqubits} qubit(s), got {len(qubits)}")
        kwargs = self.kwargs(raw, _ALLOWED_KWARGS[name])
        params = []
        for param in spec.params:
            value: Any = kwargs.get(param)
            number = finite_float(value)
            if number is None:
                raise self.fail(f"parameter {param!r} must be a finite number, got {value!r:.40}")
            params.append(number)
        if name == "MS" and not 0 <= params[2] <= math.pi / 2:
            raise self.fail(f"MS theta must be in [0, pi/2], got {params[2]}")
        matrix: Matrix | None = None
        if name == "GeneralizedfSim":
            try:
                matrix = read_matrix(kwargs.get("unitary"), 1, "GeneralizedfSim unitary")
                check_unitary(matrix, "GeneralizedfSim unitary")
            except ValueError as error:
                raise self.fail(str(error)) from None
        return Op(name, qubits, tuple(params), self.controls(name, qubits, raw), matrix)

    def controls(self, name: str, qubits: tuple[int, ...], raw: dict[str, Any]) -> tuple[int, ...]:
        """The extra controls of ``gate.controlled_by(...)``, after checking the gate's roles.

        Controls and targets, when given, must be what the constructor makes of ``init_args``;
        gates controlled by construction (CNOT, ...) take no extra controls (qibo refuses them).
        """
        controls = raw.get("_control_qubits")
        targets = raw.get("_target_qubits")
        if controls is None and targets is None:
            return ()
        if not isinstance(controls, list | tuple | None) or not isinstance(
            targets, list | tuple | None
        ):
            raise self.fail("_control_qubits and _target_qubits must be lists of qubit indices")
        if name in _CONTROLLED_BY_DEFAULT:
            ncontrols = len(qubits) - 1
            expected = (list(qubits[:ncontrols]), list(qubits[ncontrols:]))
            given = (list(controls or []), list(targets or []))
            if given != expected:
                raise self.fail(
                    f"controls {given[0]} and targets {given[1]} do not match init_args "
                    f"{list(qubits)} ({name} takes no controls beyond its own)"
                )
            return ()
        if targets is not None and list(targets) != list(qubits):
            raise self.fail(f"targets {list(targets)} do not match init_args {list(qubits)}")
        if not controls:
            return ()
        extra = self.qubits(controls, "_control_qubits")
        if set(extra) & set(qubits):
            raise self.fail(f"controls {list(extra)} overlap the targets {list(qubits)}")
        return extra

    # mccabe over 10 on purpose: one check per field of qibo's raw measurement entry
    def measurement(self, raw: dict[str, Any]) -> None:  # noqa: C901
        qubits = self.qubits(raw.get("init_args"))
        kwargs = self.kwargs(raw, _M_KWARGS)
        collapse = kwargs.get("collapse", False)
        if not isinstance(collapse, bool):
            raise self.fail(f"collapse must be true or false, got {collapse!r:.20}")
        p0 = self.bitflips(kwargs.get("p0"), qubits, "p0")
        p1 = self.bitflips(kwargs.get("p1"), qubits, "p1")
        if collapse and (p0 is not None or p1 is not None):
            raise self.fail("bit-flip noise (p0, p1) cannot be combined with collapse=True")
        if p0 is None or p1 is None:  # qibo: one given is both
            p0 = p1 = p0 if p1 is None else p1
        basis = kwargs.get("basis", "Z")
        bases = [basis] * len(qubits) if isinstance(basis, str) else basis
        if not isinstance(bases, list) or not all(
            isinstance(b, str) and b in _BASES for b in bases
        ):
            raise self.fail(f"basis must be X, Y, Z or a list of them, got {basis!r:.40}")
        result = raw.get("measurement_result")
        if isinstance(result, dict) and result.get("samples") is not None:
            raise self.fail("measurement_result.samples must be null (no stored outcomes)")
        register = kwargs.get("register_name")
        if register is None:
            register = f"register{self.nm}"  # the name qibo would give it
        elif not isinstance(register, str) or not register or len(register) > 100:
            raise self.fail(f"register_name must be a short string, got {register!r:.40}")
        self.nm += 1
        if collapse:
            self.ops.append(Collapse(qubits))
            return
        if register in self.registers:
            raise self.fail(f"register {register!r} is used by two measurements")
        for q in qubits:
            if q in self.open:
                raise self.fail(f"qubit {q} is measured twice without an operation in between")
        pending = _Pending(Measurement(register, qubits, p0, p1))
        self.registers.add(register)
        self.open.update((q, pending) for q in qubits)
        self.ops.append(pending)

    def bitflips(self, value: Any, qubits: tuple[int, ...], name: str) -> tuple[float, ...] | None:
        """qibo's bit-flip map (a number, a list per qubit, or ``{qubit: p}``) as a tuple."""
        if value is None:
            return None
        if isinstance(value, dict):
            try:
                given = {int(key): p for key, p in value.items()}
            except ValueError:
                raise self.fail(f"{name} keys must be qubit indices") from None
            if set(given) - set(qubits):
                raise self.fail(
                    f"{name} names qubits {sorted(set(given) - set(qubits))} "
                    "that this measurement does not measure"
                )
            values = [given.get(q, 0.0) for q in qubits]
        elif isinstance(value, list):
            if len(value) != len(qubits):
                raise self.fail(f"{name} must give one probability per measured qubit")
            values = value
        else:
            values = [value] * len(qubits)
        out = []
        for p in values:
            number = finite_float(p)
            if number is None or not 0.0 <= number <= 1.0:
                raise self.fail(f"{name} must hold probabilities in [0, 1], got {p!r:.40}")
            out.append(number)
        return tuple(out)

    def program(self, density_matrix: bool, wire_names: tuple[int | str, ...] | None) -> Program:
        ops: list[Operation] = []
        measurements: list[Measurement] = []
        for op in self.ops:
            if not isinstance(op, _Pending):
                ops.append(op)
            elif op.collapsed:
                ops.append(Collapse(op.measurement.qubits))
            else:
                measurements.append(op.measurement)
        return Program(self.nqubits, tuple(ops), tuple(measurements), density_matrix, wire_names)


def _wire_names(value: Any, nqubits: int) -> tuple[int | str, ...] | None:
    """qibo's ``wire_names``: one distinct short name (text or integer) per qubit, or None.

    qibo 0.3.6 writes ``[0, 1, ..., n-1]`` when none were given: that is None here too.
    """
    if value is None or value == list(range(nqubits)):
        return None
    if not isinstance(value, list) or len(value) != nqubits:
        raise RawCircuitError(f"wire_names must be a list of {nqubits} names, one per qubit")
    for name in value:
        if not (_is_int(name) or (isinstance(name, str) and 0 < len(name) <= 100)):
            raise RawCircuitError(f"wire_names must be integers or short strings, got {name!r:.40}")
    if len(set(value)) != len(value):
        raise RawCircuitError("wire_names must be distinct")
    return tuple(value)


# mccabe over 10 on purpose: one check per top-level key of qibo's raw circuit
def program_from_raw(obj: Any) -> Program:  # noqa: C901
    """Validate qibo's ``circuit.raw`` (a dict, or its JSON text) and return the same circuit.

    Raises :class:`RawCircuitError` for anything outside the allowlist, naming the queue entry.
    """
    if isinstance(obj, str | bytes):
        try:
            obj = json.loads(obj)
        except (ValueError, RecursionError) as error:
            raise RawCircuitError(
                f"circuit is neither OpenQASM nor qibo raw JSON: {error}"
            ) from None
    if not isinstance(obj, dict):
        raise RawCircuitError(
            f"circuit must be a qibo circuit.raw object, got {type(obj).__name__}"
        )
    nqubits = obj.get("nqubits")
    if not isinstance(nqubits, int) or isinstance(nqubits, bool) or not 1 <= nqubits <= MAX_QUBITS:
        raise RawCircuitError(f"nqubits must be an integer from 1 to {MAX_QUBITS}, got {nqubits!r}")
    queue = obj.get("queue")
    if not isinstance(queue, list):
        raise RawCircuitError("queue must be a list of gates")
    if len(queue) > MAX_OPS:
        raise RawCircuitError(f"queue has {len(queue)} gates; at most {MAX_OPS} are supported")
    density_matrix = obj.get("density_matrix", False)
    if not isinstance(density_matrix, bool):
        raise RawCircuitError("density_matrix must be true or false")
    wire_names = _wire_names(obj.get("wire_names"), nqubits)
    reader = _Reader(nqubits)
    for index, raw in enumerate(queue):
        reader.entry(index, raw)
    program = reader.program(density_matrix, wire_names)
    if obj.get("initial_state") is not None:
        try:
            program = with_initial_state(program, obj["initial_state"])
        except ValueError as error:
            raise RawCircuitError(str(error)) from None
    if program.runs_as_density_matrix and nqubits > MAX_DENSITY_QUBITS:
        raise RawCircuitError(
            f"noise channels and collapsing measurements are simulated with a density matrix, "
            f"for at most {MAX_DENSITY_QUBITS} qubits; this circuit has {nqubits}"
        )
    return program


__all__ = ["RawCircuitError", "program_from_raw"]
