"""Complex matrices and state vectors from untrusted JSON, checked before any simulator sees them.

qibo's ``circuit.raw`` holds NumPy arrays for ``Unitary`` gates, the Kraus operators of channels and
``GeneralizedfSim``'s block, which ``json.dumps`` cannot write. On the wire each is a list of rows
(a vector is a flat list) whose entries are numbers or ``[re, im]`` pairs::

    [[[0.0, 0.0], [1.0, 0.0]], [[1.0, 0.0], [0.0, 0.0]]]      # X, every entry a pair
    [[0, 1], [1, 0]]                                          # the same, real entries

A matrix is read into nested tuples of ``complex`` (plain, picklable, comparable data, as the rest
of :class:`~.program.Program`) after its shape and size are checked *before* any entry is read, so
a huge or ragged list costs nothing to refuse. The algebraic checks (unitary, trace preserving)
use NumPy, imported on first use: QASM-only servers never load it for this.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

#: A square complex matrix as plain data: rows of entries.
Matrix = tuple[tuple[complex, ...], ...]

#: How far ``U^dagger U`` may be from the identity (and ``sum K^dagger K`` for Kraus sets), in the
#: largest absolute entry. qibo's own check uses 1e-8; JSON round trips of float64 stay far below.
TOLERANCE = 1e-6
#: Widest matrix accepted: a 6-qubit ``Unitary`` is 64 x 64 (4,096 entries).
MAX_MATRIX_QUBITS = 6
#: Longest initial state vector accepted (12 qubits).
MAX_STATE_QUBITS = 12


class MatrixError(ValueError):
    """A matrix or vector that is malformed, too large, or not what its gate requires."""


def _number(value: Any) -> complex | None:
    """A finite complex number from a JSON number or an ``[re, im]`` pair, else None."""
    if isinstance(value, list | tuple):
        if len(value) != 2:
            return None
        re, im = finite_float(value[0]), finite_float(value[1])
        return None if re is None or im is None else complex(re, im)
    re = finite_float(value)
    return None if re is None else complex(re, 0.0)


def finite_float(value: Any) -> float | None:
    """``value`` as a finite float, or None (bools, strings, NaN, infinities, huge integers)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _entries(row: Any, length: int, what: str) -> tuple[complex, ...]:
    if not isinstance(row, list | tuple) or len(row) != length:
        raise MatrixError(f"{what} must have {length} entries per row")
    out = []
    for value in row:
        number = _number(value)
        if number is None:
            raise MatrixError(
                f"{what} entries must be finite numbers or [re, im] pairs, got {value!r:.40}"
            )
        out.append(number)
    return tuple(out)


def read_matrix(value: Any, nqubits: int, what: str = "matrix") -> Matrix:
    """A ``2**nqubits`` square matrix of finite entries, or :class:`MatrixError` saying why."""
    if not 1 <= nqubits <= MAX_MATRIX_QUBITS:
        raise MatrixError(
            f"{what} acts on {nqubits} qubits; at most {MAX_MATRIX_QUBITS} are supported"
        )
    size = 2**nqubits
    if not isinstance(value, list | tuple) or len(value) != size:
        got = f"{len(value)} rows" if isinstance(value, list | tuple) else type(value).__name__
        raise MatrixError(f"{what} on {nqubits} qubit(s) must be {size} x {size}, got {got}")
    return tuple(_entries(row, size, what) for row in value)


def qubits_of_matrix(value: Any) -> int | None:
    """How many qubits a (possibly hostile) matrix value is for: log2 of its row count, or None."""
    if not isinstance(value, list | tuple) or not value:
        return None
    size = len(value)
    nqubits = size.bit_length() - 1
    return nqubits if size == 1 << nqubits and nqubits >= 1 else None


def _array(matrix: Matrix) -> Any:
    import numpy as np

    return np.array(matrix, dtype=complex)


def check_unitary(matrix: Matrix, what: str = "matrix") -> None:
    """:class:`MatrixError` unless ``matrix`` is unitary within :data:`TOLERANCE`."""
    import numpy as np

    array = _array(matrix)
    error = float(np.max(np.abs(array.conj().T @ array - np.eye(len(array)))))
    if not error <= TOLERANCE:
        raise MatrixError(
            f"{what} is not unitary: max |U^dagger U - I| = {error:.3g} (tolerance {TOLERANCE:g})"
        )


def check_trace_preserving(
    operators: Sequence[tuple[tuple[int, ...], Matrix]], what: str = "Kraus operators"
) -> None:
    """:class:`MatrixError` unless ``sum_k K_k^dagger K_k`` is the identity within tolerance.

    Each operator acts on its own qubits; all are embedded in the space of the union of them
    (qibo's ``KrausChannel`` takes operators on different qubits in one channel).
    """
    import numpy as np

    union = sorted({q for qubits, _ in operators for q in qubits})
    if len(union) > MAX_MATRIX_QUBITS:
        raise MatrixError(
            f"{what} act on {len(union)} qubits together; at most {MAX_MATRIX_QUBITS}"
        )
    n = len(union)
    total = np.zeros((2**n, 2**n), dtype=complex)
    for qubits, matrix in operators:
        gram = _array(matrix).conj().T @ _array(matrix)
        # Embed K^dagger K (on ``qubits``) as gram (x) identity (on the rest), then move axes.
        rest = [q for q in union if q not in qubits]
        full = np.kron(gram, np.eye(2 ** len(rest))).reshape((2,) * (2 * n))
        order = list(qubits) + rest
        perm = [order.index(q) for q in union]
        full = full.transpose(perm + [n + p for p in perm]).reshape(2**n, 2**n)
        total += full
    error = float(np.max(np.abs(total - np.eye(2**n))))
    if not error <= TOLERANCE:
        raise MatrixError(
            f"{what} are not trace preserving: max |sum K^dagger K - I| = {error:.3g} "
            f"(tolerance {TOLERANCE:g})"
        )


def read_state(value: Any, nqubits: int) -> tuple[complex, ...]:
    """An initial state vector for ``nqubits`` qubits: right length, finite, normalised.

    Raises :class:`MatrixError` naming the limit (at most :data:`MAX_STATE_QUBITS` qubits).
    """
    if nqubits > MAX_STATE_QUBITS:
        raise MatrixError(
            f"initial_state: at most {MAX_STATE_QUBITS} qubits ({2**MAX_STATE_QUBITS} amplitudes) "
            f"are supported, the circuit has {nqubits}"
        )
    size = 2**nqubits
    if not isinstance(value, list | tuple) or len(value) != size:
        got = f"{len(value)} amplitudes" if isinstance(value, list | tuple) else repr(value)[:40]
        raise MatrixError(
            f"initial_state must be a list of {size} amplitudes for {nqubits} qubits, got {got}"
        )
    state = _entries(value, size, "initial_state")
    norm = math.fsum(abs(a) ** 2 for a in state)
    if not abs(norm - 1.0) <= TOLERANCE:
        raise MatrixError(f"initial_state must be normalised: its squared norm is {norm:.6g}")
    return state


__all__ = [
    "MAX_MATRIX_QUBITS",
    "MAX_STATE_QUBITS",
    "TOLERANCE",
    "Matrix",
    "MatrixError",
    "check_trace_preserving",
    "check_unitary",
    "finite_float",
    "qubits_of_matrix",
    "read_matrix",
    "read_state",
]
