"""The worker side of a qibolab platform: what runs in its own process, one job at a time.

:func:`~qibo_client.server.jobs.worker.run_task` hands a job here when its device's engine is
``qibolab``. Each platform has a queue and a single worker process of its own
(:mod:`.runner_group`), so two jobs never drive the same instruments at once; in that process the
platform is created once (loading its calibration and instrument drivers) and its
``QibolabBackend`` kept, while ``execute_circuit`` connects to the instruments and disconnects
around each job, as qibolab does.

The circuit is built with qibo's numpy backend, its qubits named as the platform names them
(the submission's ``wire_names`` already checked against the platform in :mod:`.devices`), then,
unless ``verbatim``, transpiled by qibo's own passes to the platform's couplings and to the
natives every coupling has (:func:`.worker.transpile`). A failure on the platform ends the job in
``error`` with qibolab's own message. Counts are the platform's own shots, read with qibo's
``frequencies`` in the order of the circuit's measurements: nothing here draws them.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import time
from typing import Any

import numpy as np

from qibo_client.server.devices import Device
from qibo_client.server.jobs import engines
from qibo_client.server.jobs.worker import Outcome, Task, job_seed_of, transpile

logger = logging.getLogger("qibo_client.server.jobs.platform_worker")

#: platform name -> its ``QibolabBackend``, made at the first job of this process.
_backends: dict[str, Any] = {}


def backend_for(device: Device) -> Any:
    """The ``QibolabBackend`` of ``device``'s platform in this process (created once)."""
    backend = _backends.get(device.name)
    if backend is None:
        from qibolab.backend import QibolabBackend

        from qibo_client.server.platforms import load_platform

        backend = _backends[device.name] = QibolabBackend(load_platform(device.name))
        _stop_quietly(backend.platform)
    return backend


def _stop_quietly(platform: Any) -> None:
    """On SIGTERM (the server stopping its workers) or SIGINT, disconnect the instruments and
    exit, as qibolab's own handler does, but without its RuntimeError's traceback in the log."""

    def stop(signum: int, _frame: Any) -> None:
        platform.disconnect()
        raise SystemExit(128 + signum)

    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, stop)


def platform_circuit(task: Task) -> Any:
    """The job's qibo circuit, its qubits named as the platform names them, ready to run."""
    device = task.device
    circuit = task.program.to_circuit()
    physical = task.program.wire_names or range(circuit.nqubits)
    circuit.wire_names = [device.qubit_name(number) for number in physical]
    return circuit if task.verbatim else transpile(circuit, device)


def run_on_platform(task: Task) -> Outcome:
    """Build, transpile (unless verbatim) and run one job on its platform; never raises for the
    job's own faults or the platform's: they end the job in ``error``."""
    started = time.perf_counter()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    try:
        engines.activate(engines.QIBOLAB)  # qibo's numpy backend, to build and transpile
        # The dummy platform draws its shots from numpy's global generator: seeded, a job run
        # again gives the same counts there (real instruments ignore it).
        np.random.seed(job_seed_of(task.pid, task.seed))
        circuit = platform_circuit(task)
        result = backend_for(task.device).execute_circuit(circuit, nshots=task.nshots)
        counts = {str(key): int(value) for key, value in result.frequencies(binary=True).items()}
    except Exception as err:
        logger.debug("job %s failed on platform %s", task.pid, task.device.name, exc_info=True)
        return Outcome(
            task.pid,
            ok=False,
            runtime=time.perf_counter() - started,
            stderr=f"{type(err).__name__}: {err}",
            engine=engines.QIBOLAB,
            worker=worker,
        )
    return Outcome(
        task.pid,
        ok=True,
        frequencies_json=json.dumps(counts, separators=(",", ":")),
        runtime=time.perf_counter() - started,
        engine=engines.QIBOLAB,
        worker=worker,
    )


__all__ = ["backend_for", "platform_circuit", "run_on_platform"]
