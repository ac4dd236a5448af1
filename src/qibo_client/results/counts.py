"""Sparse frequencies <-> dense NumPy, and the safe reading of a result archive.

Servers of this protocol put the counts in the job's JSON (``frequencies``); that is the fast path
and needs nothing here but :func:`dense_from_frequencies`. A server that gives none is read
through its download: a gzip tar holding ``results.npy``, which is qibo's ``result.dump()`` file, a
pickle inside a NumPy file. Unpickling it naively would let the server run code on the user's
machine, so this module

- reads every tar header first, and refuses the archive before reading any member if it holds
  more than :data:`MAX_MEMBERS` members or more than :data:`MAX_ARCHIVE_BYTES` uncompressed (a
  gzip bomb costs a scan, never the memory);
- reads tar members in memory (nothing is extracted to disk) after checking each one: a regular
  file, a plain relative name, a bounded size;
- loads ``results.npy`` with ``allow_pickle=False`` first and, only for an object array, through a
  :class:`pickle.Unpickler` whose ``find_class`` admits NumPy's array-rebuilding callables and
  plain builtin containers, nothing else.
"""

from __future__ import annotations

import io
import json
import pickle
import tarfile
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from qibo_client.errors import MalformedResponseError, UnsafeResultError, UnsupportedCircuitError

#: Largest number of measured bits turned into a dense array (2**30 int64 = 8 GiB already).
MAX_DENSE_BITS = 30
#: Bounds on what a result archive may hold: per member, in all (uncompressed), and how many.
MAX_MEMBER_BYTES = 256 * 1024 * 1024
MAX_ARCHIVE_BYTES = MAX_MEMBER_BYTES + 32 * 1024 * 1024
MAX_MEMBERS = 16
#: Outcomes converted per step of the dense conversion (bounds its temporary memory).
_DENSE_CHUNK = 1 << 16

#: The only globals a result pickle may name: NumPy's array reconstruction and plain containers.
_ALLOWED_GLOBALS = frozenset(
    {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("builtins", "dict"),
        ("builtins", "list"),
        ("builtins", "tuple"),
        ("builtins", "set"),
        ("builtins", "frozenset"),
        ("builtins", "complex"),
        ("_codecs", "encode"),  # protocol-2 pickles spell bytes this way
    }
)


class ResampledCountsWarning(UserWarning):
    """A server's result held probabilities but no samples: the counts were drawn locally.

    They follow the server's distribution but are not the device's own counts. Said once per
    client (a VQE of thousands of jobs hears it once); silence it with
    ``warnings.simplefilter("ignore", qibo_client.ResampledCountsWarning)``.
    """


def warn_resampled(where: str = "") -> None:
    """Say that counts were re-sampled locally, as a :class:`ResampledCountsWarning`."""
    warnings.warn(
        f"The server's result{where} holds probabilities but no samples; counts are re-sampled "
        "locally (said once per client).",
        ResampledCountsWarning,
        stacklevel=2,
    )


def dense_from_frequencies(frequencies: Mapping[str, int], nbits: int | None = None) -> np.ndarray:
    """Counts as an int64 array of length ``2**nbits``; index = the bitstring read as binary.

    ``nbits`` defaults to the length of the keys. Above :data:`MAX_DENSE_BITS` the dense form would
    not fit in memory: the error points to the sparse form instead. The conversion is vectorised
    (a 20-qubit, million-outcome result takes a fraction of a second, not a Python loop per key).
    """
    if nbits is None:
        nbits = len(next(iter(frequencies), ""))
    if nbits > MAX_DENSE_BITS:
        raise UnsupportedCircuitError(
            f"{nbits} measured bits would need a dense array of 2**{nbits} entries; "
            "use job.frequencies() for the sparse {bitstring: count} form instead."
        )
    dense = np.zeros(2**nbits, dtype=np.int64)
    if not frequencies:
        return dense
    keys = list(frequencies)
    if any(len(bits) != nbits for bits in keys):
        raise MalformedResponseError(f"Some outcomes do not have {nbits} bits like the others")
    counts = np.fromiter(frequencies.values(), dtype=np.int64, count=len(keys))
    if nbits == 0:
        dense[0] = counts.sum()
        return dense
    weights = 1 << np.arange(nbits - 1, -1, -1, dtype=np.int64)
    for first in range(0, len(keys), _DENSE_CHUNK):
        chunk = keys[first : first + _DENSE_CHUNK]
        bits = np.frombuffer("".join(chunk).encode("ascii"), dtype=np.uint8).reshape(-1, nbits)
        index = (bits - ord("0")).astype(np.int64) @ weights
        np.add.at(dense, index, counts[first : first + len(chunk)])
    return dense


