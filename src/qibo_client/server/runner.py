"""Running jobs: a FIFO queue in the event loop feeding a pool of warm worker processes.

Why this shape:

- **Processes, not threads.** A 20-qubit simulation holds the CPU for seconds; in a worker
  process it never blocks the HTTP side. Workers are started with ``spawn`` (no copy of the
  server's sockets, threads or SQLite handle) and each imports qibo, sets the numpy backend and runs
  one tiny circuit at start, so the first real job pays none of qibo's 1.3 s import.
- **No polling.** Each dispatched job's future is wrapped with :func:`asyncio.wrap_future`; its
  completion runs a callback on the event loop, which records the result and wakes whoever waits
  (``Prefer: wait``, ``?wait=``) at once.
- **The queue lives here, the truth in the store.** The queue only orders pids; a restart
  rebuilds it from the store's unfinished jobs, so nothing accepted is lost. A worker that dies
  (``BrokenProcessPool``) takes no job with it: the pool is rebuilt and the job queued again, once;
  a job that kills a worker twice ends in ``error``.
- The HTTP process never imports qibo: the worker receives the parsed program (a small frozen
  dataclass) and builds the qibo circuit itself.
- **Every job is seeded.** The worker seeds numpy and qibo's backend before each job, from the
  job's explicit ``seed`` or else from its pid: the same job run again (after a restart, or
  submitted again with ``seed``) draws the same counts, so a failing statistical test replays.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import logging
import multiprocessing
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from qibo_client.server.devices import Device

logger = logging.getLogger("qibo_client.server.runner")

#: How many times a job may take a worker down before it is declared failed.
MAX_CRASHES = 2


@dataclass(frozen=True)
class Task:
    """Everything a worker needs to run one job (picklable)."""

    pid: str
    program: Any  # qasm_parser.Program: frozen, picklable, builds the qibo circuit
    nshots: int
    device: Device
    verbatim: bool
    #: The job's explicit seed; None derives one from the pid (:func:`job_seed_of`).
    seed: int | None = None


@dataclass(frozen=True)
class Outcome:
    """What a worker sends back: counts as ready-made JSON text, or the reason it failed."""

    pid: str
    ok: bool
    frequencies_json: str | None = None
    runtime: float | None = None
    stdout: str = ""
    stderr: str = ""


# -- worker side ---------------------------------------------------------------------------------


def warm_worker() -> None:
    """Pool initializer: import qibo, pick the numpy backend, run one tiny circuit."""
    import qibo
    from qibo import Circuit, gates

    qibo.set_backend("numpy")
    circuit = Circuit(1)
    circuit.add(gates.H(0))
    circuit.add(gates.M(0))
    circuit(nshots=1)


def ping() -> bool:
    """A no-op task, used to make the pool start (and warm) its processes before real work."""
    return True


def job_seed_of(pid: str, seed: int | None) -> int:
    """The seed a job runs with: its explicit one, else 32 bits of the SHA-256 of its pid."""
    if seed is not None:
        return seed
    return int.from_bytes(hashlib.sha256(pid.encode()).digest()[:4], "big")


def _seed(seed: int) -> None:
    """Seed everything a simulation draws from: numpy's global generator and qibo's backend."""
    import numpy as np
    import qibo

    np.random.seed(seed)
    qibo.get_backend().set_seed(seed)


def _transpile(circuit: Any, device: Device) -> Any:
    """qibo's own hardware pipeline (as in ``GlobalBackend._default_transpiler``), for the
    device's own native gates and couplings (``devices.py``), not qibo's defaults."""
    import networkx as nx
    from qibo.transpiler.optimizer import Preprocessing
    from qibo.transpiler.pipeline import Passes
    from qibo.transpiler.router import Sabre
    from qibo.transpiler.unroller import NativeGates, Unroller

    if device.edges is None:
        graph = nx.complete_graph(device.max_qubits)
    else:
        graph = nx.Graph(sorted(device.edges))
        graph.add_nodes_from(range(device.max_qubits))
    natives = (
        NativeGates.default() if device.natives is None else NativeGates[sorted(device.natives)]
    )
    passes = Passes(connectivity=graph, passes=[Preprocessing(), Sabre(), Unroller(natives)])
    transpiled, _layout = passes(circuit)
    return transpiled


def _counts(result: Any, nshots: int, seed: int) -> dict[str, int]:
    """``{bitstring: count}`` with bits in the order of the circuit's measurements.

    For a pure state with plain measurements (what QASM can say, and the server only takes
    terminal measurements) one multinomial draw over the measured qubits' probabilities has
    exactly the distribution of ``nshots`` independent shots, in O(2**m) instead of O(nshots):
    20 qubits x 1,000,000 shots takes 0.1 s instead of qibo's 4 s of per-shot sampling. Anything
    else (noise on the measurement, density matrices) goes through qibo's own ``frequencies``.
    """
    import numpy as np
    from qibo.result import CircuitResult

    gates = result.measurements
    plain = (
        isinstance(result, CircuitResult)
        and not result.density_matrix
        and all(not gate.collapse for gate in gates)
        and all(p == 0 for gate in gates for flips in gate.bitflip_map for p in flips.values())
    )
    if not plain:
        return {str(key): int(value) for key, value in result.frequencies(binary=True).items()}
    qubits = tuple(result.measurement_gate.qubits)
    probabilities = np.clip(np.asarray(result.probabilities(qubits=qubits), dtype=float), 0, None)
    draws = np.random.default_rng(seed).multinomial(nshots, probabilities / probabilities.sum())
    width = f"0{len(qubits)}b"
    return {format(int(index), width): int(draws[index]) for index in np.flatnonzero(draws)}


def run_task(task: Task) -> Outcome:
    """Build, (transpile,) simulate and count one job. Never raises for the circuit's faults."""
    started = time.perf_counter()
    try:
        seed = job_seed_of(task.pid, task.seed)
        _seed(seed)
        circuit = task.program.to_circuit()
        if task.device.hardware_type == "hardware" and not task.verbatim:
            circuit = _transpile(circuit, task.device)
        result = circuit(nshots=task.nshots)
        counts = _counts(result, task.nshots, seed)
    except Exception as err:
        logger.debug("job %s failed", task.pid, exc_info=True)
        reason = f"{type(err).__name__}: {err}"
        return Outcome(task.pid, ok=False, runtime=time.perf_counter() - started, stderr=reason)
    runtime = time.perf_counter() - started
    return Outcome(
        task.pid,
        ok=True,
        frequencies_json=json.dumps(counts, separators=(",", ":")),
        runtime=runtime,
    )


