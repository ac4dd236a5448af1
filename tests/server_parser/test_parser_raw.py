"""``program_from_raw``: qibo's ``circuit.raw`` checked against the allowlist (no qibo needed)."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from raw_edits import edited

from qibo_client.server.circuits.program import Collapse, Measurement, Op, Program
from qibo_client.server.circuits.raw_circuit import RawCircuitError, program_from_raw


def gate(cls: str, *qubits: int, controls: int = 0, **kwargs: Any) -> dict[str, Any]:
    """A gate entry as qibo 0.3.2 and 0.3.6 write it."""
    return {
        "name": cls.lower(),
        "init_args": list(qubits),
        "init_kwargs": kwargs,
        "_target_qubits": list(qubits[controls:]),
        "_control_qubits": list(qubits[:controls]),
        "_class": cls,
    }


def measure(*qubits: int, register: str | None = None, **kwargs: Any) -> dict[str, Any]:
    entry = gate("M", *qubits)
    entry["name"] = "measure"
    entry["init_kwargs"] = {
        "register_name": register,
        "collapse": False,
        "basis": ["Z"] * len(qubits),
        "p0": None,
        "p1": None,
        **kwargs,
    }
    entry["measurement_result"] = {"samples": None}
    return entry


def raw(*queue: dict[str, Any], nqubits: int = 3) -> dict[str, Any]:
    return {
        "queue": list(queue),
        "nqubits": nqubits,
        "density_matrix": False,
        "wire_names": list(range(nqubits)),
        "qibo_version": "0.3.2",
    }


BELL = raw(
    gate("H", 0),
    gate("CNOT", 0, 1, controls=1),
    gate("U3", 2, theta=0.1, phi=0.2, lam=0.3),
    measure(0, 1),
    measure(2, register="b"),
)


def test_official_client_payload_becomes_a_program():
    assert program_from_raw(BELL) == Program(
        3,
        (Op("H", (0,)), Op("CNOT", (0, 1)), Op("U3", (2,), (0.1, 0.2, 0.3))),
        (Measurement("register0", (0, 1)), Measurement("b", (2,))),
    )


def test_json_text_is_accepted_too():
    assert program_from_raw(json.dumps(BELL)) == program_from_raw(BELL)
    assert program_from_raw(json.dumps(BELL).encode()) == program_from_raw(BELL)


def test_unnamed_registers_get_qibo_names_by_measurement_index():
    program = program_from_raw(raw(measure(2, register="x"), measure(0), measure(1)))
    assert [m.register for m in program.measurements] == ["x", "register1", "register2"]


def test_integer_parameters_become_floats_and_trainable_is_allowed():
    program = program_from_raw(raw(gate("RX", 1, theta=1, trainable=False)))
    assert program.ops == (Op("RX", (1,), (1.0,)),)
    assert isinstance(program.ops[0].params[0], float)


def test_barriers_are_checked_and_dropped():
    program = program_from_raw(raw(gate("H", 0), gate("Barrier", 0, 1, 2), gate("X", 1)))
    assert program.ops == (Op("H", (0,)), Op("X", (1,)))
    with pytest.raises(RawCircuitError, match=r"queue\[0\] \(Barrier\): qubit 5 out of range"):
        program_from_raw(raw(gate("Barrier", 0, 5)))


def test_x_basis_measurement_reads_its_rotation_from_the_queue():
    program = program_from_raw(raw(gate("H", 0), measure(0, basis=["X"])))
    assert program.ops == (Op("H", (0,)),)
    assert program.measurements == (Measurement("register0", (0,)),)


def test_controlled_by_adds_controls_to_a_gate():
    h = gate("H", 2)
    h["_control_qubits"] = [0, 1]
    assert program_from_raw(raw(h)).ops == (Op("H", (2,), controls=(0, 1)),)


def test_a_measurement_touched_later_becomes_a_collapse_as_in_qibo():
    # qibo's Circuit.add sets collapse=True on M(0) when X(0) comes: its bit leaves the outcome.
    program = program_from_raw(
        raw(measure(0), gate("X", 0), measure(1, collapse=True), measure(0, 2))
    )
    assert program.ops == (Collapse((0,)), Op("X", (0,)), Collapse((1,)))
    # registers are named by the count of M entries, collapsing ones included (as qibo does)
    assert program.measurements == (Measurement("register2", (0, 2)),)
    assert program.runs_as_density_matrix


def test_bit_flip_noise_is_one_probability_per_measured_qubit():
    (m,) = program_from_raw(raw(measure(0, 1, 2, p0={"2": 0.25}, p1=0.5))).measurements
    assert m == Measurement("register0", (0, 1, 2), (0.0, 0.0, 0.25), (0.5, 0.5, 0.5))
    (m,) = program_from_raw(raw(measure(0, 1, p0=[0.1, 0.2]))).measurements
    assert m.p0 == m.p1 == (0.1, 0.2)  # qibo: p1 defaults to p0


def test_wire_names_and_density_matrix_are_kept():
    obj = edit("wire_names", ["a", 7, "c"], edit("density_matrix", True))
    program = program_from_raw(obj)
    assert program.wire_names == ("a", 7, "c")
    assert program.density_matrix
    assert not program.runs_as_density_matrix  # no noise: a state vector gives the same counts
    assert program_from_raw(BELL).wire_names is None  # qibo's default [0, 1, 2] is no choice


def edit(path: str, value: Any, base: dict[str, Any] = BELL) -> dict[str, Any]:
    return edited(base, path, value)


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ([1, 2], "must be a qibo circuit.raw object, got list"),
        ("{not json", "neither OpenQASM nor qibo raw JSON"),
        ("[" * 100_000, "neither OpenQASM nor qibo raw JSON"),
        (edit("nqubits", 0), "nqubits must be an integer from 1 to 64, got 0"),
        (edit("nqubits", 65), "nqubits must be an integer from 1 to 64"),
        (edit("nqubits", True), "nqubits must be an integer"),
        (edit("nqubits", "3"), "nqubits must be an integer"),
        (edit("queue", {"0": {}}), "queue must be a list"),
        (edit("density_matrix", "no"), "density_matrix must be true or false"),
        (edit("queue.0", "H"), r"queue\[0\]: each queue entry must be an object"),
        (edit("queue.0._class", "Unitary"), r"queue\[0\] \(Unitary\): init_args must be \[matrix"),
        (edit("queue.0._class", "Foo"), r"queue\[0\] \(Foo\): unsupported gate class 'Foo'"),
        (edit("queue.0._class", "__import__"), "unsupported gate class '__import__'"),
        (edit("queue.0._class", None), "unsupported gate class None"),
        (edit("queue.0.init_args", 0), "init_args must be a non-empty list"),
        (edit("queue.0.init_args", []), "init_args must be a non-empty list"),
        (edit("queue.0.init_args", [True]), "integer qubit indices"),
        (edit("queue.0.init_args", [0.0]), "integer qubit indices"),
        (edit("queue.0.init_args", ["0"]), "integer qubit indices"),
        (edit("queue.0.init_args", [3]), "qubit 3 out of range for a 3-qubit circuit"),
        (edit("queue.0.init_args", [-1]), "qubit -1 out of range"),
        (edit("queue.1.init_args", [1, 1]), r"the same qubit appears twice in \[1, 1\]"),
        (edit("queue.1.init_args", [1]), r"queue\[1\] \(CNOT\): CNOT acts on 2 qubit\(s\), got 1"),
        (edit("queue.2.init_kwargs", {"theta": 0.1, "phi": 0.2}), "parameter 'lam' must be a"),
        (edit("queue.2.init_kwargs.theta", "0.1"), "parameter 'theta' must be a finite number"),
        (edit("queue.2.init_kwargs.theta", math.nan), "parameter 'theta' must be a finite"),
        (edit("queue.2.init_kwargs.theta", math.inf), "parameter 'theta' must be a finite"),
        (edit("queue.2.init_kwargs.theta", True), "parameter 'theta' must be a finite"),
        (edit("queue.2.init_kwargs.theta", 10**400), "parameter 'theta' must be a finite"),
        (edit("queue.3.init_kwargs.basis", [["Z"]]), "basis must be X, Y, Z"),
        (edit("queue.2.init_kwargs.matrix", [[1]]), r"unexpected init_kwargs \['matrix'\]"),
        (edit("queue.2.init_kwargs", [0.1]), "init_kwargs must be an object"),
        (edit("queue.1._control_qubits", [2, 0]), "CNOT takes no controls beyond its own"),
        (edit("queue.0._control_qubits", [0]), r"controls \[0\] overlap the targets \[0\]"),
        (edit("queue.0._target_qubits", [1]), r"targets \[1\] do not match init_args \[0\]"),
        (edit("queue.0._control_qubits", 1), "_control_qubits and _target_qubits must be lists"),
        (edit("queue.1._target_qubits", [0]), r"controls \[0\] and targets \[0\] do not match"),
        (edit("queue.3.init_kwargs.collapse", "yes"), "collapse must be true or false"),
        (edit("queue.3.init_kwargs.p0", 1.5), r"p0 must hold probabilities in \[0, 1\]"),
        (edit("queue.3.init_kwargs.p1", [0.1]), "p1 must give one probability per measured"),
        (edit("queue.3.init_kwargs.p0", {"7": 0.1}), r"p0 names qubits \[7\]"),
        (edit("queue.3.init_kwargs.p0", {"x": 0.1}), "p0 keys must be qubit indices"),
        (edit("queue.3.init_kwargs.basis", ["Z", "W"]), "basis must be X, Y, Z"),
        (edit("queue.3.init_kwargs.register_name", 5), "register_name must be a short string"),
        (edit("queue.3.init_kwargs.register_name", "b"), "register 'b' is used by two"),
        (edit("queue.3.init_kwargs.shots", 5), r"unexpected init_kwargs \['shots'\]"),
        (edit("queue.3.measurement_result.samples", [[0, 1]]), "samples must be null"),
        (edit("queue.4.init_args", [1]), "qubit 1 is measured twice without an operation"),
        (raw(measure(0, collapse=True, p0=0.1)), r"bit-flip noise \(p0, p1\) cannot be combined"),
        (edit("wire_names", [0, 1]), "wire_names must be a list of 3 names"),
        (edit("wire_names", ["a", "a", "b"]), "wire_names must be distinct"),
        (edit("wire_names", ["a", None, "b"]), "wire_names must be integers or short strings"),
    ],
)
def test_malformed_raw_objects_are_refused_with_the_entry_at_fault(obj, message):
    with pytest.raises(RawCircuitError, match=message):
        program_from_raw(obj)


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 70)
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from(["H", "M", "CNOT", "U3", "X", "Z", "register0", "b"]),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
_PATHS = [
    f"queue.{index}.{field}"
    for index in range(5)
    for field in ("_class", "init_args", "init_kwargs", "_control_qubits", "_target_qubits")
] + [
    "nqubits",
    "queue.1.init_args.0",
    "queue.2.init_kwargs.theta",
    "queue.2.init_kwargs.lam",
    "queue.3.init_kwargs.register_name",
    "queue.3.init_kwargs.basis",
    "queue.3.init_kwargs.collapse",
    "queue.3.init_kwargs.p0",
    "queue.3.measurement_result",
    "queue.4.init_args.0",
]


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_PATHS), _JSON)
def test_fuzz_corrupted_entries_give_raw_circuit_error_or_a_valid_program(path, value):
    try:
        program = program_from_raw(edit(path, value))
    except RawCircuitError:
        return
    assert 1 <= program.nqubits <= 64
    assert all(0 <= q < program.nqubits for op in program.ops for q in op.all_qubits)
    assert all(math.isfinite(p) for op in program.ops for p in getattr(op, "params", ()))
    registers = [m.register for m in program.measurements]
    assert len(set(registers)) == len(registers)
