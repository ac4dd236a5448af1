"""The download archive of a finished job, built on request (downloads are rare; storage is not).

On success the archive holds ``results.npy`` written by qibo's own ``MeasurementOutcomes.dump``, so
that the official client's ``qibo.result.load_result`` reads it unchanged; on error it holds
``stdout.log`` and ``stderr.log``. qibo is imported here, lazily, and the caller runs this off the
event loop.
"""

from __future__ import annotations

import io
import json
import tarfile
import tempfile
import time
from pathlib import Path


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(time.time())
    info.mode = 0o644
    archive.addfile(info, io.BytesIO(data))


def results_npy(frequencies_json: str, nqubits: int) -> bytes:
    """qibo's ``result.dump`` file for counts ``{bitstring: count}`` (bits in measurement order)."""
    from qibo.backends import NumpyBackend
    from qibo.result import MeasurementOutcomes

    frequencies = json.loads(frequencies_json)
    width = len(next(iter(frequencies), ""))
    outcomes = MeasurementOutcomes.from_frequencies(
        frequencies, nqubits=max(nqubits, width), backend=NumpyBackend()
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "results.npy"
        outcomes.dump(str(path))
        return path.read_bytes()


def success_archive(frequencies_json: str, nqubits: int) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        _add(archive, "results.npy", results_npy(frequencies_json, nqubits))
    return buffer.getvalue()


def error_archive(stdout: str, stderr: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        _add(archive, "stdout.log", stdout.encode("utf-8"))
        _add(archive, "stderr.log", stderr.encode("utf-8"))
    return buffer.getvalue()
