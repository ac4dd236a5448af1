"""Server counts -> a qibo ``MeasurementOutcomes`` bound to the circuit's own measurement gates.

The cluster answers with exact counts (``{"bitstring": count}``, bits in measurement order).
qibo's stock ``MeasurementOutcomes`` cannot hold those faithfully: built from probabilities it
re-samples, and ``from_frequencies`` collapses every register into one unnamed gate. This
subclass keeps the counts as counts:

- ``frequencies()`` in all its forms (binary, decimal, per register) returns the server's exact
  counts;
- ``probabilities(qubits)`` is counts / nshots, marginalised onto the asked qubits in the asked
  order, like a native result;
- ``samples()`` is built only when asked, as the counted outcomes repeated and shuffled with
  NumPy's global RNG (so ``np.random.seed`` makes it reproducible and the order carries no
  meaning), then registered on the measurement gates as qibo does.

Internally the distinct outcomes are one ``uint8`` bit matrix (outcomes x measured bits) plus a
count per outcome: a 20-qubit, 1,000,000-shot result costs a few MB beyond the counts, not an
nshots x 20 array, until someone asks for samples.

Each new result resets the results cached on the gates first: that is what keeps a re-run after
``set_parameters`` from serving stale samples (qibo's ``has_samples()`` trap).
"""

from __future__ import annotations

import collections
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from qibo.result import MeasurementOutcomes

from qibo_client.errors import MalformedResponseError, UnsupportedCircuitError

STATE_HINT = (
    "The remote cluster returns measurement counts, not the state vector. Use the counts "
    "(result.frequencies(), result.probabilities(qubits)) or ask for expectation values with "
    "shots: hamiltonian.expectation(circuit, nshots=1000)."
)


class RemoteMeasurementOutcomes(MeasurementOutcomes):
    """Exact counts from the cluster, read through qibo's ``MeasurementOutcomes`` interface."""

    _samples: Any

    def __init__(
        self,
        measurements: Sequence[Any],
        counts: Mapping[str, int],
        backend: Any,
        nqubits: int | None = None,
    ) -> None:
        nbits = sum(len(gate.target_qubits) for gate in measurements)
        self._bits, self._counts = _to_arrays(counts, nbits)
        super().__init__(
            list(measurements), backend=backend, nshots=int(self._counts.sum()), nqubits=nqubits
        )
        self._positions = _positions(self.measurement_gate.target_qubits, measurements)
        # Per-gate counts are registered now (cheap: one pass over the distinct outcomes), so
        # that the MeasurementResult returned by ``circuit.add(gates.M(...))`` answers too.
        self._register_counts = [self._marginal(pos) for pos in self._positions]
        self._frequencies = (
            self._register_counts[0] if len(measurements) == 1 else self._marginal(range(nbits))
        )
        for gate, frequencies in zip(measurements, self._register_counts, strict=True):
            gate.result.reset()
            gate.result.register_frequencies(frequencies)

    # -- counts ------------------------------------------------------------------------------

    def _marginal(self, positions: Sequence[int]) -> collections.Counter[int]:
        """Counts of the outcomes restricted to the measured-bit ``positions`` (decimal keys)."""
        values = _decimal(self._bits[:, list(positions)])
        unique, inverse = np.unique(values, return_inverse=True)
        totals = np.bincount(inverse.ravel(), weights=self._counts, minlength=len(unique))
        return collections.Counter(
            dict(zip(unique.tolist(), totals.astype(np.int64).tolist(), strict=True))
        )

    def frequencies(self, binary: bool = True, registers: bool = False) -> Any:
        """The server's exact counts, keyed like qibo's own ``frequencies``."""
        if registers:
            return {
                gate.register_name: _keyed(counts, len(gate.target_qubits), binary)
                for gate, counts in zip(self.measurements, self._register_counts, strict=True)
            }
        return _keyed(self._frequencies, self._bits.shape[1], binary)

    def probabilities(self, qubits: list[int] | set[int] | tuple[int, ...] | None = None) -> Any:
        """Counts / nshots over ``qubits`` (default: every qubit of the circuit), in that order.

        Only measured qubits have counts: asking for another one raises instead of inventing it.
        """
        measured = list(self.measurement_gate.target_qubits)
        if qubits is not None:
            asked = list(qubits)
        else:
            asked = list(range(self._nqubits)) if self._nqubits is not None else sorted(measured)
        missing = [q for q in asked if q not in measured]
        if missing:
            raise UnsupportedCircuitError(
                f"Qubits {missing} were not measured, so the cluster sent no counts for them. "
                f"Ask for measured qubits only, e.g. result.probabilities({sorted(measured)}), "
                "or add them to a measurement gate."
            )
        values = _decimal(self._bits[:, [measured.index(q) for q in asked]])
        totals = np.bincount(values, weights=self._counts, minlength=2 ** len(asked))
        return self.backend.cast(totals / max(self.nshots, 1), dtype=self.backend.float64)

    # -- samples, only on request ------------------------------------------------------------

    def has_samples(self) -> bool:
        return self._samples is not None

    def samples(self, binary: bool = True, registers: bool = False) -> Any:
        """Samples consistent with the exact counts, built (and shuffled) on first request."""
        samples: Any = self._samples
        if samples is None:
            order = np.repeat(np.arange(len(self._counts)), self._counts)
            self.backend.shuffle(order)
            samples = self.backend.cast(self._bits[order], dtype=self.backend.int64)
            for gate, positions in zip(self.measurements, self._positions, strict=True):
                gate.result.register_samples(samples[:, positions])
            self._samples = samples
        if registers:
            return {
                gate.register_name: self._as(samples[:, positions], binary)
                for gate, positions in zip(self.measurements, self._positions, strict=True)
            }
        return self._as(samples, binary)

    def _as(self, samples: Any, binary: bool) -> Any:
        if binary:
            return samples
        return self.backend.samples_to_decimal(samples, samples.shape[1])

    def state(self, numpy: bool = False) -> Any:
        """Refused: a remote run has counts, not a state vector."""
        raise UnsupportedCircuitError(STATE_HINT)

    def to_dict(self) -> dict[str, Any]:
        # qibo rebuilds a MeasurementOutcomes from samples exactly; from nothing it would resample.
        self.samples()
        return dict(super().to_dict(), dtype="MeasurementOutcomes")


