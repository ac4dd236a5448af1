"""The default executor: a pool of warm worker processes on this machine, embedded in the server.

- **Processes, not threads.** A 20-qubit simulation holds the CPU for seconds; in a worker process
  it never blocks the HTTP side. Workers are started with ``spawn`` (no copy of the server's
  sockets, threads or SQLite handle; no import of the user's main module, so a server starts from
  an unguarded script, ``python -`` or a notebook: :mod:`..spawning`) and each imports qibo,
  chooses its engine and compiles what numba needs at start
  (:func:`~qibo_client.server.jobs.runner.warm_worker`), so the first real job pays none of it.
- **No polling.** Each job's ``concurrent.futures`` future is wrapped with
  :func:`asyncio.wrap_future`; its end runs a callback on the event loop.
- **A dead worker takes no job with it.** ``BrokenProcessPool`` becomes :class:`WorkerCrashed` for
  every job it broke, and the pool is rebuilt once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from qibo_client.server.jobs import engines
from qibo_client.server.jobs import worker as worker_side
from qibo_client.server.jobs.executors.base import WorkerCrashed
from qibo_client.server.jobs.worker import Outcome, Task
from qibo_client.server.spawning import worker_context

logger = logging.getLogger("qibo_client.server.jobs.executors.pool")


class PoolExecutor:
    """``workers`` spawned processes; ``workers=0`` accepts jobs and runs none."""

    def __init__(self, workers: int, *, threads: int | None = None, engine: str = "auto") -> None:
        self.workers = workers
        self.threads = threads if threads is not None else engines.default_threads(workers)
        self.engine = engines.check(engine)
        self._pool: ProcessPoolExecutor | None = None
        self._closed = False

    async def start(self, wake: Callable[[], None]) -> None:
        """Start the pool and wait until every worker is warm (so the first job is fast)."""
        if self.workers <= 0:
            return
        self._pool = self._new_pool()
        try:
            pings = [self._pool.submit(worker_side.ping) for _ in range(self.workers)]
            await asyncio.gather(*(asyncio.wrap_future(ping) for ping in pings))
        except BrokenProcessPool as err:
            self.shutdown()
            raise RuntimeError(
                "the simulation workers died while starting: check that qibo imports "
                "in this environment (python -c 'import qibo')"
            ) from err

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.workers,
            # spawn, without re-importing the user's main module (see spawning.py)
            mp_context=worker_context(),
            initializer=worker_side.warm_worker,
            initargs=(self.threads, self.engine),
        )

    def slots(self) -> int:
        return self.workers if self._pool is not None and not self._closed else 0

    def capacity(self) -> int:
        """One job per worker: the pool's hand-off is a local pipe (a fraction of a millisecond),
        so a worker idles little between two jobs, and a queued job's cancel stays a dict
        removal in the runner."""
        return self.slots()

    def submit(self, task: Task) -> asyncio.Future[Outcome]:
        assert self._pool is not None, "submit() before start() or after shutdown()"
        try:
            future: Future[Outcome] = self._pool.submit(worker_side.run_task, task)
        except BrokenProcessPool:
            self._rebuild()
            future = self._pool.submit(worker_side.run_task, task)
        outcome: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        asyncio.wrap_future(future).add_done_callback(lambda done: self._settle(outcome, done))
        return outcome

    def _settle(self, outcome: asyncio.Future[Outcome], done: asyncio.Future[Outcome]) -> None:
        if outcome.done():
            return
        if done.cancelled():
            outcome.cancel()
            return
        error = done.exception()
        if isinstance(error, BrokenProcessPool):
            self._rebuild()
            outcome.set_exception(WorkerCrashed(str(error)))
        elif error is not None:
            outcome.set_exception(error)
        else:
            outcome.set_result(done.result())

    def cancel(self, future: asyncio.Future[Outcome]) -> None:
        """A process cannot be interrupted mid-job: the runner discards the result when it comes."""

    def _rebuild(self) -> None:
        broken = self._pool
        if broken is None or self._closed:
            return
        # Several futures fail with the same broken pool: rebuild it only once. (``_broken`` is
        # the pool's own flag; the standard library offers no public one.)
        if getattr(broken, "_broken", False):
            broken.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()

    def shutdown(self) -> None:
        """Stop the workers now. Jobs they were running stay unfinished and run again at start."""
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is not None:
            # A running simulation may take minutes; it will run again at the next start, so the
            # workers are stopped now rather than waited for. (The process table is private API.)
            for process in list(getattr(pool, "_processes", {}).values()):
                process.terminate()
            pool.shutdown(wait=True, cancel_futures=True)
