"""A safe, fast OpenQASM 2.0 parser: untrusted text in, a validated :class:`Program` out.

Why not qibo's own ``Circuit.from_qasm``? It rebuilds each gate argument as text and runs Python
``eval`` on it (so a job could run code on the server), it drops parentheses on the way
(``rx((1+2)*0.1)`` becomes 1.2), and it takes about 20 ms for a 70-gate circuit, which dominates a
small job. This module never imports qibo: statements are matched with precompiled regular
expressions, parameters are evaluated by a tiny bounded evaluator (:mod:`.qasm_expr`), and every
problem becomes a :class:`QasmError` naming the line and the token, which the server returns as the
``detail`` of a 400.

The accepted language is the subset qibo's ``to_qasm`` and other tools emit: ``OPENQASM 2.0;``,
``include "qelib1.inc";``, ``//`` comments, ``qreg``/``creg`` (several quantum registers are
flattened into one index space in declaration order, as qibo does), the qelib1 gates listed in
:data:`QASM_GATES` (with register broadcasting, ``h q;``), ``measure`` of a qubit or of a whole
register, and ``barrier`` (accepted and dropped: it changes nothing in a simulation). ``reset``,
``if``, ``opaque`` and custom ``gate`` definitions are refused; a ``gate`` definition whose name is
a supported gate (qibo's ``to_qasm(extended_compatibility=True)`` writes those for ``gpi`` and
``gpi2``) is skipped, and the standard gate is used, exactly as qibo does.

Measurements follow qibo's ``from_qasm``: one ``M`` gate per classical register, in the order in
which registers are first written, with the register's bits in index order. Bits that are never
written are left out (qibo would measure the qubit with the bit's index instead, which is a bug).
Measurements must be terminal: a gate on a qubit after it was measured is refused.
"""

from __future__ import annotations

import re

from qibo_client.server.circuits.program import (
    GATE_SPECS,
    MAX_OPS,
    MAX_QUBITS,
    Measurement,
    Op,
    Program,
)
from qibo_client.server.circuits.qasm_expr import QasmError, eval_params, show

#: OpenQASM gate name -> qibo gate class name. The lowercase names are qibo's ``qasm_label``s;
#: ``p``, ``u``, ``U`` and ``CX`` are the usual aliases (qibo maps the first three the same way),
#: and the class names themselves are accepted because qibo's parser accepts them too.
QASM_GATES: dict[str, str] = {
    **{name.lower(): name for name in GATE_SPECS if name not in {"CNOT", "TOFFOLI", "I"}},
    "cx": "CNOT",
    "CX": "CNOT",  # OpenQASM 2.0's built-in two-qubit primitive
    "ccx": "TOFFOLI",
    "id": "I",
    "p": "U1",
    "u": "U3",
    "U": "U3",
}
_ALIASES: dict[str, str] = {**{name: name for name in GATE_SPECS}, **QASM_GATES}

#: Longest statement and longest program accepted.
MAX_STATEMENT_CHARS = 4000
MAX_TEXT_CHARS = 10_000_000


_COMMENT = re.compile(r"//[^\n]*")
# Every pattern below is linear in its input: no two adjacent parts can match the same text.
_GATE_KEYWORD = re.compile(r"(?:(?<=[;}])|^)[ \t]*gate\b", re.MULTILINE)
_DEF_NAME = re.compile(r"gate\s+([A-Za-z_]\w*)")
_HEAD = re.compile(r"[A-Za-z_]\w*")
_ARG = re.compile(r"\s*([A-Za-z_]\w*)\s*(?:\[\s*(\d{1,9})\s*\]\s*)?\Z")
_REG = re.compile(r"([qc]reg)\s+([A-Za-z_]\w*)\s*\[\s*(\d{1,9})\s*\]\Z")
_VERSION = re.compile(r"OPENQASM\s+(\S+)\Z")
_INCLUDE = re.compile(r'include\s+"([^"]*)"\Z')
_REFUSED = {
    "reset": "reset is not supported",
    "if": "classically controlled operations ('if') are not supported",
    "opaque": "opaque gates are not supported",
    "gate": "custom gate definitions are not supported",
}


# --- statements ------------------------------------------------------------------------------