def outcomes_for(circuit: Any, counts: Mapping[str, int]) -> RemoteMeasurementOutcomes:
    """A job's result, bound to ``circuit``'s measurement gates; without a circuit, to one gate
    over the measured bits (a job rebuilt from its pid), on a local numpy backend."""
    from qibo import gates
    from qibo.backends import NumpyBackend

    if circuit is not None and getattr(circuit, "measurements", None):
        measurements, nqubits = circuit.measurements, circuit.nqubits
    else:
        nbits = len(next(iter(counts), ""))
        measurements, nqubits = [gates.M(*range(nbits))], nbits
    return RemoteMeasurementOutcomes(measurements, counts, backend=NumpyBackend(), nqubits=nqubits)


def _to_arrays(counts: Mapping[str, int], nbits: int) -> tuple[np.ndarray, np.ndarray]:
    """``{bitstring: count}`` -> (uint8 bit matrix, int64 counts), validated."""
    keys = list(counts)
    weights = np.fromiter((int(counts[key]) for key in keys), dtype=np.int64, count=len(keys))
    if any(len(key) != nbits for key in keys):
        raise MalformedResponseError(
            f"The server sent outcomes that are not {nbits}-bit strings for a circuit that "
            f"measures {nbits} bits: {keys[:3]}"
        )
    try:
        text = "".join(keys).encode("ascii")
    except UnicodeEncodeError as error:
        raise MalformedResponseError("The server sent outcomes that are not bitstrings") from error
    bits = np.frombuffer(text, dtype=np.uint8).reshape(len(keys), nbits) - ord("0")
    if (bits.size and bits.max() > 1) or (weights < 0).any():
        raise MalformedResponseError("The server sent outcomes that are not bitstrings of counts")
    return bits, weights


def _decimal(bits: np.ndarray) -> np.ndarray:
    """Rows of bits (most significant first) -> int64 outcome numbers."""
    powers = np.left_shift(np.int64(1), np.arange(bits.shape[1] - 1, -1, -1, dtype=np.int64))
    return bits.astype(np.int64) @ powers


def _positions(order: Sequence[int], measurements: Sequence[Any]) -> list[list[int]]:
    """For each measurement gate, the columns of its qubits in the full outcome."""
    index = {qubit: column for column, qubit in enumerate(order)}
    return [[index[q] for q in gate.target_qubits] for gate in measurements]


def _keyed(counts: collections.Counter[int], nbits: int, binary: bool) -> collections.Counter[Any]:
    """A fresh Counter (callers may mutate it) keyed by bitstring or by integer."""
    if binary:
        return collections.Counter({f"{k:0{nbits}b}": v for k, v in counts.items()})
    return collections.Counter(counts)


__all__ = ["STATE_HINT", "RemoteMeasurementOutcomes", "outcomes_for"]
