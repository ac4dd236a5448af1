"""The fast lane: tiny jobs simulated in the server process, on one thread next to the event loop.

Why: a Bell job's simulation takes about 0.1-0.2 ms, but handing it to a pool worker and back
costs two process hops (``ProcessPoolExecutor``: a pipe write, its feeder and result threads,
the worker waking up, a pickle each way), 0.2-0.4 ms of CPU and, on a busy machine, a wait for
a core at each wake-up. A job whose cost is known to be tiny before it runs skips all of that.

What keeps it from hurting the rest (issue 21):

- **Known tiny before it runs.** :func:`job_cost` bounds a job by qubits x gates x shots (a
  density matrix counts its qubits twice); each device sets the largest cost its lane takes
  (``Device.lane_cost``; 0: never, e.g. hardware, whose transpiler is not tiny) and no job wider
  than :data:`LANE_MAX_QUBITS` qualifies, whatever its gates and shots.
- **A bounded share of the process.** One thread (:data:`LANE_THREADS`) and at most
  :data:`LANE_DEPTH` jobs in it at once; when it is full the runner sends the next job to the pool
  (or Dask) as before, so a stream of tiny jobs never queues behind the lane. Status reads stay
  on the event loop; the lane thread only competes with them for the GIL while a tiny job runs.
- **The same job, the same answer.** The lane calls the worker's own :func:`~.worker.run_task`
  on the device's engine with one thread per job (a tiny state gains nothing from more), so seeds,
  counts, records and errors are exactly those of a pooled run. It runs on a qibo backend object
  of its own, never qibo's global backend: with ``local_cluster`` the server's process is the
  user's, and their ``qibo.set_backend`` stays theirs. (It does seed numpy's global generator per
  job, as a worker does, so ``local_cluster`` leaves the lane off unless asked.)
- **The store is the truth.** A job reaches the lane only through the runner, after it was
  stored; a server that dies with a job in the lane finds it unfinished at the next start and runs
  it again (``ServerState.requeue_unfinished``). A cancelled job's result is discarded by the
  runner, as for a pooled job (a running simulation is never interrupted).

The lane imports qibo (and the engine) in the server process, on its thread, at start: until it
is warm (:meth:`FastLane.ready`), every job takes the pool.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from qibo_client.server import engines
from qibo_client.server import worker as worker_side
from qibo_client.server.worker import Outcome, Task

logger = logging.getLogger("qibo_client.server.lane")

#: Threads of the lane: one, so that the lane takes at most one core's worth of the process.
LANE_THREADS = 1
#: Jobs in the lane at once (running plus waiting for its thread); more go to the pool.
LANE_DEPTH = 2
#: No job wider than this runs in the lane (a state vector of 2**12 amplitudes is 64 KiB).
LANE_MAX_QUBITS = 12
#: numba threads per lane job: a tiny state is faster on one.
LANE_JOB_THREADS = 1


def job_cost(task: Task) -> int | None:
    """qubits x gates x shots of ``task``, or None when its program does not say (never tiny).

    A density-matrix program (channels, collapsing measurements) counts its qubits twice.
    """
    program: Any = task.program
    nqubits = getattr(program, "nqubits", None)
    ops = getattr(program, "ops", None)
    nops = len(ops) if ops is not None else getattr(program, "nops", None)
    if not isinstance(nqubits, int) or not isinstance(nops, int):
        return None
    if getattr(program, "runs_as_density_matrix", False):
        nqubits *= 2
    return nqubits * max(1, nops) * max(1, task.nshots)


def is_tiny(task: Task) -> bool:
    """Whether ``task`` may run in the lane: within its device's bound and the qubit cap."""
    bound = getattr(task.device, "lane_cost", 0)
    if bound <= 0:
        return False
    width = getattr(task.program, "nqubits", None)
    cost = job_cost(task)
    return cost is not None and isinstance(width, int) and width <= LANE_MAX_QUBITS and cost <= bound


class FastLane:
    """One thread in the server process that runs tiny jobs with the worker's own code."""

    def __init__(self, engine: str = engines.AUTO) -> None:
        self.engine = engines.check(engine)
        self._resolved = engines.resolve(engine)
        self._backend: Any = None
        #: device engine name -> whether it resolves to the lane's engine (looked up once).
        self._same_engine: dict[str, bool] = {}
        self._threads: ThreadPoolExecutor | None = None
        self._ready = False
        self._inflight = 0
        self._closed = False

    async def start(self) -> None:
        """Start the thread and warm it (qibo imported, engine chosen and compiled) there."""
        self._threads = ThreadPoolExecutor(LANE_THREADS, thread_name_prefix="qibo-fast-lane")
        try:
            await asyncio.wrap_future(self._threads.submit(self._warm))
        except Exception:  # noqa: BLE001 - no lane is no failure: every job takes the pool
            logger.warning("the fast lane could not warm up; all jobs go to the pool", exc_info=True)
            return
        self._ready = not self._closed

    def _warm(self) -> None:
        """(On the lane's thread.) A qibo backend of the lane's own, compiled and warm."""
        engines.configure(LANE_JOB_THREADS)
        self._resolved, self._backend = engines.own_backend(self.engine, LANE_JOB_THREADS)
        engines.warm(self.engine, self._backend)

    def ready(self) -> bool:
        return self._ready and not self._closed

    def takes(self, task: Task) -> bool:
        """Whether the lane runs ``task`` now: warm, with room, and the job tiny."""
        return (
            self.ready()
            and self._inflight < LANE_DEPTH
            and self._runs_engine(task.device.engine)
            and is_tiny(task)
        )

    def _runs_engine(self, name: str) -> bool:
        same = self._same_engine.get(name)
        if same is None:
            same = self._same_engine[name] = engines.resolve(name) == self._resolved
        return same

    def submit(self, task: Task) -> asyncio.Future[Outcome]:
        """The job's outcome, as a pooled job's (``run_task`` on the lane's thread)."""
        assert self._threads is not None, "submit() before start()"
        self._inflight += 1
        running = self._threads.submit(worker_side.run_task, task, self._backend, self._resolved)
        future = asyncio.wrap_future(running)
        future.add_done_callback(self._left)
        return future

    def _left(self, _done: asyncio.Future[Outcome]) -> None:
        self._inflight -= 1

    def shutdown(self) -> None:
        """Stop taking jobs; a job running in the thread ends there (it is tiny), its result is
        dropped, and it runs again at the next start (it is unfinished in the store)."""
        self._closed = True
        threads, self._threads = self._threads, None
        if threads is not None:
            threads.shutdown(wait=False, cancel_futures=True)


__all__ = [
    "LANE_DEPTH",
    "LANE_MAX_QUBITS",
    "LANE_THREADS",
    "FastLane",
    "is_tiny",
    "job_cost",
]
