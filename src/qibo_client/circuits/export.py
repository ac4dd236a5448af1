"""Circuit -> what goes on the wire: OpenQASM 2.0 text or qibo's raw JSON object.

Which one is decided per server and per circuit: QASM where the server lists the ``qasm``
extension in its version answer *and* QASM says the circuit exactly
(:func:`~qibo_client.circuits.qasm.qasm_problem` finds nothing); qibo's raw JSON everywhere else.
Every official client release posts raw, it is the only format TII's service is known to take, and
it carries what QASM cannot: noise channels, density matrices, readout noise, collapsing
measurements, every qibo gate, ``controlled_by``, ``wire_names``. A user can force either
(``circuit_format="qasm"`` or ``"raw"``); forced QASM refuses what it cannot say rather than
change the circuit.

The raw object is qibo's ``circuit.raw`` completed by :mod:`qibo_client.circuits.raw` (matrices
and channel parameters written out, which qibo's own ``raw`` loses or cannot put in JSON). In both
formats a measurement basis travels as explicit gates followed by a Z measurement. For raw this is
not cosmetic: qibo 0.3.2-0.3.6's ``Circuit.from_dict`` applies an X or Y basis a second time on
top of the rotation ``raw`` already lists (``H``; ``M(0, basis=X)`` reads 50/50 instead of all
zeros), and a service that reads ``raw`` with ``from_dict`` would share that bug. With Z
measurements the result is right whichever way the server reads it.

Refused before anything is sent, whatever the format (:func:`~.raw_export.check_remote`): what no
server can run (no measurement, a callback, classical feedback). An initial state travels only
with raw, in the submission's ``initial_state`` field, and only to a server that lists that
extension (:func:`initial_state_fields`).
"""

from __future__ import annotations

import logging
from typing import Any

from qibo_client.circuits.qasm import qasm_problem, to_qasm
from qibo_client.circuits.raw import check_remote, circuit_raw, encode_state
from qibo_client.errors import UnsupportedCircuitError
from qibo_client.settings import CIRCUIT_AUTO, CIRCUIT_QASM, CIRCUIT_RAW, check_circuit_format

logger = logging.getLogger(__name__)


def to_raw(circuit: Any) -> Any:
    """The completed raw object of ``circuit``, bases made explicit; a dict or QASM text passes.

    Raises :class:`UnsupportedCircuitError` for what no server can run, or what cannot be
    written as JSON.
    """
    if isinstance(circuit, str | dict):
        return circuit
    check_remote(circuit)
    return circuit_raw(circuit)


def export_circuit(
    circuit: Any, circuit_format: str, server_format: str, *, raw: bool = False
) -> Any:
    """``circuit`` in ``circuit_format``; ``"auto"`` means ``server_format`` (what it lists).

    QASM text and raw dicts pass through unchanged. With ``"auto"``, a circuit that QASM cannot
    say exactly goes as raw even to a server that takes QASM (every server takes raw).
    ``raw=True`` asks for raw whatever the server lists (an initial state needs it).
    """
    chosen = check_circuit_format(circuit_format)
    if isinstance(circuit, str | dict):
        return circuit
    if raw:
        if chosen == CIRCUIT_QASM:
            raise UnsupportedCircuitError(
                "An initial state travels only with qibo's raw JSON, and circuit_format='qasm' "
                "was asked: use circuit_format='auto' or 'raw'."
            )
        return to_raw(circuit)
    if chosen == CIRCUIT_AUTO:
        chosen = server_format
        if chosen == CIRCUIT_QASM:
            check_remote(circuit)
            problem = qasm_problem(circuit)
            if problem is None:
                return to_qasm(circuit, checked=True)
            logger.debug("Circuit sent as qibo raw JSON: %s", problem)
            return circuit_raw(circuit)
    if chosen == CIRCUIT_QASM:
        return to_qasm(circuit)
    if chosen == CIRCUIT_RAW:
        return to_raw(circuit)
    raise UnsupportedCircuitError(f"unknown circuit format {chosen!r}")  # pragma: no cover


def initial_state_fields(circuit: Any, initial_state: Any, listed: bool | None) -> dict[str, Any]:
    """The submission's ``initial_state`` field for ``circuit``, or nothing without a state.

    ``listed`` says whether the server lists the ``initial_state`` extension: one that does not
    may ignore the field and start from |0...0>, so the state is refused rather than sent.
    """
    if initial_state is None:
        return {}
    state = encode_state(initial_state, circuit)
    if not listed:
        raise UnsupportedCircuitError(
            "This server does not list the initial_state extension, so it may ignore an "
            "initial state and start from |0...0>. Prepare the state with gates at the start "
            "of the circuit (preparation + circuit)."
        )
    return {"initial_state": state}


__all__ = ["export_circuit", "initial_state_fields", "to_raw"]
