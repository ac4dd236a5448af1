"""Turn qibo's ``circuit.raw`` (what the official client 0.2.x sends) into a :class:`Program`.

qibo's own ``Circuit.from_dict`` looks every gate class up by the name it is given and calls it
with whatever arguments come along, so an unchecked object could construct any qibo gate (or
fail deep inside a worker). Here the object is checked against an allowlist first: the gate
classes in :data:`~.program.GATE_SPECS` plus ``M``, integer qubits in range, finite numeric
parameters by their constructor names, measurement registers without noise, collapse or stored
samples. Anything else raises :class:`RawCircuitError` naming the queue entry at fault.

The format is the same in qibo 0.3.2 (used by the official client 0.2.4) and 0.3.6::

    {"queue": [{"_class": "RX", "init_args": [0], "init_kwargs": {"theta": 0.1},
                "_target_qubits": [0], "_control_qubits": [], "name": "rx"}, ...,
               {"_class": "M", "init_args": [0, 1],
                "init_kwargs": {"register_name": null, "collapse": false, "basis": ["Z", "Z"],
                                "p0": null, "p1": null},
                "measurement_result": {"samples": null}, ...}],
     "nqubits": 2, "density_matrix": false, "wire_names": [...], "qibo_version": "0.3.6"}

Measurement bases other than Z need no special care: ``Circuit.add`` already put the basis
rotation gates into the queue before the ``M`` (qibo's ``from_dict`` adds them a second time, a
bug we do not copy), so the ``M`` itself is read as a Z measurement. Unnamed registers get the
names qibo would give them (``register<k>`` for the k-th measurement). ``density_matrix`` and
``wire_names`` do not change measured frequencies and are ignored, and so are ``Barrier``
entries (after their qubits are checked), as in :mod:`.qasm_parser`.
"""

from __future__ import annotations

import json
import math
from typing import Any

from .program import GATE_SPECS, MAX_OPS, MAX_QUBITS, Measurement, Op, Program

#: Gates whose leading qubits are controls by construction (qibo's GATES_CONTROLLED_BY_DEFAULT).
_CONTROLLED_BY_DEFAULT = frozenset(
    {"CNOT", "CZ", "CY", "CH", "CSX", "CSXDG", "CRX", "CRY", "CRZ", "CU1", "CU3", "TOFFOLI", "CCZ"}
)
_GATE_KWARGS_EXTRA = frozenset({"trainable"})
_M_KWARGS = frozenset({"register_name", "collapse", "basis", "p0", "p1"})
_BASES = frozenset({"X", "Y", "Z"})


class RawCircuitError(ValueError):
    """The circuit object is not a qibo ``circuit.raw`` the server can run; says which entry."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _finite_float(value: Any) -> float | None:
    """``value`` as a finite float, or None (bools, strings, NaN, infinities, huge integers)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


class _Reader:
    """Validates one raw object entry by entry, remembering registers and measured qubits."""

    def __init__(self, nqubits: int) -> None:
        self.nqubits = nqubits
        self.ops: list[Op] = []
        self.measurements: list[Measurement] = []
        self.registers: set[str] = set()
        self.measured: dict[int, int] = {}  # qubit -> queue index of its measurement
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
            self.measurement(index, raw)
        elif name == "Barrier":
            self.qubits(raw.get("init_args"))  # checked, then dropped, as in QASM
        elif isinstance(name, str) and name in GATE_SPECS:
            self.gate(name, raw)
        else:
            raise self.fail(
                f"unsupported gate class {name!r:.40}; supported are {' '.join(GATE_SPECS)} and M"
            )

    def kwargs(self, raw: dict[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
        kwargs = raw.get("init_kwargs", {})
        if not isinstance(kwargs, dict):
            raise self.fail("init_kwargs must be an object")
        unknown = sorted(str(key) for key in kwargs if key not in allowed)
        if unknown:
            raise self.fail(f"unexpected init_kwargs {unknown}; allowed are {sorted(allowed)}")
        return kwargs

    def gate(self, name: str, raw: dict[str, Any]) -> None:
        spec = GATE_SPECS[name]
        qubits = self.qubits(raw.get("init_args"))
        if len(qubits) != spec.nqubits and name != "I":  # I takes any number of qubits
            raise self.fail(f"{name} acts on {spec.nqubits} qubit(s), got {len(qubits)}")
        kwargs = self.kwargs(raw, frozenset(spec.params) | _GATE_KWARGS_EXTRA)
        params = []
        for param in spec.params:
            value: Any = kwargs.get(param)
            number = _finite_float(value)
            if number is None:
                raise self.fail(f"parameter {param!r} must be a finite number, got {value!r:.40}")
            params.append(number)
        self.check_roles(name, qubits, raw)
        for q in qubits:
            if q in self.measured:
                raise self.fail(
                    f"acts on qubit {q} after it was measured (queue[{self.measured[q]}]); "
                    "mid-circuit measurement is not supported"
                )
        self.ops.append(Op(name, qubits, tuple(params)))

    def check_roles(self, name: str, qubits: tuple[int, ...], raw: dict[str, Any]) -> None:
        """Controls and targets, when given, must be what the constructor makes of ``init_args``.

        A gate ``controlled_by`` extra qubits has more controls than that, and is refused.
        """
        controls = raw.get("_control_qubits")
        targets = raw.get("_target_qubits")
        if controls is None and targets is None:
            return
        if not isinstance(controls, list | tuple | None) or not isinstance(
            targets, list | tuple | None
        ):
            raise self.fail("_control_qubits and _target_qubits must be lists of qubit indices")
        ncontrols = len(qubits) - 1 if name in _CONTROLLED_BY_DEFAULT else 0
        expected = (list(qubits[:ncontrols]), list(qubits[ncontrols:]))
        given = (list(controls or []), list(targets or []))
        if given != expected:
            raise self.fail(
                f"controls {given[0]} and targets {given[1]} do not match init_args "
                f"{list(qubits)} (gates controlled_by extra qubits are not supported)"
            )

    def measurement(self, index: int, raw: dict[str, Any]) -> None:
        qubits = self.qubits(raw.get("init_args"))
        kwargs = self.kwargs(raw, _M_KWARGS)
        if kwargs.get("collapse", False) is not False:
            raise self.fail("collapsing (mid-circuit) measurements are not supported")
        if kwargs.get("p0") is not None or kwargs.get("p1") is not None:
            raise self.fail("measurement bit-flip noise (p0, p1) is not supported")
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
            register = f"register{len(self.measurements)}"  # the name qibo would give it
        elif not isinstance(register, str) or not register or len(register) > 100:
            raise self.fail(f"register_name must be a short string, got {register!r:.40}")
        if register in self.registers:
            raise self.fail(f"register {register!r} is used by two measurements")
        for q in qubits:
            if q in self.measured:
                raise self.fail(f"qubit {q} is measured twice (first in queue[{self.measured[q]}])")
            self.measured[q] = index
        self.registers.add(register)
        self.measurements.append(Measurement(register, qubits))


def program_from_raw(obj: Any) -> Program:
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
    reader = _Reader(nqubits)
    for index, raw in enumerate(queue):
        reader.entry(index, raw)
    return Program(nqubits, tuple(reader.ops), tuple(reader.measurements))


__all__ = ["RawCircuitError", "program_from_raw"]
