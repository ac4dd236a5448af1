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
- The HTTP process never imports qibo: the worker (:mod:`.worker`) receives the parsed program (a
  small frozen dataclass) and builds, seeds and runs the qibo circuit itself.
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import logging
import multiprocessing
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from qibo_client.server.worker import Outcome, Task, ping, run_task, warm_worker

logger = logging.getLogger("qibo_client.server.runner")

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
    """The queue and the pool. Every method must be called on the event loop's thread."""

    def __init__(self, workers: int, on_outcome: Callable[[Outcome], None]) -> None:
        self.workers = workers
        self._on_outcome = on_outcome
        self._queue: OrderedDict[str, Task] = OrderedDict()
        self._running: dict[str, Task] = {}
        self._started: dict[str, float] = {}
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

    def start_seconds(self, position: int | None) -> float | None:
        """Estimated seconds until the queued job at ``position`` starts (:func:`start_estimate`,
        with the recent average runtime)."""
        now = time.perf_counter()
        elapsed = [now - self._started.get(pid, now) for pid in self._running]
        return start_estimate(elapsed, self.workers, self._avg_runtime, position or 1)

    def etd_seconds(self, pid: str, position: int | None) -> float | None:
        """Estimated seconds until the job ends (None: it cannot run, there are no workers)."""
        if pid in self._running:
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
            started = self._started[pid] = time.perf_counter()
            wrapped = asyncio.wrap_future(future)
            wrapped.add_done_callback(functools.partial(self._done, task, started))

    def _done(self, task: Task, started: float, done: asyncio.Future[Outcome]) -> None:
        self._running.pop(task.pid, None)
        self._started.pop(task.pid, None)
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


__all__ = ["MAX_CRASHES", "Outcome", "Runner", "Task", "start_estimate", "time_left"]
