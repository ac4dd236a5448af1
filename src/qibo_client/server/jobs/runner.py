"""Running jobs: a fair queue in the event loop, handed to an executor (see executors/).

Why this shape:

- **Where jobs run is the executor's business**: the embedded pool of warm worker processes (the
  default) or a Dask cluster's workers. This module keeps what is the same for both: the queue,
  its positions, the waiters, and what a job's end means for the store.
- **Fair order.** The queue is round-robin across users (:mod:`.fair_queue`): one user's batch
  does not hold the others behind it; positions and estimates follow that order.
- **No polling.** Each dispatched job is an ``asyncio.Future`` whose completion runs a callback on
  the event loop, which records the result and wakes whoever waits (``Prefer: wait``, ``?wait=``)
  at once.
- **The queue lives here, the truth in the store.** A job is stored before it reaches the
  runner, and the queue only orders pids: a restart rebuilds it from the store's unfinished jobs,
  so nothing accepted is lost. A worker that dies takes no job with it: the job is queued again,
  once; a job that kills a worker twice ends in ``error``. A cluster that goes away (a Dask
  scheduler) gives its jobs back to the queue, uncounted. Only the current attempt of a job may
  write its end, so nothing is recorded twice.
- **Tiny jobs take the fast lane** (:mod:`.lane`, when the server has one): the job next in the
  fair order runs in this process when its cost is known tiny and the lane has room, else it goes
  to the executor as any job; the queue's order is the same either way.
- **One job ahead per slot** where the executor says so (``capacity()``: Dask, whose own round
  trip between two jobs would leave a worker idle): a job handed out beyond the executor's
  ``slots()`` is shown queued, first in line, and the jobs still here after it.
- Without a lane, the HTTP process never imports qibo: the worker (:mod:`.worker`) receives the
  parsed program (a small frozen dataclass) and builds, seeds and runs the qibo circuit itself, on
  the engine its device names (:mod:`.engines`).
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING

from qibo_client.server.jobs.executors import ExecutorLost, WorkerCrashed
from qibo_client.server.jobs.fair_queue import FairQueue
from qibo_client.server.jobs.worker import Outcome, Task

if TYPE_CHECKING:
    from qibo_client.server.jobs.executors import Executor
    from qibo_client.server.jobs.lane import FastLane

logger = logging.getLogger("qibo_client.server.jobs.runner")

#: How many times a job may take a worker down before it is declared failed.
MAX_CRASHES = 2
#: A running job is expected to take at least this many times what it has run so far: a job that
#: has run for 5 s is no 50 ms job, whatever the recent average says.
RUNNING_STRETCH = 1.5


def time_left(elapsed: float, average: float) -> float:
    """Seconds a job that has run ``elapsed`` seconds still needs, expected."""
    return max(average, elapsed * RUNNING_STRETCH) - elapsed


def start_estimate(
    elapsed: list[float], workers: int, average: float, position: int
) -> float | None:
    """Seconds until the queued job at ``position`` starts (None: never, there are no workers).

    Each worker frees up when its running job (run for ``elapsed`` seconds so far) is expected
    to end; the jobs ahead in the queue then take ``average`` each, on the first worker free.
    """
    if workers <= 0:
        return None
    free = [time_left(seconds, average) for seconds in elapsed]
    free += [0.0] * max(0, workers - len(free))
    heapq.heapify(free)
    for _ in range(max(0, position - 1)):
        heapq.heapreplace(free, free[0] + average)
    return round(max(0.0, free[0]), 3)


class Runner:
    """The queue, in front of an executor. Every method must be called on the event loop's thread
    (``shutdown`` may also run in a thread of its own)."""

    def __init__(
        self,
        workers: int,
        on_outcome: Callable[[Outcome], None],
        executor: Executor | None = None,
        lane: FastLane | None = None,
    ) -> None:
        if executor is None:
            from qibo_client.server.jobs.executors.pool import PoolExecutor

            executor = PoolExecutor(workers)
        self.workers = workers
        self._executor = executor
        self._lane = lane
        self._on_outcome = on_outcome
        self._queue: FairQueue[Task] = FairQueue()
        #: pid -> the user a queued or running job belongs to (its lane if it is queued again).
        self._owners: dict[str, Hashable] = {}
        #: Every job in flight (the executor's and the lane's), and of those the executor's, in
        #: the order they were handed out (the first ``slots()`` run, the rest wait ahead).
        self._running: dict[str, asyncio.Future[Outcome]] = {}
        self._handed: OrderedDict[str, None] = OrderedDict()
        self._started: dict[str, float] = {}
        self._cancelled: set[str] = set()
        self._crashes: dict[str, int] = {}
        self._waiters: dict[str, asyncio.Event] = {}
        self._avg_runtime = 0.05
        self._closed = False

    # lifecycle

    async def start(self) -> None:
        """Start the executor (workers warm, cluster reached) and the lane, then run what is
        queued."""
        if self._lane is None:
            await self._executor.start(self._pump)
        else:
            await asyncio.gather(self._executor.start(self._pump), self._lane.start())
        self._pump()

    def shutdown(self) -> None:
        """Stop the executor. Jobs still queued or running stay unfinished in the store."""
        self._closed = True
        self._executor.shutdown()
        if self._lane is not None:
            self._lane.shutdown()
        for event in self._waiters.values():
            event.set()

    # queue

    def submit(self, task: Task, owner: Hashable = None) -> None:
        """Queue ``task`` last in ``owner``'s lane (a user id; None: one shared lane, FIFO)."""
        self._queue.push(task.pid, task, owner)
        self._owners[task.pid] = owner
        self._pump()

    def cancel(self, pid: str) -> None:
        """Forget a job: drop it from the queue, or discard its result when it comes back."""
        if self._queue.remove(pid) is not None:
            self._owners.pop(pid, None)
        elif pid in self._running:
            self._cancelled.add(pid)
            if pid in self._handed:  # a lane job is tiny: its result is dropped when it comes
                self._executor.cancel(self._running[pid])
        self._wake(pid)

    def is_running(self, pid: str) -> bool:
        """In the lane, or handed to the executor within its slots (not waiting ahead)."""
        return pid in self._running and self._ahead_position(pid) is None

    def _ahead_position(self, pid: str) -> int | None:
        """The place of a job handed to the executor beyond its slots (None: not such a job)."""
        if pid not in self._handed:
            return None
        slots = self._executor.slots()
        for index, handed in enumerate(self._handed):
            if handed == pid:
                return None if index < slots else index - slots + 1
        return None

    def is_pending(self, pid: str) -> bool:
        """Queued or running here: its end is still to come (and will wake :meth:`wait`)."""
        return pid in self._queue or pid in self._running

    def position(self, pid: str) -> int | None:
        """1 for the next job to start, in the fair order; None if not queued (running or
        unknown). Jobs handed to the executor ahead of a free slot come first."""
        ahead = self._ahead_position(pid)
        if ahead is not None:
            return ahead
        queued = self._queue.position(pid)
        if queued is None:
            return None
        return max(0, len(self._handed) - self._executor.slots()) + queued

    def start_seconds(self, position: int | None) -> float | None:
        """Estimated seconds until the queued job at ``position`` starts (:func:`start_estimate`,
        with the recent average runtime)."""
        now = time.perf_counter()
        running = [pid for pid in self._handed if self.is_running(pid)]
        elapsed = [now - self._started.get(pid, now) for pid in running]
        return start_estimate(elapsed, self._executor.slots(), self._avg_runtime, position or 1)

    def etd_seconds(self, pid: str, position: int | None) -> float | None:
        """Estimated seconds until the job ends (None: it cannot run, there are no workers)."""
        if self.is_running(pid):
            elapsed = time.perf_counter() - self._started.get(pid, time.perf_counter())
            return round(max(0.0, time_left(elapsed, self._avg_runtime)), 3)
        start = self.start_seconds(position)
        return None if start is None else round(start + self._avg_runtime, 3)

    async def wait(self, pid: str, timeout: float) -> None:
        """Return when ``pid`` ends or after ``timeout`` seconds, whichever is first."""
        event = self._waiters.get(pid)
        if event is None:
            event = self._waiters[pid] = asyncio.Event()
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            if self._waiters.get(pid) is event and event.is_set():
                del self._waiters[pid]

    def _wake(self, pid: str) -> None:
        event = self._waiters.pop(pid, None)
        if event is not None:
            event.set()

    def _pump(self) -> None:
        """Hand queued jobs out in the fair order: a tiny one to the lane while it has room, any
        to the executor while it has capacity; stop at the first job that has nowhere to go."""
        while not self._closed and self._queue:
            pid, task = self._queue.peek()
            if self._lane is not None and self._lane.takes(task):
                future = self._lane.submit(task)
            elif len(self._handed) < self._executor.capacity():
                future = self._executor.submit(task)
                self._handed[pid] = None
            else:
                break
            self._queue.pop()
            self._running[pid] = future
            started = self._started[pid] = time.perf_counter()
            future.add_done_callback(functools.partial(self._done, task, started))

    def _done(self, task: Task, started: float, done: asyncio.Future[Outcome]) -> None:
        if self._running.get(task.pid) is not done:
            return  # not the job's current attempt: it cannot write the job's end
        del self._running[task.pid]
        self._handed.pop(task.pid, None)
        self._started.pop(task.pid, None)
        owner = self._owners.pop(task.pid, None)
        if self._closed:
            return
        if done.cancelled():  # cancelled by us (``cancel``): nothing to record
            self._cancelled.discard(task.pid)
            self._crashes.pop(task.pid, None)
        else:
            error = done.exception()
            if isinstance(error, WorkerCrashed):
                self._crashed(task, owner)
            elif isinstance(error, ExecutorLost):
                self._requeue(task, owner, "its cluster went away")
            elif error is not None:
                # Not the circuit's fault (caught in the worker): e.g. an unpicklable result.
                logger.error("job %s: worker error", task.pid, exc_info=error)
                self._finish(Outcome(task.pid, ok=False, stderr=f"internal error: {error!r}"))
            else:
                elapsed = time.perf_counter() - started
                self._avg_runtime = 0.8 * self._avg_runtime + 0.2 * elapsed
                outcome = done.result()
                logger.debug("job %s ran on %s (%s)", task.pid, outcome.worker, outcome.engine)
                self._finish(outcome)
        self._pump()

    def _requeue(self, task: Task, owner: Hashable, why: str) -> None:
        """Put a job back at the head of the queue, unless it was cancelled meanwhile."""
        if task.pid in self._cancelled:
            self._cancelled.discard(task.pid)
            self._crashes.pop(task.pid, None)
            self._wake(task.pid)
            return
        logger.warning("job %s: %s; queued again", task.pid, why)
        self._queue.push_front(task.pid, task, owner)
        self._owners[task.pid] = owner

    def _crashed(self, task: Task, owner: Hashable) -> None:
        crashes = self._crashes.get(task.pid, 0) + 1
        self._crashes[task.pid] = crashes
        if crashes >= MAX_CRASHES:
            logger.error("job %s crashed a worker %d times; giving up", task.pid, crashes)
            reason = "the worker process running this job died (out of memory?)"
            self._finish(Outcome(task.pid, ok=False, stderr=reason))
        else:
            self._requeue(task, owner, "its worker died")

    def _finish(self, outcome: Outcome) -> None:
        self._crashes.pop(outcome.pid, None)
        if outcome.pid in self._cancelled:
            self._cancelled.discard(outcome.pid)
        else:
            self._on_outcome(outcome)
        self._wake(outcome.pid)


__all__ = ["MAX_CRASHES", "Outcome", "Runner", "Task", "start_estimate", "time_left"]
