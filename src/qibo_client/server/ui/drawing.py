"""A job's circuit as qibo draws it, for the job page.

The stored circuit (QASM text or qibo's ``circuit.raw``) is read by the server's own readers
(:func:`~qibo_client.server.api.checks.parse_circuit`, the same checks as at submission), built into
a qibo ``Circuit`` and drawn with ``Circuit.diagram``. That imports qibo into the HTTP process
(about a second, once, as the download archive does), so it runs in a thread, and only for circuits
small enough to read: above :data:`MAX_DRAWN_QUBITS` qubits or :data:`MAX_DRAWN_OPS` operations the
page says what the circuit is instead. The measurement registers follow, by name (qibo's drawing
does not show them), as text the page escapes. A template job says which template it ran (the
template itself is not drawn).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

logger = logging.getLogger("qibo_client.server.ui")

#: The widest circuit drawn (a wider one's text drawing does not fit a page).
MAX_DRAWN_QUBITS = 24
#: The longest circuit drawn, in operations (qibo wraps lines; beyond this it is a wall of text).
MAX_DRAWN_OPS = 400
#: Characters per line of the drawing before qibo wraps it.
LINE_WRAP = 100


def _summary(program: Any) -> str:
    return f"{program.nqubits} qubits, {len(program.ops)} operations, {program.nmeasured} measured"


def _registers(program: Any) -> str:
    """One line per measurement register: its name (as the user gave it) and its qubits."""
    return "\n".join(
        f"register {m.register}: qubits {', '.join(map(str, m.qubits))}"
        for m in program.measurements
    )


def picture(circuit_json: str) -> str:
    """The text drawing of a stored circuit, or a one-line summary of what it is."""
    try:
        stored = json.loads(circuit_json)
        if isinstance(stored, dict) and "template" in stored:
            return f"a run of template {stored['template']} with its own parameters"
        from qibo_client.server.api.checks import parse_circuit

        program = parse_circuit(stored)
    except (ValueError, TypeError) as err:
        return f"(cannot read the stored circuit: {err})"
    if program.nqubits > MAX_DRAWN_QUBITS or len(program.ops) > MAX_DRAWN_OPS:
        text = f"{_summary(program)}: too large to draw here"
    else:
        try:
            text = program.to_circuit().diagram(line_wrap=LINE_WRAP)
        except Exception:  # qibo cannot draw it (a gate without a symbol): say what it is
            logger.info("qibo could not draw a circuit", exc_info=True)
            text = f"{_summary(program)} (qibo cannot draw it)"
    return f"{text}\n\n{_registers(program)}"


async def draw(circuit_json: str) -> str:
    """:func:`picture` in a thread, off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(None, picture, circuit_json)


__all__ = ["LINE_WRAP", "MAX_DRAWN_OPS", "MAX_DRAWN_QUBITS", "draw", "picture"]