class _Parser:
    """One pass over the statements of one program; holds the registers seen so far."""

    def __init__(self) -> None:
        self.qregs: dict[str, tuple[int, int]] = {}  # name -> (offset, size)
        self.cregs: dict[str, list[int | None]] = {}  # name -> measured qubit per bit
        self.creg_order: list[str] = []  # registers in the order they are first written
        self.measured: dict[int, int] = {}  # qubit -> line of its measurement
        self.nqubits = 0
        self.ops: list[Op] = []
        self.seen_statement = False
        self.line = 0

    # helpers
    def fail(self, message: str) -> QasmError:
        return QasmError(f"line {self.line}: {message}")

    def qubit_name(self, qubit: int) -> str:
        for name, (offset, size) in self.qregs.items():
            if offset <= qubit < offset + size:
                return f"{name}[{qubit - offset}]"
        return f"qubit {qubit}"  # pragma: no cover - every qubit belongs to a register

    def qargs(self, text: str) -> list[list[int]]:
        """Resolve ``q[0], r`` to a list of qubit lists (a bare register is every qubit of it)."""
        result = []
        for piece in text.split(","):
            match = _ARG.match(piece)
            if match is None:
                hint = " (missing ';' at the end of a line?)" if "\n" in piece.strip() else ""
                raise self.fail(f"bad qubit argument {show(piece)}{hint}")
            name, index = match.groups()
            reg = self.qregs.get(name)
            if reg is None:
                what = "a creg, not a qreg" if name in self.cregs else "not a declared qreg"
                raise self.fail(f"{show(name)} is {what}")
            offset, size = reg
            if index is None:
                result.append(list(range(offset, offset + size)))
                continue
            i = int(index)
            if i >= size:
                raise self.fail(f"qubit {name}[{i}] out of range for qreg {name}[{size}]")
            result.append([offset + i])
        return result

    # statements
    def statement(self, stmt: str) -> None:
        head_match = _HEAD.match(stmt)
        head = head_match.group() if head_match else ""
        if head == "OPENQASM":
            self.version(stmt)
        elif head == "include":
            self.include(stmt)
        elif head in ("qreg", "creg"):
            self.register(stmt)
        elif head == "measure":
            self.measure(stmt)
        elif head == "barrier":
            self.qargs(stmt[len("barrier") :])  # checked, then dropped
        elif head in _REFUSED:
            raise self.fail(f"{_REFUSED[head]} ({show(stmt)})")
        else:
            self.gate(stmt)
        self.seen_statement = True

    def version(self, stmt: str) -> None:
        match = _VERSION.match(stmt)
        if match is None or match.group(1) not in ("2.0", "2"):
            raise self.fail(f"only 'OPENQASM 2.0' is supported, got {show(stmt)}")
        if self.seen_statement:
            raise self.fail("'OPENQASM 2.0;' must be the first statement")

    def include(self, stmt: str) -> None:
        match = _INCLUDE.match(stmt)
        if match is None or match.group(1) != "qelib1.inc":
            raise self.fail(f"only 'include \"qelib1.inc\";' is supported, got {show(stmt)}")

    def register(self, stmt: str) -> None:
        match = _REG.match(stmt)
        if match is None:
            raise self.fail(f"bad register declaration {show(stmt)}; expected e.g. 'qreg q[5];'")
        kind, name, size_text = match.groups()
        size = int(size_text)
        if name in self.qregs or name in self.cregs:
            raise self.fail(f"register {show(name)} is declared twice")
        if size == 0:
            raise self.fail(f"register {name} has size 0")
        if kind == "creg":
            if size > MAX_OPS:
                raise self.fail(f"creg {name}[{size}] is larger than {MAX_OPS} bits")
            self.cregs[name] = [None] * size
            return
        if self.nqubits + size > MAX_QUBITS:
            raise self.fail(
                f"qreg {name}[{size}] brings the circuit to {self.nqubits + size} qubits; "
                f"at most {MAX_QUBITS} are supported"
            )
        self.qregs[name] = (self.nqubits, size)
        self.nqubits += size

    # mccabe over 10 on purpose: the grammar of a measure statement, one branch per form
    def measure(self, stmt: str) -> None:  # noqa: C901
        qtext, arrow, ctext = stmt[len("measure") :].partition("->")
        if not arrow:
            raise self.fail(f"bad measurement {show(stmt)}; expected 'measure q[0] -> c[0];'")
        qmatch = _ARG.match(qtext)
        if qmatch is None:
            raise self.fail(f"measure takes one qubit or one qreg, got {show(qtext)}")
        (qubits,) = self.qargs(qtext)
        cmatch = _ARG.match(ctext)
        if cmatch is None:
            raise self.fail(f"bad classical target {show(ctext)}")
        cname, cindex = cmatch.groups()
        bits = self.cregs.get(cname)
        if bits is None:
            what = "a qreg, not a creg" if cname in self.qregs else "not a declared creg"
            raise self.fail(f"{show(cname)} is {what}")
        if cindex is None:
            if qmatch.group(2) is not None or len(qubits) != len(bits):
                raise self.fail(
                    f"'measure {qtext.strip()} -> {cname}' needs a whole qreg of the same size as "
                    f"creg {cname}[{len(bits)}]"
                )
            targets = list(range(len(bits)))
        else:
            if len(qubits) != 1:
                raise self.fail(f"cannot measure a whole qreg into one bit {cname}[{cindex}]")
            targets = [int(cindex)]
            if targets[0] >= len(bits):
                raise self.fail(f"bit {cname}[{cindex}] out of range for creg {cname}[{len(bits)}]")
        for qubit, bit in zip(qubits, targets, strict=True):
            first = self.measured.get(qubit)
            if first is not None:
                raise self.fail(
                    f"qubit {self.qubit_name(qubit)} is measured twice (first on line {first})"
                )
            if bits[bit] is not None:
                raise self.fail(f"bit {cname}[{bit}] is written twice")
            self.measured[qubit] = self.line
            bits[bit] = qubit
        if cname not in self.creg_order:
            self.creg_order.append(cname)

    # mccabe over 10 on purpose: the grammar of a gate statement, one branch per form
    def gate(self, stmt: str) -> None:  # noqa: C901
        head = _HEAD.match(stmt)
        if head is None:
            raise self.fail(f"cannot parse statement {show(stmt)}")
        label = head.group()
        rest = stmt[head.end() :].lstrip()
        params_text: str | None = None
        if rest.startswith("("):  # the arguments hold no parentheses: the last ')' closes
            close = rest.rfind(")")
            if close == -1:
                raise self.fail(f"missing ')' in {show(stmt)}")
            params_text, rest = rest[1:close], rest[close + 1 :]
        if not rest.strip():
            raise self.fail(f"gate {label!r} needs qubit arguments, e.g. '{label} q[0];'")
        name = _ALIASES.get(label)
        if name is None:
            raise self.fail(f"unknown gate {label!r}; supported gates are {', '.join(QASM_GATES)}")
        spec = GATE_SPECS[name]
        if params_text is None:
            params: tuple[float, ...] = ()
        elif not params_text.strip():
            raise self.fail(f"empty parameter list in {show(stmt)}")
        else:
            try:
                params = eval_params(params_text)
            except QasmError as error:
                raise self.fail(f"gate {label!r}: {error}") from None
        if len(params) != len(spec.params):
            wanted = f"({', '.join(spec.params)})" if spec.params else "no parameters"
            raise self.fail(f"gate {label!r} takes {wanted}, got {len(params)} parameter(s)")
        args = self.qargs(rest)
        if len(args) != spec.nqubits:
            raise self.fail(f"gate {label!r} acts on {spec.nqubits} qubit(s), got {len(args)}")
        if all(len(arg) == 1 for arg in args):
            self.add(label, Op(name, tuple(arg[0] for arg in args), params))
            return
        # Register broadcasting: ``cx q, r;`` is cx on q[i], r[i] for every i.
        sizes = {len(arg) for arg in args if len(arg) > 1}
        if len(sizes) > 1:
            raise self.fail(f"gate {label!r} applied to registers of different sizes")
        (size,) = sizes
        for i in range(size):
            qubits = tuple(arg[i] if len(arg) > 1 else arg[0] for arg in args)
            self.add(label, Op(name, qubits, params))

    def add(self, label: str, op: Op) -> None:
        qubits = op.qubits
        if len(qubits) > 1 and len(set(qubits)) != len(qubits):
            names = ", ".join(self.qubit_name(q) for q in qubits)
            raise self.fail(f"gate {label!r} uses the same qubit twice ({names})")
        if self.measured:
            for qubit in qubits:
                if qubit in self.measured:
                    raise self.fail(
                        f"gate {label!r} acts on {self.qubit_name(qubit)} after it was measured "
                        f"(line {self.measured[qubit]}); mid-circuit measurement is not supported"
                    )
        if len(self.ops) >= MAX_OPS:
            raise self.fail(f"more than {MAX_OPS} gates")
        self.ops.append(op)

    def program(self) -> Program:
        if not self.qregs:
            raise QasmError("no qreg declared; a program needs e.g. 'qreg q[2];'")
        measurements = []
        for name in self.creg_order:
            qubits = tuple(q for q in self.cregs[name] if q is not None)
            measurements.append(Measurement(name, qubits))
        return Program(self.nqubits, tuple(self.ops), tuple(measurements))


