"""Which qibo simulator a job runs on: qibojit (numba) when installed, numpy as the fallback.

Why this module:

- **Speed.** qibojit's numba kernels simulate a 16-22-qubit circuit 10-12x faster than qibo's numpy
  backend on the same cores. The ``[server]`` extra installs it; without it every job still runs,
  on numpy.
- **Chosen per device, recorded per job.** A :class:`~qibo_client.server.devices.Device` names an
  engine (``auto``, ``numpy``, ``qibojit``, ``qibojit-cupy``); the worker resolves ``auto`` once and
  reports the engine each job really ran on, which the job object shows as ``engine``.
- **Compiled once per worker.** numba compiles a kernel at its first call (seconds). :func:`warm`
  runs one small circuit through every kind of kernel a job uses, at worker start, so no job pays
  for it; numba's on-disk cache then makes later worker starts fast too.
- **No oversubscription.** numba runs each gate on several threads. With ``W`` worker processes on
  ``C`` cores every job gets ``max(1, C // W)`` threads (set per job: numba's setting belongs to the
  calling thread, and a Dask worker runs jobs on threads of its own), and OpenMP's idle threads
  sleep instead of spinning (see :func:`configure`).
- **Quiet workers.** qibo logs an INFO line each time a backend is set; workers set qibo's logger
  to WARNING so that a server's log shows only what matters.

The HTTP process imports this module to list devices, so it imports nothing heavy at the top:
the checks for qibojit and cupy look for the packages without importing them (cupy is imported
only where it is installed, to ask whether a GPU is there).
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
from typing import Any

logger = logging.getLogger("qibo_client.server.jobs.engines")

#: The engine names a device may ask for ("auto": qibojit if installed, else numpy).
AUTO = "auto"
NUMPY = "numpy"
QIBOJIT = "qibojit"  # numba, on the CPU
QIBOJIT_CUPY = "qibojit-cupy"  # cupy, on a GPU
#: a qibolab platform (platforms.py): circuits are built and transpiled with numpy, then run on
#: the platform by the platform's own worker (platform_worker.py).
QIBOLAB = "qibolab"
ENGINES = (AUTO, NUMPY, QIBOJIT, QIBOJIT_CUPY, QIBOLAB)

#: engine name -> the arguments of ``qibo.set_backend``.
_BACKENDS: dict[str, dict[str, str]] = {
    NUMPY: {"backend": "numpy"},
    QIBOJIT: {"backend": "qibojit", "platform": "numba"},
    QIBOJIT_CUPY: {"backend": "qibojit", "platform": "cupy"},
    QIBOLAB: {"backend": "numpy"},
}


def check(name: str) -> str:
    """``name`` if it is an engine, else ValueError listing them (for devices and options)."""
    if name not in ENGINES:
        raise ValueError(f"unknown simulation engine {name!r}; choose one of {', '.join(ENGINES)}")
    return name


def qibojit_installed() -> bool:
    return importlib.util.find_spec("qibojit") is not None


@functools.lru_cache(maxsize=1)
def gpu_available() -> bool:
    """True when qibojit and cupy are installed and cupy sees at least one GPU."""
    if not qibojit_installed() or importlib.util.find_spec("cupy") is None:
        return False
    try:
        import cupy

        return int(cupy.cuda.runtime.getDeviceCount()) > 0
    except Exception:  # any failure of the driver means: no usable GPU
        logger.info("cupy is installed but no GPU is usable", exc_info=True)
        return False


def resolve(name: str) -> str:
    """The engine ``name`` runs on here: ``auto`` is qibojit when installed, else numpy."""
    check(name)
    if name == AUTO:
        return QIBOJIT if qibojit_installed() else NUMPY
    return name


def default_threads(workers: int, cores: int | None = None) -> int:
    """Threads per job so that ``workers`` jobs at once do not oversubscribe the cores."""
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) // max(1, workers))


# -- worker side ---------------------------------------------------------------------------------

#: This process's settings, made by :func:`configure` (the pool's initializer or the Dask plugin).
_settings: dict[str, Any] = {"threads": None, "active": None}


def quiet_qibo() -> None:
    """qibo logs "Using ... backend" at INFO on every switch: keep workers' logs to warnings."""
    logging.getLogger("qibo.config").setLevel(logging.WARNING)
    logging.getLogger("qibo").setLevel(logging.WARNING)