# -- event-loop side -----------------------------------------------------------------------------


class Runner:
    """The queue and the pool. Every method must be called on the event loop's thread."""

    def __init__(self, workers: int, on_outcome: Callable[[Outcome], None]) -> None:
        self.workers = workers
        self._on_outcome = on_outcome
        self._queue: OrderedDict[str, Task] = OrderedDict()
        self._running: dict[str, Task] = {}
        self._cancelled: set[str] = set()
        self._crashes: dict[str, int] = {}
        self._waiters: dict[str, asyncio.Event] = {}
        self._pool: ProcessPoolExecutor | None = None
        self._avg_runtime = 0.05
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    # lifecycle

    async def start(self) -> None:
        """Start the pool and wait until every worker is warm (so the first job is fast)."""
        self._loop = asyncio.get_running_loop()
        if self.workers > 0:
            self._pool = self._new_pool()
            try:
                await asyncio.gather(
                    *(asyncio.wrap_future(self._pool.submit(ping)) for _ in range(self.workers))
                )
            except BrokenProcessPool as err:
                self.shutdown()
                raise RuntimeError(
                    "the simulation workers died while starting. If a script starts the server, "
                    "start it under `if __name__ == '__main__':` (workers are spawned processes "
                    "that import the main module); otherwise check that qibo imports"
                ) from err
        self._pump()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=warm_worker,
        )

    def shutdown(self) -> None:
        """Stop the workers. Jobs still queued or running stay unfinished in the store."""
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is not None:
            # A running simulation may take minutes; it will run again at the next start, so the
            # workers are stopped now rather than waited for. (The process table is private API.)
            for process in list(getattr(pool, "_processes", {}).values()):
                process.terminate()
            pool.shutdown(wait=True, cancel_futures=True)
        for event in self._waiters.values():
            event.set()

    # queue

    def submit(self, task: Task) -> None:
        self._queue[task.pid] = task
        self._pump()

    def cancel(self, pid: str) -> None:
        """Forget a job: drop it from the queue, or discard its result when it comes back."""
        if self._queue.pop(pid, None) is None and pid in self._running:
            self._cancelled.add(pid)
        self._wake(pid)

    def is_running(self, pid: str) -> bool:
        return pid in self._running

    def position(self, pid: str) -> int | None:
        """1 for the next job to start; None if not queued (running or unknown)."""
        for index, queued in enumerate(self._queue):
            if queued == pid:
                return index + 1
        return None

    def etd_seconds(self, position: int | None) -> float:
        """Estimated seconds until the job ends, from a moving average of recent runtimes."""
        ahead = 0 if position is None else position
        slots = max(self.workers, 1)
        return round((ahead // slots + 1) * self._avg_runtime, 3)

    async def wait(self, pid: str, timeout: float) -> None:
        """Return when ``pid`` ends or after ``timeout`` seconds, whichever is first."""
        event = self._waiters.get(pid)
        if event is None:
            event = self._waiters[pid] = asyncio.Event()
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except asyncio.TimeoutError:
            pass
        finally:
            if self._waiters.get(pid) is event and event.is_set():
                del self._waiters[pid]

    def _wake(self, pid: str) -> None:
        event = self._waiters.pop(pid, None)
        if event is not None:
            event.set()

    def _pump(self) -> None:
        while (
            self._pool is not None
            and not self._closed
            and self._queue
            and len(self._running) < self.workers
        ):
            pid, task = self._queue.popitem(last=False)
            try:
                future = self._pool.submit(run_task, task)
            except BrokenProcessPool:
                self._queue[pid] = task
                self._queue.move_to_end(pid, last=False)
                self._rebuild_pool()
                continue
            self._running[pid] = task
            started = time.perf_counter()
            wrapped = asyncio.wrap_future(future)
            wrapped.add_done_callback(functools.partial(self._done, task, started))

    def _done(self, task: Task, started: float, done: asyncio.Future[Outcome]) -> None:
        self._running.pop(task.pid, None)
        if self._closed or done.cancelled():
            return
        error = done.exception()
        if isinstance(error, BrokenProcessPool):
            self._crashed(task)
        elif error is not None:
            # Not the circuit's fault (that is caught in the worker): e.g. an unpicklable result.
            logger.error("job %s: worker error", task.pid, exc_info=error)
            self._finish(Outcome(task.pid, ok=False, stderr=f"internal error: {error!r}"))
        else:
            elapsed = time.perf_counter() - started
            self._avg_runtime = 0.8 * self._avg_runtime + 0.2 * elapsed
            self._finish(done.result())
        self._pump()

    def _crashed(self, task: Task) -> None:
        crashes = self._crashes.get(task.pid, 0) + 1
        self._crashes[task.pid] = crashes
        self._rebuild_pool()
        if crashes >= MAX_CRASHES:
            logger.error("job %s crashed a worker %d times; giving up", task.pid, crashes)
            reason = "the worker process running this job died (out of memory?)"
            self._finish(Outcome(task.pid, ok=False, stderr=reason))
        elif task.pid not in self._cancelled:
            logger.warning("job %s: worker died; queued again", task.pid)
            self._queue[task.pid] = task
            self._queue.move_to_end(task.pid, last=False)
        else:
            self._cancelled.discard(task.pid)

    def _rebuild_pool(self) -> None:
        broken = self._pool
        if broken is None or self._closed:
            return
        # Several futures fail with the same broken pool: rebuild it only once.
        if getattr(broken, "_broken", False):
            broken.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()

    def _finish(self, outcome: Outcome) -> None:
        self._crashes.pop(outcome.pid, None)
        if outcome.pid in self._cancelled:
            self._cancelled.discard(outcome.pid)
        else:
            self._on_outcome(outcome)
        self._wake(outcome.pid)
