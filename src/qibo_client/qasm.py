"""Circuit -> OpenQASM 2.0 for the wire, refusing what QASM would silently change.

Placeholder interface, filled in by the backend work: ``to_qasm(circuit) -> str`` raising
``UnsupportedCircuitError``.
"""

from __future__ import annotations

from typing import Any


def to_qasm(circuit: Any) -> str:
    """Return the OpenQASM 2.0 text of ``circuit`` (a QASM string passes through)."""
    if isinstance(circuit, str):
        return circuit
    return str(circuit.to_qasm())
