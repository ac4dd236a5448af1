"""B6: the server's QASM parser against qibo's ``Circuit.from_qasm`` (target: at least 20x faster).

Two seeded random circuits (70 and 300 gates on 5 qubits, measured) are written by qibo's own
``to_qasm``. Three things are timed on the same text, median of ``timeit.repeat``:
``parse_qasm`` alone (what validates a submission), ``parse_qasm(...).to_circuit()`` (the same
product as ``from_qasm``: a qibo Circuit), and ``Circuit.from_qasm``. The target is judged on the
like-for-like pair, parse + ``to_circuit`` against ``from_qasm``.
"""

from __future__ import annotations

import timeit
from collections.abc import Callable
from typing import Any

import circuits
from common import CaseResult, Context, median, ms

CASE = "B6"
WHAT = "parsing"
TARGET = 20.0


def _median_call(function: Callable[[], Any], number: int, repeat: int) -> float:
    runs = timeit.repeat(function, number=number, repeat=repeat)
    return median([run / number for run in runs])


def run(ctx: Context) -> CaseResult:
    from qibo import Circuit

    from qibo_client.server.circuits.qasm_parser import parse_qasm

    repeat = 5 if ctx.quick else 15
    data: dict[str, dict[str, float]] = {}
    parts, worst = [], None
    for ngates, seed in ((70, 70), (300, 300)):
        text = circuits.mixed(ngates, 5, seed).to_qasm()
        # the same circuit both ways, or the comparison means nothing
        ours = parse_qasm(text).to_circuit()
        theirs = Circuit.from_qasm(text)
        assert ours.to_qasm() == theirs.to_qasm(), f"parsers disagree on the {ngates}-gate circuit"
        parse = _median_call(lambda text=text: parse_qasm(text), 20, repeat)
        build = _median_call(lambda text=text: parse_qasm(text).to_circuit(), 10, repeat)
        qibo = _median_call(lambda text=text: Circuit.from_qasm(text), 2, repeat)
        ratio_parse, ratio_build = qibo / parse, qibo / build
        data[f"{ngates}_gates"] = {
            "parse_qasm": parse,
            "parse_qasm_to_circuit": build,
            "qibo_from_qasm": qibo,
            "speedup_parse": ratio_parse,
            "speedup_parse_to_circuit": ratio_build,
        }
        parts.append(
            f"{ngates} gates: parse {ms(parse)}, +to_circuit {ms(build)}, from_qasm {ms(qibo)} "
            f"-> {ratio_build:.0f}x ({ratio_parse:.0f}x parse only)"
        )
        worst = ratio_build if worst is None else min(worst, ratio_build)
    assert worst is not None
    return CaseResult(
        CASE,
        WHAT,
        figure="; ".join(parts),
        target=">= 20x faster than Circuit.from_qasm",
        met=worst >= TARGET,
        data=data,
    )
