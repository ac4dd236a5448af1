"""The server's QASM parser alone: language, expressions, errors, hostile input (no qibo)."""

from __future__ import annotations

import math
import pickle
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qibo_client.server.circuits.program import MAX_QUBITS, Measurement, Op, Program
from qibo_client.server.circuits.qasm_parser import QasmError, eval_params, parse_qasm

HEADER = 'OPENQASM 2.0;\ninclude "qelib1.inc";\n'


def body(text: str) -> Program:
    """Parse ``text`` after the usual two header lines (so ``text`` starts on line 3)."""
    return parse_qasm(HEADER + text)


# --- the language --------------------------------------------------------------------------------


def test_bell_with_comments_and_blank_lines():
    program = parse_qasm(
        '// a Bell pair\nOPENQASM 2.0;\n\ninclude "qelib1.inc"; // std gates\nqreg q[2];\n'
        "creg c[2];\nh q[0]; cx q[0],q[1]; // two on a line\nmeasure q[0] -> c[0];\n"
        "measure q[1] -> c[1];\n"
    )
    assert program == Program(2, (Op("H", (0,)), Op("CNOT", (0, 1))), (Measurement("c", (0, 1)),))
    assert program.nmeasured == 2
    assert program.measured_qubits == (0, 1)
    assert program.gate_names() == frozenset({"H", "CNOT"})
    assert program.qubit_pairs() == frozenset({(0, 1)})


def test_header_is_optional():
    assert parse_qasm("qreg q[1]; x q[0];").ops == (Op("X", (0,)),)


def test_several_qregs_share_one_index_space_in_declaration_order():
    program = body("qreg a[2];\nqreg b[3];\ncx a[1], b[2];\nh b[0];")
    assert program.nqubits == 5
    assert program.ops == (Op("CNOT", (1, 4)), Op("H", (2,)))


def test_register_broadcast():
    program = body("qreg q[2];\nqreg r[2];\nh q;\ncx q, r;\ncx q[0], r;")
    assert [op.qubits for op in program.ops] == [(0,), (1,), (0, 2), (1, 3), (0, 2), (0, 3)]


def test_aliases_and_class_names():
    program = body(
        "qreg q[2];\np(0.5) q[0];\nu(1,2,3) q[1];\nU(1,2,3) q[0];\nCNOT q[0],q[1];\nid q[0];\n"
        "CX q[1],q[0];"
    )
    assert [op.name for op in program.ops] == ["U1", "U3", "U3", "CNOT", "I", "CNOT"]


def test_barrier_is_checked_and_dropped():
    assert body("qreg q[2];\nh q[0];\nbarrier q;\nbarrier q[0], q[1];\nx q[1];").ops == (
        Op("H", (0,)),
        Op("X", (1,)),
    )
    with pytest.raises(QasmError, match="line 4: 'r' is not a declared qreg"):
        body("qreg q[2];\nbarrier r;")


def test_measurements_merge_per_creg_in_bit_order_and_first_use_order():
    program = body(
        "qreg q[4];\ncreg a[2];\ncreg b[2];\n"
        "measure q[3] -> b[1];\nmeasure q[2] -> a[1];\nmeasure q[0] -> a[0];\nmeasure q[1] -> b[0];"
    )
    assert program.measurements == (Measurement("b", (1, 3)), Measurement("a", (0, 2)))
    assert program.nmeasured == 4


def test_whole_register_measurement_uses_that_register_qubits():
    program = body("qreg q[1];\nqreg r[2];\ncreg c[2];\nmeasure r -> c;")
    assert program.measurements == (Measurement("c", (1, 2)),)


def test_unwritten_creg_bits_are_left_out_and_unused_cregs_ignored():
    program = body("qreg q[3];\ncreg c[3];\ncreg unused[4];\nmeasure q[2] -> c[1];")
    assert program.measurements == (Measurement("c", (2,)),)