def validate_frequencies(value: Any) -> dict[str, int]:
    """Check that the server's ``frequencies`` is ``{bitstring: count}`` of one width; return it.

    Checked in bulk (C loops over the joined keys and the value types), because a large result
    has a million entries and this sits between the JSON parser and the user.
    """
    if not isinstance(value, dict):
        raise MalformedResponseError(f"'frequencies' is a {type(value).__name__}, not an object")
    if not value:
        return value
    keys = value.keys()
    try:
        joined = "".join(keys).encode("ascii")  # JSON object keys are always strings
    except UnicodeEncodeError:
        joined = b"?"
    if joined.translate(None, b"01"):
        raise MalformedResponseError("'frequencies' has an outcome that is not a bitstring")
    if len(set(map(len, keys))) != 1:
        raise MalformedResponseError("'frequencies' mixes outcomes of different widths")
    if set(map(type, value.values())) != {int} or min(value.values()) < 0:
        raise MalformedResponseError("'frequencies' has a count that is not a non-negative integer")
    return value


def check_counts(
    counts: Mapping[str, int], *, pid: str, nshots: int | None, nbits: int | None
) -> dict[str, int]:
    """Check counts against what was asked of job ``pid``; return them as a dict.

    ``nshots`` is the shots asked (or the device default the server reports); ``nbits`` the
    measured bits of the circuit. Either may be None when unknown, and then only what can still
    be checked is. A result that cannot come from that job is a MalformedResponseError naming the
    pid and what was wrong: counts that do not sum to ``nshots``, more distinct outcomes than
    ``min(nshots, 2**nbits)``, bitstrings of another width. Bulk checks only (a large result has
    a million entries).
    """
    try:
        counts = validate_frequencies(dict(counts))
    except MalformedResponseError as error:
        raise MalformedResponseError(f"Job {pid}: {error.message}") from None
    problem = _counts_problem(counts, nshots, nbits)
    if problem:
        raise MalformedResponseError(f"Job {pid} returned an impossible result: {problem}")
    return counts


#: What a job object may hold besides its counts (status fields, logs), in bytes.
JOB_OBJECT_OVERHEAD = 4 * 1024 * 1024
#: Bytes one ``"bitstring": count,`` entry may take beyond its bits (quotes, digits, spacing).
ENTRY_OVERHEAD = 32


def answer_limit(nshots: int | None, nbits: int | None, ceiling: int) -> int:
    """The most bytes a job object for ``nshots`` shots of ``nbits`` bits can honestly take.

    At most ``min(nshots, 2**nbits)`` outcomes can appear, so an answer far larger than that is
    refused while it arrives (five million outcomes for 1000 shots is 140 MB that never needs to
    be read). Unknown sizes fall back to ``ceiling``.
    """
    outcomes = []
    if nshots is not None:
        outcomes.append(int(nshots))
    if nbits is not None and nbits < 62:
        outcomes.append(2**nbits)
    if not outcomes:
        return ceiling
    per_entry = (nbits if nbits is not None else 64) + ENTRY_OVERHEAD
    return min(ceiling, JOB_OBJECT_OVERHEAD + min(outcomes) * per_entry)


def _counts_problem(counts: dict[str, int], nshots: int | None, nbits: int | None) -> str:
    if nbits is not None and counts:
        width = len(next(iter(counts)))  # validate_frequencies made every key this wide
        if width != nbits:
            return f"{width}-bit outcomes for a circuit that measures {nbits} bits"
    if nshots is not None:
        if len(counts) > nshots:
            return f"{len(counts)} distinct outcomes from {nshots} shots"
        total = sum(counts.values())
        if total != nshots:
            return f"counts sum to {total}, but {nshots} shots were asked"
    # At most 2**nbits outcomes follows: the keys are distinct bitstrings of that width.
    return ""


class _RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that can rebuild NumPy arrays and plain containers, and nothing else."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        if module == "numpy.dtypes" and name.endswith("DType"):
            return super().find_class(module, name)
        raise UnsafeResultError(
            f"The result file asks to construct {module}.{name}, which a result never needs; "
            "refusing to load it."
        )


def load_npy(data: bytes) -> Any:
    """Read a ``.npy`` payload; object arrays go through the restricted unpickler."""
    try:
        return np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as exc:
        if "allow_pickle" not in str(exc):
            raise MalformedResponseError(f"results.npy is not a NumPy file: {exc}") from None
    stream = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, _fortran, dtype = np.lib.format.read_array_header_1_0(stream)
        else:
            shape, _fortran, dtype = np.lib.format.read_array_header_2_0(stream)
    except ValueError as exc:
        raise MalformedResponseError(f"results.npy has a bad header: {exc}") from None
    if not dtype.hasobject:
        raise MalformedResponseError("results.npy could not be read")
    try:
        array = _RestrictedUnpickler(stream).load()
    except UnsafeResultError:
        raise
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means a bad file
        raise MalformedResponseError(f"results.npy could not be unpickled: {exc}") from None
    if not isinstance(array, np.ndarray) or array.shape != tuple(shape):
        raise MalformedResponseError("results.npy does not hold the array its header describes")
    return array