def configure(threads: int | None) -> None:
    """Set this worker's threads per job (None: numba's own default, all cores).

    Also asks OpenMP (numba's threading layer here) to let idle threads sleep rather than spin,
    unless the environment already says otherwise: it must be set before numba starts its threads,
    which is why it is here, at worker start. On a shared 2-core machine under load, an 18-qubit
    QFT on 2 spinning threads took 2.4 s against 0.13 s on one thread; with passive waiting 0.18 s.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    _settings["threads"] = threads


#: A job narrower than this runs on one numba thread, whatever the worker's setting: a gate on
#: fewer than 2**14 amplitudes takes microseconds, less than waking a sleeping OpenMP thread
#: (passive waiting, :func:`configure`). Measured (issue 21): a Bell job on ``qibo-client serve``'s
#: default of one worker with two threads took 0.5 ms longer end to end, on a loaded machine,
#: than with ``--threads 1`` or numpy, which was the last round's B1 regression.
PARALLEL_MIN_QUBITS = 14


def activate(name: str, nqubits: int | None = None) -> str:
    """Make ``name`` qibo's backend in this process (if not already) and return the engine used.

    Called before every job: switching costs a few milliseconds only when the engine changes,
    and the thread count is set again because numba keeps it per calling thread (one thread for
    a job of fewer than :data:`PARALLEL_MIN_QUBITS` qubits).
    """
    import qibo

    engine = resolve(name)
    # qibo's own global backend is checked too: code in the same process (a test, a notebook
    # beside local_cluster's in-process parts) may have set another one since.
    if _settings["active"] != engine or qibo.get_backend().name != _BACKENDS[engine]["backend"]:
        quiet_qibo()
        qibo.set_backend(**_BACKENDS[engine])
        _settings["active"] = engine
    if engine == QIBOJIT:
        narrow = nqubits is not None and nqubits < PARALLEL_MIN_QUBITS
        threads = 1 if narrow else _settings["threads"]
        if threads is None and _settings.get("narrowed"):
            import numba

            threads = numba.config.NUMBA_NUM_THREADS  # numba's own default, back
        if threads is not None:
            qibo.set_threads(threads)
        _settings["narrowed"] = narrow
    return engine


def own_backend(name: str, threads: int | None = None) -> tuple[str, Any]:
    """A qibo backend object of its own for engine ``name`` (and the engine it resolved to),
    never qibo's global one: the fast lane runs in the server process, which may be a user's
    own (``local_cluster``), whose global backend is theirs. ``threads`` is set for the calling
    thread (numba keeps it per thread)."""
    from qibo.backends import construct_backend

    engine = resolve(name)
    quiet_qibo()
    backend = construct_backend(**_BACKENDS[engine])
    if threads is not None and engine == QIBOJIT:
        backend.set_threads(threads)
    return engine, backend


def warm(name: str = AUTO, backend: Any = None) -> str:
    """Set the engine (or use ``backend``, from :func:`own_backend`) and run one small circuit
    through each kind of kernel a job uses."""
    from qibo import Circuit, gates

    engine = activate(name) if backend is None else resolve(name)
    circuit = Circuit(3)
    for gate in (
        gates.H(0),
        gates.X(1),
        gates.Y(2),
        gates.Z(0),
        gates.S(1),
        gates.T(2),
        gates.RX(0, 0.1),
        gates.RY(1, 0.2),
        gates.RZ(2, 0.3),
        gates.U3(0, 0.1, 0.2, 0.3),
        gates.CNOT(0, 1),
        gates.CZ(1, 2),
        gates.SWAP(0, 2),
        gates.CRX(0, 1, 0.3),
        gates.CU1(0, 2, 0.4),
        gates.TOFFOLI(0, 1, 2),
        gates.M(0, 1, 2),
    ):
        circuit.add(gate)
    result = circuit(nshots=1) if backend is None else backend.execute_circuit(circuit, None, 1)
    result.probabilities(qubits=(0, 1))
    return engine