def test_missing_pieces_of_a_gate_statement():
    with pytest.raises(QasmError, match="line 4: gate 'h' needs qubit arguments"):
        body("qreg q[1];\nh;")
    with pytest.raises(QasmError, match="line 4: missing '\\)'"):
        body("qreg q[1];\nrx(0.1 q[0];")
    with pytest.raises(QasmError, match="line 4: cannot parse statement '1 q'"):
        body("qreg q[1];\n1 q;")


def test_definition_of_a_supported_gate_is_skipped_like_qibo_does():
    text = (
        HEADER
        + "gate gpi2(phi) q {u3(pi/2, phi - pi/2, pi/2 - phi) q;}\nqreg q[1];\ngpi2(0.25) q[0];"
    )
    assert parse_qasm(text).ops == (Op("GPI2", (0,), (0.25,)),)


def test_program_pickles_and_is_immutable():
    program = body("qreg q[2];\ncreg c[1];\nrx(0.5) q[1];\nmeasure q[1] -> c[0];")
    assert pickle.loads(pickle.dumps(program)) == program
    with pytest.raises(AttributeError):
        program.nqubits = 3  # type: ignore[misc]


def test_parsing_never_imports_qibo():
    code = (
        "import sys\n"
        "from qibo_client.server.circuits.qasm_parser import parse_qasm\n"
        "parse_qasm('qreg q[2]; creg c[2]; h q[0]; rx(pi/2) q[1]; measure q -> c;')\n"
        "from qibo_client.server.circuits.raw_circuit import program_from_raw\n"
        "program_from_raw({'nqubits': 1, 'queue': []})\n"
        "print(sorted(m for m in sys.modules if m == 'qibo' or m.startswith('qibo.')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


# --- parameter expressions ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.1", 0.1),
        ("-.5e-3", -0.0005),
        ("(1+2)*0.1", (1 + 2) * 0.1),
        ("pi/2", math.pi / 2),
        ("-pi", -math.pi),
        ("2*(pi - 1)/3", 2 * (math.pi - 1) / 3),
        ("2^3^2", 2.0**9),
        ("2**3", 8.0),
        ("-2^2", -4.0),
        ("--1", 1.0),
        ("+1", 1.0),
        ("sin(pi/2) + cos(0) + tan(0)", 2.0),
        ("exp(1) * ln(exp(2))", 2 * math.e),
        ("sqrt(16) - asin(1) + acos(1) + atan(0)", 4 - math.pi / 2),
        ("1 - 2 - 3", -4.0),
        ("8 / 2 / 2", 2.0),
    ],
)
def test_expression_values(text, expected):
    (value,) = eval_params(text)
    assert value == pytest.approx(expected, abs=1e-12)


def test_parenthesised_parameter_in_a_gate():
    assert body("qreg q[1];\nrx((1+2)*0.1) q[0];").ops[0].params[0] == pytest.approx(0.3, abs=1e-15)


def test_parameter_lists():
    assert eval_params("0.1, pi/2, -(3)") == pytest.approx((0.1, math.pi / 2, -3.0))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1/0", "division by zero"),
        ("1e400", "not a finite number"),
        ("10^400", "cannot evaluate"),
        ("(-8)^(1/3)", "cannot evaluate"),
        ("ln(0-1)", "cannot evaluate"),
        ("__import__", "unknown name '__import__'"),
        ("theta", "unknown name 'theta'"),
        ("nan", "unknown name 'nan'"),
        ("inf", "unknown name 'inf'"),
        ("1 +", "unexpected 'end of parameters'"),
        ("(1", "expected ')'"),
        ("1)", "unexpected ')'"),
        ("sin 1", "expected '('"),
        ("1; 2", "unexpected character ';'"),
        ("1_000", "unexpected '_000'"),
        ("(" * 60 + "1" + ")" * 60, "nested deeper than 50"),
        ("-" * 60 + "1", "nested deeper than 50"),
        ("2^" * 60 + "1", "nested deeper than 50"),
        ("1+" * 600 + "1", "longer than 1000"),
    ],
)
def test_bad_expressions(text, message):
    with pytest.raises(QasmError, match=message.replace("(", r"\(").replace(")", r"\)")):
        eval_params(text)


