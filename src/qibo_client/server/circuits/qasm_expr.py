"""Gate parameters of OpenQASM 2.0: a tiny, bounded arithmetic evaluator instead of ``eval``.

qibo's ``Circuit.from_qasm`` rebuilds each gate argument as text and runs Python ``eval`` on it, so
a job could run code on the server. Here a parameter list (``"pi/2, -(0.1+0.2)*2"``) is split into
tokens by one precompiled regular expression and evaluated by recursive descent over numbers,
``pi``, ``+ - * / ^ **``, parentheses and a few functions, with the length of the text and the
depth of nesting bounded, so no input can be slow or exhaust the stack. Plain numbers (what most
tools write) skip the evaluator. Every problem is a :class:`QasmError`; :mod:`.qasm_parser` adds
the line.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

#: Bounds that keep hostile input cheap: a parameter list's length and its nesting depth.
MAX_PARAM_CHARS = 1000
MAX_DEPTH = 50


class QasmError(ValueError):
    """The OpenQASM text cannot be run; the message says where (line) and what (token)."""


_NUMBER = re.compile(r"\s*[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?\s*\Z")
_TOKEN = re.compile(
    r"\s*(?:(?P<num>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)|(?P<name>[A-Za-z_]\w*)"
    r"|(?P<op>\*\*|[-+*/^(),]))"
)

_FUNCTIONS: dict[str, Callable[[float], float]] = {
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "exp": math.exp,
    "ln": math.log,
    "sqrt": math.sqrt,
    "asin": math.asin,
    "acos": math.acos,
    "atan": math.atan,
}


def show(token: str, limit: int = 40) -> str:
    """Quote a piece of input for an error message, cut short so messages stay readable."""
    token = " ".join(token.split())
    return repr(token if len(token) <= limit else token[:limit] + "...")


class _Expr:
    """Recursive-descent evaluator for gate parameters: a comma-separated list of expressions.

    Grammar (``^`` and ``**`` bind tighter than unary minus and are right-associative)::

        list  := expr ("," expr)*
        expr  := term (("+" | "-") term)*
        term  := unary (("*" | "/") unary)*
        unary := ("-" | "+") unary | power
        power := atom (("^" | "**") unary)?
        atom  := number | "pi" | func "(" expr ")" | "(" expr ")"

    Depth is bounded by :data:`MAX_DEPTH`, so no input can exhaust the stack.
    """

    __slots__ = ("depth", "kinds", "pos", "values")

    def __init__(self, text: str) -> None:
        kinds: list[str] = []
        values: list[str] = []
        pos, end = 0, len(text)
        while pos < end:
            match = _TOKEN.match(text, pos)
            if match is None:
                rest = text[pos:].strip()
                if not rest:
                    break
                raise QasmError(f"unexpected character {rest[0]!r} in parameters")
            kind = match.lastgroup
            assert kind is not None
            kinds.append(kind)
            values.append(match.group(kind))
            pos = match.end()
        kinds.append("end")
        values.append("end of parameters")
        self.kinds, self.values, self.pos, self.depth = kinds, values, 0, 0

    def parse_list(self) -> tuple[float, ...]:
        result = [self.expr()]
        while self.values[self.pos] == "," and self.kinds[self.pos] == "op":
            self.pos += 1
            result.append(self.expr())
        if self.kinds[self.pos] != "end":
            raise QasmError(f"unexpected {self.values[self.pos]!r} in parameters")
        return tuple(result)

    def _peek_op(self) -> str:
        return self.values[self.pos] if self.kinds[self.pos] == "op" else ""

    def _enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise QasmError(f"parameter expression nested deeper than {MAX_DEPTH} levels")

    def expr(self) -> float:
        self._enter()
        value = self.term()
        while (op := self._peek_op()) in ("+", "-"):
            self.pos += 1
            rhs = self.term()
            value = value + rhs if op == "+" else value - rhs
        self.depth -= 1
        return value

    def term(self) -> float:
        value = self.unary()
        while (op := self._peek_op()) in ("*", "/"):
            self.pos += 1
            rhs = self.unary()
            if op == "*":
                value *= rhs
            elif rhs == 0:
                raise QasmError("division by zero in parameters")
            else:
                value /= rhs
        return value

    def unary(self) -> float:
        op = self._peek_op()
        if op in ("-", "+"):
            self.pos += 1
            self._enter()
            value = self.unary()
            self.depth -= 1
            return -value if op == "-" else value
        return self.power()

    def power(self) -> float:
        base = self.atom()
        if self._peek_op() in ("^", "**"):
            self.pos += 1
            self._enter()
            exponent = self.unary()
            self.depth -= 1
            return math.pow(base, exponent)
        return base

    def atom(self) -> float:
        kind, value = self.kinds[self.pos], self.values[self.pos]
        self.pos += 1
        if kind == "num":
            return float(value)
        if kind == "name":
            if value == "pi":
                return math.pi
            function = _FUNCTIONS.get(value)
            if function is None:
                raise QasmError(
                    f"unknown name {show(value)} in parameters; "
                    f"use numbers, pi, + - * / ^ and {', '.join(_FUNCTIONS)}"
                )
            self._expect("(")
            argument = self.expr()
            self._expect(")")
            return function(argument)
        if kind == "op" and value == "(":
            inner = self.expr()
            self._expect(")")
            return inner
        raise QasmError(f"unexpected {value!r} in parameters")

    def _expect(self, op: str) -> None:
        if self.kinds[self.pos] != "op" or self.values[self.pos] != op:
            raise QasmError(f"expected {op!r} but found {self.values[self.pos]!r} in parameters")
        self.pos += 1


def eval_params(text: str) -> tuple[float, ...]:
    """Evaluate a gate's parameter list (``"pi/2, -0.1"``) to finite floats, without ``eval``.

    Raises :class:`QasmError` (without a line number) for anything else.
    """
    if len(text) > MAX_PARAM_CHARS:
        raise QasmError(f"parameter list longer than {MAX_PARAM_CHARS} characters")
    pieces = text.split(",")
    if all(_NUMBER.match(piece) for piece in pieces):  # the common case: plain numbers
        values = tuple(float(piece) for piece in pieces)
    else:
        try:
            values = _Expr(text).parse_list()
        except (ArithmeticError, ValueError) as error:
            if isinstance(error, QasmError):
                raise
            raise QasmError(f"cannot evaluate parameters {show(text)}: {error}") from None
    for value in values:
        if not math.isfinite(value):
            raise QasmError(f"parameter {show(text)} is not a finite number")
    return values


__all__ = ["MAX_DEPTH", "MAX_PARAM_CHARS", "QasmError", "eval_params", "show"]