def read_archive(blob: bytes) -> dict[str, bytes]:
    """The members of a result archive, in memory, after checking every one of them.

    Two passes: the headers alone first (count, names, types, sizes: nothing of a member's data
    is kept), and only an archive that passes them all is read.
    """
    members: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(blob), mode="r:*") as tar:
            checked = _checked_members(tar)
            for member in checked:
                extracted = tar.extractfile(member)
                if extracted is None:  # pragma: no cover - regular files always have data
                    raise UnsafeResultError(f"Archive member {member.name!r} has no data")
                data = extracted.read(member.size + 1)
                if len(data) != member.size:
                    raise MalformedResponseError(
                        f"Archive member {member.name!r} does not hold the size its header says"
                    )
                members[member.name.removeprefix("./")] = data
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise MalformedResponseError(f"The result download is not a tar archive: {exc}") from None
    return members


def _checked_members(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """Every member's header, checked, before any member is read."""
    checked: list[tarfile.TarInfo] = []
    total = 0
    while True:
        member = tar.next()  # reads one header; a member's data is skipped, never kept
        if member is None:
            return checked
        if len(checked) == MAX_MEMBERS:
            raise UnsafeResultError(
                f"The result archive holds more than {MAX_MEMBERS} members; a result has a few"
            )
        _check_member(member)
        total += member.size
        if total > MAX_ARCHIVE_BYTES:
            raise UnsafeResultError(
                f"The result archive would take more than {MAX_ARCHIVE_BYTES} bytes "
                "uncompressed; refused before reading it"
            )
        checked.append(member)


def _check_member(member: tarfile.TarInfo) -> None:
    name = member.name
    parts = name.replace("\\", "/").split("/")
    if not member.isfile():
        raise UnsafeResultError(f"Archive member {name!r} is not a regular file")
    if name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
        raise UnsafeResultError(f"Archive member {name!r} escapes its folder")
    if member.size < 0 or member.size > MAX_MEMBER_BYTES:
        raise UnsafeResultError(f"Archive member {name!r} is too large ({member.size} bytes)")


def frequencies_from_dump(
    payload: Any, *, resampled: Callable[[], None] = warn_resampled
) -> dict[str, int]:
    """Counts from qibo's ``MeasurementOutcomes.to_dict()`` (what ``result.dump`` saves).

    Samples give the exact counts; bit order is measurement order, as in qibo's
    ``frequencies(binary=True)``. Probabilities alone are re-sampled, and ``resampled()`` is
    called to say so (by default a :class:`ResampledCountsWarning` each time).
    """
    if isinstance(payload, np.ndarray) and payload.dtype.hasobject and payload.shape == ():
        payload = payload.item()
    if not isinstance(payload, dict):
        raise MalformedResponseError("results.npy does not hold a qibo result dictionary")
    samples = payload.get("samples")
    if samples is not None:
        samples = np.asarray(samples)
        if samples.ndim != 2:
            raise MalformedResponseError("results.npy samples are not a 2-D array")
        counts: dict[str, int] = {}
        for row in samples.astype(np.int64):
            key = "".join("1" if bit else "0" for bit in row)
            counts[key] = counts.get(key, 0) + 1
        return counts
    probabilities = payload.get("probabilities")
    nshots = payload.get("nshots")
    if probabilities is not None and isinstance(nshots, int):
        probs = np.asarray(probabilities, dtype=float)
        nbits = max(1, probs.size - 1).bit_length()
        resampled()
        drawn = np.random.default_rng().multinomial(nshots, probs / probs.sum())
        return {format(i, f"0{nbits}b"): int(c) for i, c in enumerate(drawn) if c}
    raise MalformedResponseError("results.npy holds neither samples nor probabilities")


def frequencies_from_archive(
    blob: bytes, *, resampled: Callable[[], None] = warn_resampled
) -> dict[str, int]:
    """Counts from a download archive; prefers a JSON ``frequencies.json`` if a server adds one.

    ``resampled`` is called if the counts had to be drawn from probabilities.
    """
    members = read_archive(blob)
    if "frequencies.json" in members:
        try:
            return validate_frequencies(json.loads(members["frequencies.json"]))
        except ValueError as exc:
            raise MalformedResponseError(f"frequencies.json is not JSON: {exc}") from None
    if "results.npy" not in members:
        raise MalformedResponseError(
            f"The result archive has no results.npy (members: {sorted(members)})"
        )
    return frequencies_from_dump(load_npy(members["results.npy"]), resampled=resampled)


__all__ = [
    "MAX_ARCHIVE_BYTES",
    "MAX_DENSE_BITS",
    "MAX_MEMBERS",
    "ResampledCountsWarning",
    "answer_limit",
    "check_counts",
    "dense_from_frequencies",
    "frequencies_from_archive",
    "frequencies_from_dump",
    "load_npy",
    "read_archive",
    "validate_frequencies",
    "warn_resampled",
]