# --- errors, with line and token ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("qreg q[3];\nfoo q[0];", "line 4: unknown gate 'foo'; supported gates are h, x, "),
        ("qreg q[3];\nh q[5];", r"line 4: qubit q\[5\] out of range for qreg q\[3\]"),
        ("qreg q[3];\nh r[0];", "line 4: 'r' is not a declared qreg"),
        ("qreg q[3];\ncreg c[1];\nh c[0];", "line 5: 'c' is a creg, not a qreg"),
        ("qreg q[3];\ncx q[0];", r"line 4: gate 'cx' acts on 2 qubit\(s\), got 1"),
        ("qreg q[3];\nh q[0], q[1];", r"line 4: gate 'h' acts on 1 qubit\(s\), got 2"),
        ("qreg q[3];\nrx q[0];", r"line 4: gate 'rx' takes \(theta\), got 0"),
        ("qreg q[3];\nu2(1) q[0];", r"line 4: gate 'u2' takes \(phi, lam\), got 1"),
        ("qreg q[3];\nh(0.1) q[0];", "line 4: gate 'h' takes no parameters, got 1"),
        ("qreg q[3];\nrx() q[0];", "line 4: empty parameter list"),
        ("qreg q[3];\nrx(foo) q[0];", "line 4: gate 'rx': unknown name 'foo'"),
        (
            "qreg q[3];\ncx q[1], q[1];",
            r"line 4: gate 'cx' uses the same qubit twice \(q\[1\], q\[1\]\)",
        ),
        ("qreg q[2];\nqreg r[3];\ncx q, r;", "line 5: gate 'cx' applied to registers of different"),
        ("qreg q[3];\nh q[0]\nx q[1];", "line 4: bad qubit argument .*missing ';'"),
        ("qreg q[3];\nh q[0];\nx q[1]", "line 5: missing ';' after 'x q\\[1\\]'"),
        ("qreg q[3];\nh q[0]; é", "line 4: non-ASCII character 'é'"),
        ("qreg q[2];\nqreg q[1];", "line 4: register 'q' is declared twice"),
        ("qreg q[0];", "line 3: register q has size 0"),
        ("qreg q;", "line 3: bad register declaration"),
        (f"qreg q[{MAX_QUBITS}];\nqreg r[1];", f"at most {MAX_QUBITS} are supported"),
        ("creg c[1];", "no qreg declared"),
        ("qreg q[2];\ncreg c[2];\nmeasure q[0] -> d[0];", "line 5: 'd' is not a declared creg"),
        ("qreg q[2];\ncreg c[2];\nmeasure q[0] -> c[2];", r"line 5: bit c\[2\] out of range"),
        ("qreg q[2];\ncreg c[1];\nmeasure q -> c;", "line 5: 'measure q -> c' needs a whole qreg"),
        ("qreg q[2];\ncreg c[2];\nmeasure q -> c[0];", "line 5: cannot measure a whole qreg"),
        ("qreg q[2];\ncreg c[2];\nmeasure q[0] c[0];", "line 5: bad measurement"),
        (
            "qreg q[2];\ncreg c[2];\nmeasure q[0] -> c[0];\nmeasure q[0] -> c[1];",
            r"line 6: qubit q\[0\] is measured twice \(first on line 5\)",
        ),
        (
            "qreg q[2];\ncreg c[2];\nmeasure q[0] -> c[0];\nmeasure q[1] -> c[0];",
            r"line 6: bit c\[0\] is written twice",
        ),
        (
            "qreg q[2];\ncreg c[2];\nmeasure q[0] -> c[0];\nh q[0];",
            "line 6: gate 'h' acts on q.0. after it was measured .line 5.; mid-circuit",
        ),
        ("qreg q[1];\nreset q[0];", "line 4: reset is not supported"),
        ("qreg q[1];\ncreg c[1];\nif(c==1) x q[0];", "line 5: classically controlled"),
        ("opaque foo q;\nqreg q[1];", "line 3: opaque gates are not supported"),
        ("gate foo(a) q { rx(a) q; }\nqreg q[1];", "line 3: custom gate definitions are not"),
        ("qreg q[1];\nOPENQASM 2.0;", "line 4: 'OPENQASM 2.0;' must be the first statement"),
    ],
)
def test_errors_name_line_and_token(text, message):
    with pytest.raises(QasmError, match=message):
        body(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty program"),
        ("   \n// only a comment\n", "empty program"),
        ("OPENQASM 3.0;\nqubit[2] q;", "line 1: only 'OPENQASM 2.0' is supported"),
        ('OPENQASM 2.0;\ninclude "stdgates.inc";', "line 2: only 'include \"qelib1.inc\";'"),
    ],
)
def test_errors_in_the_header(text, message):
    with pytest.raises(QasmError, match=message):
        parse_qasm(text)


