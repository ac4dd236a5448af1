"""The fast lane: tiny jobs simulated in the server process, on the event loop's own thread.

Why: a Bell job's simulation takes about 0.1-0.2 ms, but handing it to a pool worker and back
costs two process hops (``ProcessPoolExecutor``: a pipe write, its feeder and result threads,
the worker waking up, a pickle each way), 0.2-0.4 ms of CPU and, on a busy machine, a wait for
a core at each wake-up. A job whose cost is known to be tiny before it runs skips all of that: it
runs inside the request that queued it, so its answer is ready when that request looks.

Why on the loop and not on a thread beside it: a thread still costs two wake-ups per job (the
thread's, then the loop's through its self-pipe) and competes with the loop for the GIL. Measured
side by side (B1, Bell, servers in their own processes, jobs interleaved, load 7 on 2 cores):
+3.78 ms over numpy through the pool, +2.97 ms with a lane thread, +2.79 ms on the loop.

What keeps it from hurting the rest (issue 21):

- **Known tiny before it runs.** :func:`job_cost` bounds a job by qubits x gates x shots (a
  density matrix counts its qubits twice); each device sets the largest cost its lane takes
  (``Device.lane_cost``; 0: never, e.g. hardware, whose transpiler is not tiny) and no job wider
  than :data:`LANE_MAX_QUBITS` qualifies, whatever its gates and shots.
- **A bounded share of the process.** The lane may take at most :data:`LANE_SHARE` of the loop's
  time (a decayed average over :data:`LANE_WINDOW`); beyond it, tiny jobs go to the pool (or
  Dask) like any other, so a stream of them leaves the rest to requests, and a status read waits
  at most one tiny job.
- **The same job, the same answer.** The lane calls the worker's own :func:`~.worker.run_task`
  on the device's engine with one thread per job (a tiny state gains nothing from more), so seeds,
  counts, records and errors are exactly those of a pooled run. It runs on a qibo backend object
  of its own, never qibo's global backend: with ``local_cluster`` the server's process is the
  user's, and their ``qibo.set_backend`` stays theirs. (It does seed numpy's global generator per
  job, as a worker does, so ``local_cluster`` leaves the lane off unless asked.)
- **The store is the truth.** A job reaches the lane only through the runner, after it was
  stored; a server that dies while a job is in the lane finds it unfinished at the next start and
  runs it again (``ServerState.requeue_unfinished``). A job's end is recorded by the runner as
  for a pooled job; there is nothing to cancel, a lane job ends inside the call that started it.

The lane imports qibo (and the engine) in the server process, on a thread, at start: until it is
warm (:meth:`FastLane.ready`), every job takes the pool.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import Any

from qibo_client.server.jobs import engines
from qibo_client.server.jobs import worker as worker_side
from qibo_client.server.jobs.worker import Outcome, Task

logger = logging.getLogger("qibo_client.server.jobs.lane")

#: Most of the event loop's time the lane may take (a decayed average over LANE_WINDOW); above
#: it, tiny jobs go to the pool like any other, so requests keep at least the rest.
LANE_SHARE = 0.5
#: Seconds over which the lane's share of the loop is averaged.
LANE_WINDOW = 0.2
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
    if cost is None or not isinstance(width, int):
        return False
    return width <= LANE_MAX_QUBITS and cost <= bound


class FastLane:
    """Tiny jobs run at once on the event loop's thread, with the worker's own code, within a
    bounded share of that thread's time."""

    def __init__(self, engine: str = engines.AUTO, share: float = LANE_SHARE) -> None:
        self.engine = engines.check(engine)
        self.share = share
        self._resolved = engines.resolve(engine)
        self._backend: Any = None
        #: device engine name -> whether it resolves to the lane's engine (looked up once).
        self._same_engine: dict[str, bool] = {}
        #: seconds the lane ran, decayed with :data:`LANE_WINDOW` (its recent share of the loop).
        self._busy = 0.0
        self._since = time.perf_counter()
        self._threads_set = False
        self._ready = False
        self._closed = False
        #: jobs run here since start (logs, tests, benchmarks).
        self.jobs = 0

    async def start(self) -> None:
        """Import qibo, choose the engine and compile it, on a thread (the loop keeps serving)."""
        try:
            await asyncio.to_thread(self._warm)
        except Exception:  # no lane is no failure: every job takes the pool
            logger.warning("the fast lane did not warm up; all jobs go to the pool", exc_info=True)
            return
        self._ready = not self._closed

    def _warm(self) -> None:
        """A qibo backend of the lane's own, compiled and warm."""
        engines.configure(LANE_JOB_THREADS)
        self._resolved, self._backend = engines.own_backend(self.engine, LANE_JOB_THREADS)
        engines.warm(self.engine, self._backend)

    def ready(self) -> bool:
        return self._ready and not self._closed

    def recent_share(self) -> float:
        """The lane's share of the loop's time over about the last :data:`LANE_WINDOW`."""
        now = time.perf_counter()
        self._busy *= math.exp(-(now - self._since) / LANE_WINDOW)
        self._since = now
        return self._busy / LANE_WINDOW

    def takes(self, task: Task) -> bool:
        """Whether the lane runs ``task`` now: warm, the job tiny, and the lane within its share
        of the loop (else the job goes to the pool, as any job)."""
        return (
            self.ready()
            and self._runs_engine(task.device.engine)
            and is_tiny(task)
            and self.recent_share() < self.share
        )

    def _runs_engine(self, name: str) -> bool:
        same = self._same_engine.get(name)
        if same is None:
            same = self._same_engine[name] = engines.resolve(name) == self._resolved
        return same

    def submit(self, task: Task) -> asyncio.Future[Outcome]:
        """Run ``task`` now (``run_task`` on the lane's backend) and return its ended future."""
        if not self._threads_set and self._resolved == engines.QIBOJIT:
            self._backend.set_threads(LANE_JOB_THREADS)  # numba's count is per calling thread
        self._threads_set = True
        started = time.perf_counter()
        outcome = worker_side.run_task(task, self._backend, self._resolved)
        self.recent_share()
        self._busy += time.perf_counter() - started
        self.jobs += 1
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        future.set_result(outcome)
        return future

    def shutdown(self) -> None:
        """Stop taking jobs (none is ever left running here: each ends inside ``submit``)."""
        self._closed = True


__all__ = [
    "LANE_MAX_QUBITS",
    "LANE_SHARE",
    "LANE_WINDOW",
    "FastLane",
    "is_tiny",
    "job_cost",
]
