"""The download archive of a finished job, built on request (downloads are rare; storage is not).

On success the archive holds ``results.npy`` written by qibo's own ``MeasurementOutcomes.dump``, so
that the official client's ``qibo.result.load_result`` reads it unchanged; on error it holds
``stdout.log`` and ``stderr.log``.

The result is bound to the job's own measurement gates (registers, qubits, order), rebuilt from the
stored circuit, and carries samples that are the server's counts, shuffled: ``load_result(...)``
then gives the same registers and the same frequencies the job object shows. Past
:data:`MAX_SAMPLE_CELLS` (a million shots of many qubits would make a file of hundreds of MB) it
carries the counts as probabilities instead, which qibo re-samples. qibo is imported here, lazily,
and the caller runs this off the event loop.
"""

from __future__ import annotations

import io
import json
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from qibo_client.server.api.checks import parse_circuit

#: Most shots x measured bits written as samples (int64: 32 MB).
MAX_SAMPLE_CELLS = 4_000_000


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(time.time())
    info.mode = 0o644
    archive.addfile(info, io.BytesIO(data))


def _measurements(circuit_json: str | None, width: int) -> list[Any]:
    """The job's measurement gates, from its stored circuit; one gate over ``width`` bits if the
    circuit cannot be read again."""
    from qibo import gates

    if circuit_json is not None:
        try:
            program = parse_circuit(json.loads(circuit_json))
        except (ValueError, TypeError):
            program = None
        if program is not None and program.nmeasured == width:
            return [gates.M(*m.qubits, register_name=m.register) for m in program.measurements]
    return [gates.M(*range(width))]


def results_npy(frequencies_json: str, nqubits: int, circuit_json: str | None = None) -> bytes:
    """qibo's ``result.dump`` file for counts ``{bitstring: count}`` (bits in measurement order)."""
    from qibo.backends import NumpyBackend
    from qibo.result import MeasurementOutcomes

    frequencies = json.loads(frequencies_json)
    width = len(next(iter(frequencies), ""))
    measurements = _measurements(circuit_json, width)
    keys = list(frequencies)
    counts = np.array([int(frequencies[key]) for key in keys], dtype=np.int64)
    nshots = int(counts.sum())
    bits = np.array([[int(b) for b in key] for key in keys], dtype=np.int64).reshape(-1, width)
    size = max(nqubits, width, 1 + max((q for m in measurements for q in m.qubits), default=0))
    if nshots * width <= MAX_SAMPLE_CELLS:
        samples = np.repeat(bits, counts, axis=0)
        np.random.default_rng(nshots).shuffle(samples)
        outcomes = MeasurementOutcomes(
            measurements, backend=NumpyBackend(), samples=samples, nshots=nshots, nqubits=size
        )
    else:
        probabilities = np.zeros(2**width)
        powers = 1 << np.arange(width - 1, -1, -1, dtype=np.int64)
        probabilities[bits @ powers] = counts / max(nshots, 1)
        outcomes = MeasurementOutcomes(
            measurements,
            backend=NumpyBackend(),
            probabilities=probabilities,
            nshots=nshots,
            nqubits=size,
        )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "results.npy"
        outcomes.dump(str(path))
        return path.read_bytes()


def success_archive(frequencies_json: str, nqubits: int, circuit_json: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        _add(archive, "results.npy", results_npy(frequencies_json, nqubits, circuit_json))
    return buffer.getvalue()


def error_archive(stdout: str, stderr: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        _add(archive, "stdout.log", stdout.encode("utf-8"))
        _add(archive, "stderr.log", stderr.encode("utf-8"))
    return buffer.getvalue()
