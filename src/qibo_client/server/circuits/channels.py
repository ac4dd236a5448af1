"""Noise channels from untrusted raw JSON: an allow-list, validated parameters, qibo objects.

Every channel qibo 0.3.6's ``NoiseModel`` produces is accepted, plus the generic Kraus and unitary
channels. qibo's own ``gate.raw`` keeps only a few named keyword arguments, which loses most
channels' parameters, and holds NumPy arrays and gate objects that JSON cannot write; so a client
sends each channel's *own* ``init_args`` and ``init_kwargs`` (unfiltered), with every NumPy
array written as in :mod:`.matrices` and every gate object (the operators of Kraus channels) as
that gate's raw entry. What the server reads, by class:

- ``PauliNoiseChannel``: ``init_args`` the qubits, ``init_kwargs`` ``{pauli string: p}``;
- ``DepolarizingChannel``: ``init_args`` ``[qubits]``, ``init_kwargs`` ``{"lam": x}``;
- ``ThermalRelaxationChannel``: ``init_args`` ``[q, t1, t2, time]``, ``init_kwargs``
  ``{"excited_population": x}`` (the derived keys qibo adds are recomputed, not read);
- ``AmplitudeDampingChannel``, ``PhaseDampingChannel``: ``_target_qubits`` ``[q]``,
  ``init_kwargs`` ``{"gamma": x}``; ``ResetChannel``: the same with ``{"p_0": x, "p_1": y}``
  (their ``init_args``, qibo's own Kraus operators, are not read);
- ``KrausChannel``, ``ReadoutErrorChannel``: ``init_args`` ``[[operator, ...]]``;
- ``UnitaryChannel``: ``init_args`` ``[[p, ...], [operator, ...]]``.

An operator is ``{"_class": "Unitary", "init_args": [matrix, q, ...], ...}``. Where qibo checks a
parameter, the same rule holds here, so that nothing accepted fails later in a worker:
probabilities in [0, 1] and summing to at most 1, times positive with ``t2 <= 2 t1``, Kraus sets
trace preserving and unitary channels' operators unitary, within :data:`.matrices.TOLERANCE`.
Sizes are bounded (qibo builds one gate per Pauli term, 4**n - 1 of them for a depolarizing
channel on n qubits).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from qibo_client.server.circuits.matrices import (
    MAX_MATRIX_QUBITS,
    Matrix,
    check_trace_preserving,
    check_unitary,
    read_matrix,
)


@dataclass(frozen=True, slots=True)
class KrausOperator:
    """One operator of a Kraus or unitary channel: its qubits, its matrix, its probability.

    ``probability`` is 1 for a Kraus channel's operators (the weight is in the matrix).
    """

    qubits: tuple[int, ...]
    matrix: Matrix
    probability: float = 1.0


@dataclass(frozen=True, slots=True)
class Channel:
    """One noise channel, by qibo class name, with validated parameters (:func:`read_channel`).

    ``qubits`` are all the qubits it acts on; ``params`` the class's numbers in constructor order
    (``lam``; ``t1, t2, time, excited_population``; ``gamma``; ``p_0, p_1``); ``paulis`` the
    ``(pauli string, probability)`` pairs of a ``PauliNoiseChannel``; ``operators`` those of a
    ``KrausChannel``, ``UnitaryChannel`` or ``ReadoutErrorChannel``.
    """

    name: str
    qubits: tuple[int, ...]
    params: tuple[float, ...] = ()
    paulis: tuple[tuple[str, float], ...] = ()
    operators: tuple[KrausOperator, ...] = ()

    @property
    def all_qubits(self) -> tuple[int, ...]:
        return self.qubits


#: Widest depolarizing channel (qibo builds 4**n - 1 Pauli gates for it).
MAX_DEPOLARIZING_QUBITS = 3
#: Most terms in a Pauli or Kraus channel.
MAX_TERMS = 64
#: Slack on "probabilities sum to at most 1" (qibo's PRECISION_TOL is 1e-8).
_SUM_SLACK = 1e-8

CHANNELS = frozenset(
    {
        "PauliNoiseChannel",
        "DepolarizingChannel",
        "ThermalRelaxationChannel",
        "AmplitudeDampingChannel",
        "PhaseDampingChannel",
        "ResetChannel",
        "ReadoutErrorChannel",
        "KrausChannel",
        "UnitaryChannel",
    }
)


class ChannelError(ValueError):
    """A channel entry that is malformed or whose parameters qibo would refuse."""


def _number(value: Any, what: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            number = math.nan
        if math.isfinite(number):
            return number
    raise ChannelError(f"{what} must be a finite number, got {value!r:.40}")


def _probability(value: Any, what: str) -> float:
    p = _number(value, what)
    if not 0.0 <= p <= 1.0:
        raise ChannelError(f"{what} must be a probability in [0, 1], got {p}")
    return p


def _total(probabilities: list[float], what: str) -> None:
    total = math.fsum(probabilities)
    if total > 1.0 + _SUM_SLACK:
        raise ChannelError(f"{what} sum to {total:.6g}; at most 1 is allowed")


def _kwargs(entry: dict[str, Any]) -> dict[str, Any]:
    kwargs = entry.get("init_kwargs", {})
    if not isinstance(kwargs, dict):
        raise ChannelError("init_kwargs must be an object")
    return kwargs


def _args(entry: dict[str, Any]) -> list[Any]:
    args = entry.get("init_args")
    if not isinstance(args, list):
        raise ChannelError("init_args must be a list")
    return args


# mccabe over 10 on purpose: an allow-list, one branch per qibo channel class
def read_channel(name: str, entry: dict[str, Any], qubits: Any) -> Channel:  # noqa: C901
    """The :class:`~.program.Channel` of a raw entry whose ``_class`` is ``name`` (in CHANNELS).

    ``qubits(value, field)`` checks a list of qubit indices against the circuit (the reader's).
    Raises :class:`ChannelError` (or the reader's error) saying what is wrong.
    """
    controls = entry.get("_control_qubits")
    if controls:
        raise ChannelError("a channel cannot be controlled (_control_qubits must be empty)")
    kwargs = _kwargs(entry)
    if name == "PauliNoiseChannel":
        targets = qubits(_args(entry))
        if not kwargs or len(kwargs) > MAX_TERMS:
            raise ChannelError(f"init_kwargs must map 1 to {MAX_TERMS} Pauli strings to p")
        paulis = []
        for pauli, p in kwargs.items():
            if len(pauli) != len(targets) or set(pauli) - set("IXYZ"):
                raise ChannelError(
                    f"Pauli string {pauli!r:.20} must be {len(targets)} letters of I, X, Y, Z"
                )
            paulis.append((pauli, _probability(p, f"probability of {pauli}")))
        _total([p for _, p in paulis], "the Pauli probabilities")
        return Channel(name, targets, paulis=tuple(paulis))
    if name == "DepolarizingChannel":
        args = _args(entry)
        if len(args) != 1:
            raise ChannelError("init_args must be [qubits]")
        targets = qubits(args[0] if isinstance(args[0], list) else [args[0]])
        if len(targets) > MAX_DEPOLARIZING_QUBITS:
            raise ChannelError(
                f"acts on {len(targets)} qubits; at most {MAX_DEPOLARIZING_QUBITS} are supported"
            )
        lam = _number(kwargs.get("lam"), "lam")
        top = 4 ** len(targets) / (4 ** len(targets) - 1)
        if not 0.0 <= lam <= top:
            raise ChannelError(f"lam must be in [0, {top:.6g}], got {lam}")
        return Channel(name, targets, params=(lam,))
    if name == "ThermalRelaxationChannel":
        args = _args(entry)
        if len(args) != 4:
            raise ChannelError("init_args must be [qubit, t1, t2, time]")
        (target,) = qubits(args[:1])
        t1, t2, time = (_number(v, w) for v, w in zip(args[1:], ("t1", "t2", "time"), strict=True))
        excited = _probability(kwargs.get("excited_population", 0.0), "excited_population")
        if not (t1 > 0 and t2 > 0):
            raise ChannelError(f"t1 and t2 must be positive, got t1={t1}, t2={t2}")
        if t2 > 2 * t1:
            raise ChannelError(f"t2 must be at most 2 * t1, got t1={t1}, t2={t2}")
        if time < 0:
            raise ChannelError(f"time must be >= 0, got {time}")
        return Channel(name, (target,), params=(t1, t2, time, excited))
    if name in ("AmplitudeDampingChannel", "PhaseDampingChannel"):
        targets = qubits(entry.get("_target_qubits"), "_target_qubits")
        if len(targets) != 1:
            raise ChannelError("acts on exactly one qubit (_target_qubits)")
        return Channel(name, targets, params=(_probability(kwargs.get("gamma"), "gamma"),))
    if name == "ResetChannel":
        targets = qubits(entry.get("_target_qubits"), "_target_qubits")
        if len(targets) != 1:
            raise ChannelError("acts on exactly one qubit (_target_qubits)")
        p0 = _probability(kwargs.get("p_0"), "p_0")
        p1 = _probability(kwargs.get("p_1"), "p_1")
        _total([p0, p1], "p_0 and p_1")
        return Channel(name, targets, params=(p0, p1))
    return _operator_channel(name, _args(entry), qubits)


# mccabe over 10 on purpose: qibo's own checks of a Kraus or unitary set, in its order
def _operator_channel(name: str, args: list[Any], qubits: Any) -> Channel:  # noqa: C901
    """KrausChannel, ReadoutErrorChannel (init_args [ops]) or UnitaryChannel ([probs, ops])."""
    unitary = name == "UnitaryChannel"
    if len(args) != (2 if unitary else 1) or not isinstance(args[-1], list):
        shape = "[[p, ...], [operator, ...]]" if unitary else "[[operator, ...]]"
        raise ChannelError(f"init_args must be {shape}")
    entries = args[-1]
    if not 1 <= len(entries) <= MAX_TERMS:
        raise ChannelError(f"a channel takes 1 to {MAX_TERMS} operators, got {len(entries)}")
    probabilities = [1.0] * len(entries)
    if unitary:
        if not isinstance(args[0], list) or len(args[0]) != len(entries):
            raise ChannelError("UnitaryChannel needs one probability per operator")
        probabilities = [_probability(p, "probability") for p in args[0]]
        _total(probabilities, "the UnitaryChannel probabilities")
    operators = []
    for index, (op, p) in enumerate(zip(entries, probabilities, strict=True)):
        what = f"operator {index}"
        if not isinstance(op, dict) or op.get("_class") != "Unitary":
            raise ChannelError(f"{what} must be a Unitary entry (a matrix and its qubits)")
        op_args = op.get("init_args")
        if not isinstance(op_args, list) or len(op_args) < 2:
            raise ChannelError(f"{what}: init_args must be [matrix, qubit, ...]")
        op_qubits = qubits(op_args[1:])
        if len(op_qubits) > MAX_MATRIX_QUBITS:
            raise ChannelError(f"{what} acts on more than {MAX_MATRIX_QUBITS} qubits")
        matrix = read_matrix(op_args[0], len(op_qubits), what)
        if unitary:
            check_unitary(matrix, what)
        operators.append(KrausOperator(op_qubits, matrix, p))
    if not unitary:
        check_trace_preserving([(op.qubits, op.matrix) for op in operators])
    targets = tuple(sorted({q for op in operators for q in op.qubits}))
    return Channel(name, targets, operators=tuple(operators))


def build_channel(channel: Channel, gates: Any) -> Any:
    """The qibo channel gate for a validated :class:`~.program.Channel` (worker side)."""
    import numpy as np

    name, qubits, params = channel.name, channel.qubits, channel.params
    if name == "PauliNoiseChannel":
        return gates.PauliNoiseChannel(qubits, list(channel.paulis))
    if name == "DepolarizingChannel":
        return gates.DepolarizingChannel(qubits, params[0])
    if name == "ThermalRelaxationChannel":
        return gates.ThermalRelaxationChannel(qubits[0], list(params))
    if name == "AmplitudeDampingChannel":
        return gates.AmplitudeDampingChannel(qubits[0], params[0])
    if name == "PhaseDampingChannel":
        return gates.PhaseDampingChannel(qubits[0], params[0])
    if name == "ResetChannel":
        return gates.ResetChannel(qubits[0], list(params))
    targets = [op.qubits for op in channel.operators]
    matrices = [np.array(op.matrix, dtype=complex) for op in channel.operators]
    if name == "UnitaryChannel":
        probabilities = [op.probability for op in channel.operators]
        return gates.UnitaryChannel(targets, list(zip(probabilities, matrices, strict=True)))
    return gates.KrausChannel(targets, matrices)  # KrausChannel, ReadoutErrorChannel


__all__ = [
    "CHANNELS",
    "MAX_DEPOLARIZING_QUBITS",
    "MAX_TERMS",
    "ChannelError",
    "build_channel",
    "read_channel",
]
