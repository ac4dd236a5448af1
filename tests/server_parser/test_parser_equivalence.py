"""Our parsers build the circuit qibo would: same gates, qubits, parameters, measurements, state.

The reference is qibo 0.3.6 itself: ``Circuit.from_qasm`` on ``to_qasm`` output (safe here: the
text is our own), and the original circuit for ``circuit.raw``.
"""

from __future__ import annotations

import inspect
import json

import numpy as np
import pytest
import qibo
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from qibo import Circuit, gates

from qibo_client.server.circuits.program import GATE_SPECS
from qibo_client.server.circuits.qasm_parser import parse_qasm
from qibo_client.server.circuits.raw_circuit import program_from_raw

NQUBITS = 4


@pytest.fixture(scope="module", autouse=True)
def _numpy_backend():
    qibo.set_backend("numpy")


def assert_same_circuit(ours: Circuit, theirs: Circuit) -> None:
    """Gate by gate: class, qubits (controls and targets), parameters; then the registers."""
    assert ours.nqubits == theirs.nqubits
    assert len(ours.queue) == len(theirs.queue), (ours.draw(), theirs.draw())
    for mine, ref in zip(ours.queue, theirs.queue, strict=True):
        assert type(mine) is type(ref)
        assert mine.control_qubits == ref.control_qubits
        assert mine.target_qubits == ref.target_qubits
        if isinstance(ref, gates.ParametrizedGate):
            np.testing.assert_allclose(mine.parameters, ref.parameters, rtol=0, atol=1e-12)
        if isinstance(ref, gates.M):
            assert mine.register_name == ref.register_name
    assert list(ours.measurement_tuples.items()) == list(theirs.measurement_tuples.items())


def assert_same_state(ours: Circuit, theirs: Circuit) -> None:
    """Final state vectors of the circuits without their measurements agree."""

    def unmeasured(circuit: Circuit) -> Circuit:
        copy = Circuit(circuit.nqubits)
        copy.add(g for g in circuit.queue if not isinstance(g, gates.M))
        return copy

    np.testing.assert_allclose(
        unmeasured(ours)().state(), unmeasured(theirs)().state(), rtol=0, atol=1e-10
    )


def gate_for(name: str, qubits: list[int], params: list[float]) -> gates.Gate:
    return getattr(gates, name)(*qubits[: GATE_SPECS[name].nqubits], *params)


def test_gate_specs_match_qibo_constructors():
    for name, spec in GATE_SPECS.items():
        signature = inspect.signature(getattr(gates, name).__init__)
        names = [p for p in signature.parameters if p not in ("self", "trainable")]
        qubit_names = [p for p in names if p == "q" or p[1:].isdigit()]
        assert len(qubit_names) == spec.nqubits, name
        assert tuple(names[len(qubit_names) :]) == spec.params, name


@pytest.mark.parametrize("name", sorted(GATE_SPECS))
def test_every_supported_gate_matches_qibo(name):
    spec = GATE_SPECS[name]
    circuit = Circuit(NQUBITS)
    circuit.add(gates.H(q) for q in range(NQUBITS))
    params = [0.3 + 0.4 * i for i in range(len(spec.params))]
    circuit.add(gate_for(name, [2, 0, 3], params))
    circuit.add(gates.M(0, 3, register_name="a"))
    circuit.add(gates.M(2))
    text = circuit.to_qasm()
    ours = parse_qasm(text).to_circuit()
    assert_same_circuit(ours, Circuit.from_qasm(text))
    assert_same_state(ours, circuit)
    assert ours.to_qasm() == text  # and it writes back byte for byte


@pytest.mark.parametrize("name", ["GPI", "GPI2", "U3"])
def test_extended_compatibility_definitions_match_qibo(name):
    circuit = Circuit(2)
    circuit.add(gate_for(name, [1, 0], [0.7, 0.2, -0.1][: len(GATE_SPECS[name].params)]))
    text = circuit.to_qasm(extended_compatibility=True)
    assert_same_circuit(parse_qasm(text).to_circuit(), Circuit.from_qasm(text))


def test_several_qregs_and_scattered_measurements_match_qibo():
    text = (
        'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg a[2];\nqreg b[3];\ncreg c[3];\ncreg d[1];\n'
        "h a[0];\ncx a[0], b[2];\nrz(-pi/4) b[1];\ncu3(0.1, 0.2, 0.3) b[0], a[1];\n"
        "measure b[2] -> c[0];\nmeasure a[1] -> d[0];\nmeasure a[0] -> c[2];\n"
        "measure b[0] -> c[1];\n"
    )
    ours = parse_qasm(text).to_circuit()
    assert_same_circuit(ours, Circuit.from_qasm(text))
    assert ours.measurement_tuples == {"c": (4, 2, 0), "d": (1,)}


