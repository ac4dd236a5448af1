"""Circuit -> what goes on the wire: OpenQASM 2.0 text or qibo's ``circuit.raw`` object.

Which one is decided per server: QASM where the server lists the ``qasm`` extension in its
version answer, ``circuit.raw`` everywhere else (every official client release posts that, and it
is the only format TII's service is known to take). A user can force either
(``circuit_format="qasm"`` or ``"raw"``).

Both formats carry the same circuit, checked by the same refusals
(:func:`~qibo_client.qasm.check_exportable`: noise, collapsing measurements, no measurement...),
and in both a measurement basis travels as explicit gates followed by a Z measurement. For raw
this is not cosmetic: qibo 0.3.2-0.3.6's ``Circuit.from_dict`` applies an X or Y basis a second
time on top of the rotation ``raw`` already lists (``H``; ``M(0, basis=X)`` reads 50/50 instead
of all zeros), and a service that reads ``raw`` with ``from_dict`` would share that bug. With Z
measurements the result is right whichever way the server reads it.
"""

from __future__ import annotations

import json
from typing import Any

from qibo_client.config import UnsupportedCircuitError
from qibo_client.qasm import check_exportable, to_qasm, with_standard_bases
from qibo_client.settings import CIRCUIT_AUTO, CIRCUIT_QASM, CIRCUIT_RAW, check_circuit_format


def to_raw(circuit: Any) -> Any:
    """qibo's ``circuit.raw`` of ``circuit``, bases made explicit; a dict or QASM text passes.

    Raises :class:`UnsupportedCircuitError` for what cannot run remotely unchanged, or what
    cannot be written as JSON (a gate holding a matrix, say).
    """
    if isinstance(circuit, str | dict):
        return circuit
    check_exportable(circuit)
    raw = dict(with_standard_bases(circuit, z_measurements=True).raw)
    # A measurement's raw carries the samples of its last local run: never send those.
    raw["queue"] = [
        {**entry, "measurement_result": {"samples": None}}
        if isinstance(entry, dict) and "measurement_result" in entry
        else entry
        for entry in raw.get("queue", [])
    ]
    try:
        json.dumps(raw)
    except (TypeError, ValueError) as error:
        raise UnsupportedCircuitError(
            f"This circuit cannot be written as qibo's raw JSON: {error}. Decompose matrix "
            "gates (Unitary) into standard gates."
        ) from None
    return raw


def export_circuit(circuit: Any, circuit_format: str, server_format: str) -> Any:
    """``circuit`` in ``circuit_format``; ``"auto"`` means ``server_format`` (what it lists)."""
    chosen = check_circuit_format(circuit_format)
    if chosen == CIRCUIT_AUTO:
        chosen = server_format
    if chosen == CIRCUIT_QASM:
        return to_qasm(circuit)
    if chosen == CIRCUIT_RAW:
        return to_raw(circuit)
    raise UnsupportedCircuitError(f"unknown circuit format {chosen!r}")  # pragma: no cover


__all__ = ["check_exportable", "export_circuit", "to_raw"]