def _first_non_ascii(text: str) -> QasmError:
    index = next(i for i, ch in enumerate(text) if ord(ch) > 127)
    line = text.count("\n", 0, index) + 1
    return QasmError(f"line {line}: non-ASCII character {text[index]!r}; OpenQASM 2.0 is ASCII")


def _skip_known_definitions(text: str) -> str:
    """Blank out ``gate`` definitions of supported gates (keeping line breaks for line numbers).

    qibo's ``to_qasm(extended_compatibility=True)`` writes ``gate gpi(phi) q {...}``; qibo's own
    parser then uses its built-in gate and ignores the body, and so do we. The first definition
    that is malformed or names another gate stops the scan: the statement loop refuses it with its
    line number. Each search starts past the previous definition, so the scan is linear.
    """
    pieces = []
    pos = 0
    for match in _GATE_KEYWORD.finditer(text):
        start = match.end() - len("gate")
        if start < pos:
            continue
        opening = text.find("{", start)
        if opening == -1 or text.find(";", start, opening) != -1:
            break
        closing = text.find("}", opening)
        name = _DEF_NAME.match(text, start, opening)
        if closing == -1 or name is None or name.group(1) not in _ALIASES:
            break
        pieces.append(text[pos:start])
        pieces.append("\n" * text.count("\n", start, closing + 1))
        pos = closing + 1
    pieces.append(text[pos:])
    return "".join(pieces)