def test_barriers_are_dropped_from_qasm_and_raw_without_changing_the_state():
    circuit = Circuit(3)
    circuit.add(gates.H(0))
    circuit.add(gates.Barrier(0, 1, 2))
    circuit.add(gates.CNOT(0, 2))
    circuit.add(gates.M(0, 2))
    for program in (parse_qasm(circuit.to_qasm()), program_from_raw(circuit.raw)):
        ours = program.to_circuit()
        assert [type(g).__name__ for g in ours.queue] == ["H", "CNOT", "M"]
        assert_same_state(ours, circuit)
        assert ours.measurement_tuples == circuit.measurement_tuples


def test_parentheses_are_kept_where_qibo_loses_them():
    text = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\nrx((1+2)*0.1) q[0];'
    assert parse_qasm(text).to_circuit().queue[0].parameters[0] == pytest.approx(0.3, abs=1e-15)
    assert Circuit.from_qasm(text).queue[0].parameters[0] == pytest.approx(1.2)  # qibo's bug


@st.composite
def random_circuits(draw: st.DrawFn) -> Circuit:
    """Random circuits of every supported gate, with 0 to 3 named or unnamed registers."""
    nqubits = draw(st.integers(3, 5))
    circuit = Circuit(nqubits)
    angle = st.floats(-10, 10, allow_nan=False, allow_infinity=False)
    for _ in range(draw(st.integers(0, 30))):
        name = draw(st.sampled_from(sorted(GATE_SPECS)))
        qubits = draw(st.permutations(range(nqubits)))
        params = [draw(angle) for _ in GATE_SPECS[name].params]
        circuit.add(gate_for(name, qubits, params))
    measured = draw(st.permutations(range(nqubits)))[: draw(st.integers(0, nqubits))]
    cuts = sorted(draw(st.lists(st.integers(1, max(1, len(measured))), max_size=2)))
    start = 0
    for i, end in enumerate([*cuts, len(measured)]):
        if end > start and measured[start:end]:
            named = draw(st.booleans())
            circuit.add(gates.M(*measured[start:end], register_name=f"m{i}" if named else None))
            start = end
    return circuit


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_circuits())
def test_random_circuits_match_qibo_from_qasm(circuit):
    text = circuit.to_qasm()
    ours = parse_qasm(text).to_circuit()
    assert_same_circuit(ours, Circuit.from_qasm(text))
    assert_same_state(ours, circuit)
    assert ours.to_qasm() == text


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_circuits())
def test_random_circuits_round_trip_through_raw(circuit):
    raw = json.loads(json.dumps(circuit.raw))  # what travels in the official client's POST
    program = program_from_raw(raw)
    ours = program.to_circuit()
    assert_same_circuit(ours, circuit)
    assert_same_state(ours, circuit)
    # Same circuit as through QASM (the Programs may differ in the order of symmetric controls).
    assert_same_circuit(ours, parse_qasm(circuit.to_qasm()).to_circuit())


def test_raw_measurement_in_x_basis_is_not_rotated_twice():
    circuit = Circuit(2)
    circuit.add(gates.RY(0, 0.4))
    circuit.add(gates.M(0, basis=gates.X))
    circuit.add(gates.M(1, register_name="z"))
    ours = program_from_raw(json.loads(json.dumps(circuit.raw))).to_circuit()
    assert [type(g).__name__ for g in ours.queue] == ["RY", "H", "M", "M"]
    assert list(ours.measurement_tuples.items()) == [("register0", (0,)), ("z", (1,))]
    assert_same_state(ours, circuit)


def test_multi_qubit_identity_from_raw():
    circuit = Circuit(3)
    circuit.add(gates.I(0, 2))
    ours = program_from_raw(circuit.raw).to_circuit()
    assert ours.queue[0].qubits == (0, 2)


def test_the_clients_qasm_gates_are_what_the_parser_reads():
    """What the client sends as QASM (``protocol.QASM_GATE_CLASSES``) the server reads back."""
    from qibo_client.protocol import QASM_GATE_CLASSES

    assert set(GATE_SPECS) == QASM_GATE_CLASSES
    for name in sorted(QASM_GATE_CLASSES):
        spec = GATE_SPECS[name]
        circuit = Circuit(3)
        params = [0.1 * (i + 1) for i in range(len(spec.params))]
        circuit.add(getattr(gates, name)(*range(spec.nqubits), *params))
        circuit.add(gates.M(0))
        (op,) = parse_qasm(circuit.to_qasm()).ops
        assert (op.name, op.params) == (name, pytest.approx(tuple(params))), name