def test_not_text_is_refused():
    with pytest.raises(QasmError, match="expected OpenQASM text, got dict"):
        parse_qasm({"nqubits": 1})  # type: ignore[arg-type]


# --- hostile input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "qreg q[1];\nrx(" + "(" * 100_000 + "1" + ")" * 100_000 + ") q[0];",
        "qreg q[1];\nrx(" + "-" * 100_000 + "1) q[0];",
        "qreg q[1];\nrx(" + "9" * 100_000 + ") q[0];",
        "qreg q[1];\nrx(__import__('os').system('true')) q[0];",
        "qreg q[1];\nrx(().__class__.__base__) q[0];",
        "qreg q[" + "9" * 5000 + "];",
        "qreg q[1];\nh q[" + "9" * 5000 + "];",
        "qreg q[1];\nh " + "q[0]," * 50_000 + "q[0];",
        "qreg q[1];\n" + "h" * 1_000_000 + " q[0];",
        "qreg q[1];\n" + "{" * 10_000,
        "qreg q[1]\x00;",
        # shapes that made earlier regular expressions backtrack quadratically
        "qreg q[1];" + "\n" * 200_000 + "gate",
        "gate a\n" * 30_000,
        "qreg q[1];" + ("measure " + " " * 3900 + "x;") * 50,
        "qreg q[1];" + ("h q" + " " * 3900 + "x;") * 50,
        "qreg q[1];" + ("rx(" + "1" * 990 + "x) q[0];") * 50,
        "qreg q[1];" + ("rx(" + "()" * 1900 + ") (;") * 50,
        "qreg q[1];\nh q[0];\n" * 3 + "\x1b[31m;",
    ],
)
def test_hostile_input_gives_qasm_error(text):
    with pytest.raises(QasmError):
        parse_qasm(HEADER + text)


def _parse_or_error(text: str) -> Program | QasmError:
    """The program, or the QasmError; any other exception escapes and fails the test."""
    try:
        return parse_qasm(text)
    except QasmError as error:
        return error


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_fuzz_any_text_parses_or_raises_qasm_error(text):
    outcome = _parse_or_error(text)
    assert isinstance(outcome, Program) or str(outcome).strip()


_PIECES = [
    "OPENQASM 2.0",
    'include "qelib1.inc"',
    "qreg q[3]",
    "qreg r[2]",
    "creg c[3]",
    "h",
    "cx",
    "rx",
    "u3",
    "measure",
    "barrier",
    "gate",
    "->",
    "q",
    "r",
    "c",
    "q[0]",
    "q[2]",
    "r[1]",
    "c[1]",
    "(",
    ")",
    "pi",
    "sin",
    "0.5",
    "-",
    "^",
    "*",
    "/",
    ",",
    ";",
    "\n",
    " ",
    "{",
    "}",
    "//",
]


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_PIECES), max_size=60))
def test_fuzz_qasm_like_tokens_parse_or_raise_qasm_error(pieces):
    outcome = _parse_or_error(" ".join(pieces))
    if isinstance(outcome, Program):
        assert all(0 <= q < outcome.nqubits for op in outcome.ops for q in op.qubits)
        assert all(math.isfinite(p) for op in outcome.ops for p in op.params)
    else:
        assert str(outcome).strip()