# mccabe over 10 on purpose: one branch per kind of top-level statement
def parse_qasm(text: str) -> Program:  # noqa: C901
    """Parse OpenQASM 2.0 text into a validated :class:`Program`; never imports qibo.

    Raises :class:`QasmError` with ``line N: what`` for anything that cannot be run as written.
    """
    if not isinstance(text, str):
        raise QasmError(f"expected OpenQASM text, got {type(text).__name__}")
    if len(text) > MAX_TEXT_CHARS:
        raise QasmError(f"program longer than {MAX_TEXT_CHARS} characters")
    if not text.isascii():
        raise _first_non_ascii(text)
    if "//" in text:
        text = _COMMENT.sub("", text)
    if "gate" in text:
        text = _skip_known_definitions(text)
    if not text.strip():
        raise QasmError("empty program; expected OpenQASM 2.0 text")
    parser = _Parser()
    chunks = text.split(";")
    line = 1
    for chunk in chunks[:-1]:
        stmt = chunk.strip()
        if stmt:
            start = len(chunk) - len(chunk.lstrip())
            parser.line = line + chunk.count("\n", 0, start)
            if len(stmt) > MAX_STATEMENT_CHARS:
                raise parser.fail(f"statement longer than {MAX_STATEMENT_CHARS} characters")
            parser.statement(stmt)
        line += chunk.count("\n")
    tail = chunks[-1]
    if tail.strip():
        start = len(tail) - len(tail.lstrip())
        parser.line = line + tail.count("\n", 0, start)
        raise parser.fail(f"missing ';' after {show(tail.strip())}")
    return parser.program()


__all__ = ["QASM_GATES", "QasmError", "eval_params", "parse_qasm"]
