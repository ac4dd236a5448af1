"""The Dask executor (extra ``[dask]``): jobs run on the workers of a Dask distributed cluster.

A lab already running Dask (a ``LocalCluster``, a scheduler on its own machine, Slurm through
dask-jobqueue, Kubernetes) gives the server its workers; the server keeps its queue, its store and
its API, and Dask does the placement. Design points, each for a reason:

- **Our own client.** The executor connects a ``distributed.Client`` of its own to the scheduler
  (given as an address, a ``Client`` or a cluster object): the caller's client is never closed or
  reconnected under them. It is a synchronous client, so Dask's networking runs on a thread of its
  own, never on the server's event loop; results are gathered on that thread's loop and handed to
  the server's loop with ``call_soon_threadsafe``.
- **The queue stays ours, one job ahead per worker thread.** At most ``capacity()`` jobs
  (:data:`AHEAD_PER_SLOT` + 1 per worker thread) are in Dask at once: a job already waiting on the
  cluster starts the moment a thread frees, where one sent only then would leave the worker idle
  for Dask's round trip (about 14 ms here, a Bell job's time many times over). The others wait in
  the runner's queue, where their positions mean something and a cancel is a dict removal; the
  jobs ahead are shown first in line. A worker that dies takes the jobs waiting on it too: Dask
  sends them elsewhere (``distributed.scheduler.allowed-failures``), and once that is spent the
  runner counts a crash for each, as for the job that was running.
- **Warm workers.** :class:`WarmWorker`, a worker plugin, imports qibo, chooses the engine and
  compiles numba's kernels once per worker process, also on workers that join later (and again on
  a new scheduler, where the plugin is registered at each connection).
- **Failures map onto the runner's two kinds.** ``KilledWorker`` (the worker running the job died;
  Dask itself retries ``distributed.scheduler.allowed-failures`` times first) is
  :class:`WorkerCrashed`; a lost scheduler cancels every future ("scheduler-connection-lost"), which
  is :class:`ExecutorLost`: the jobs go back to the queue and slots fall to 0 until the scheduler
  answers again (the same client reconnects, or a new one is made once it gave up).
- **A cancel reaches Dask**: the job's future is cancelled, which releases the task on the
  scheduler (a task already computing finishes on its thread, and its result is dropped).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
from collections.abc import Callable
from typing import Any

import distributed

from qibo_client.server.jobs import engines
from qibo_client.server.jobs import worker as worker_side
from qibo_client.server.jobs.executors.base import ExecutorLost, WorkerCrashed
from qibo_client.server.jobs.worker import Outcome, Task

logger = logging.getLogger("qibo_client.server.jobs.executors.dask")

PLUGIN_NAME = "qibo-client-warm"
#: Seconds to reach the scheduler (at start, and for each attempt after it went away).
CONNECT_TIMEOUT = 10.0
#: How often the executor looks at its connection and at the cluster's size (workers come and go).
WATCH_INTERVAL = 0.5
#: Every this many looks, the worker threads are counted again (one small scheduler call).
RECOUNT_EVERY = 4
#: Jobs held in Dask per worker thread beyond the one it runs.
AHEAD_PER_SLOT = 1


class WarmWorker(distributed.WorkerPlugin):
    """Set up each Dask worker once: qibo imported, engine chosen, numba compiled, qibo quiet.

    ``threads=None``: numba threads per job are the host's cores divided by the worker threads the
    scheduler lists on this host (so several worker processes on one machine do not
    oversubscribe it).
    """

    def __init__(self, threads: int | None = None, engine: str = engines.AUTO) -> None:
        self.threads = threads
        self.engine = engines.check(engine)

    async def setup(self, worker: Any) -> None:
        threads = self.threads
        if threads is None:
            info = await worker.scheduler.identity(n_workers=-1)
            here = [w for w in info.get("workers", {}).values() if w.get("host") == worker.ip]
            threads = engines.default_threads(sum(int(w.get("nthreads", 1)) for w in here) or 1)
        loop = asyncio.get_running_loop()
        # Compiling takes seconds: off the worker's event loop, which must keep its heartbeats.
        await loop.run_in_executor(None, worker_side.warm_worker, threads, self.engine)
        logger.info(
            "worker %s warm (pid %d, %d threads per job)", worker.address, os.getpid(), threads
        )


def _address(target: Any) -> str:
    """The scheduler address of a ``tcp://...`` string, a ``Client`` or a cluster object."""
    if isinstance(target, str):
        return target
    if isinstance(target, distributed.Client):
        address = getattr(target.scheduler, "address", None)
    else:
        address = getattr(target, "scheduler_address", None)
    if isinstance(address, str):
        return address
    raise TypeError(
        "dask must be a scheduler address ('tcp://host:8786'), a distributed.Client or a Dask "
        f"cluster object, not {type(target).__name__}"
    )


class DaskExecutor:
    """Jobs on a Dask cluster, at most as many at once as it has worker threads."""

    def __init__(
        self, target: Any, *, threads: int | None = None, engine: str = engines.AUTO
    ) -> None:
        self.address = _address(target)
        self._plugin = WarmWorker(threads, engine)
        self._client: distributed.Client | None = None
        self._connected = False
        self._slots = 0
        self._recounting = False
        self._inflight: dict[asyncio.Future[Outcome], distributed.Future] = {}
        self._attempts = itertools.count()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._wake: Callable[[], None] = lambda: None
        self._closed = False

    # lifecycle

    async def start(self, wake: Callable[[], None]) -> None:
        """Connect, warm every worker there is, and watch the connection from now on."""
        self._loop = asyncio.get_running_loop()
        self._wake = wake
        try:
            await asyncio.to_thread(self._connect)
        except (TimeoutError, OSError) as err:
            raise RuntimeError(
                f"cannot reach the Dask scheduler at {self.address} ({err}); start it first "
                "(`dask scheduler`) or check the address"
            ) from err
        self._watcher = asyncio.create_task(self._watch(), name="qibo-client-dask-watch")

    def _connect(self) -> None:
        """(In a thread.) A client of our own, the warm-up plugin registered, threads counted."""
        client = self._client
        if client is None or client.status in ("closing", "closed"):
            client = distributed.Client(self.address, timeout=CONNECT_TIMEOUT, set_as_default=False)
            if self._closed:  # stopped while this thread was connecting
                client.close()
                return
            self._client = client
        client.register_plugin(self._plugin, name=PLUGIN_NAME)
        self._slots = sum(client.nthreads().values())
        self._connected = True
        logger.info("Dask scheduler %s: %d worker threads", self.address, self._slots)

    async def _watch(self) -> None:
        """Notice a scheduler gone (jobs back to the queue) or back (warm, then wake the runner)."""
        looks = 0
        while not self._closed:
            await asyncio.sleep(WATCH_INTERVAL)
            looks += 1
            client = self._client
            up = client is not None and client.status == "running"
            try:
                if self._connected and not up:
                    logger.warning(
                        "lost the Dask scheduler %s; jobs go back to the queue", self.address
                    )
                    self._lose_all()
                elif not self._connected and (up or client is None or client.status == "closed"):
                    await asyncio.to_thread(self._connect)
                    logger.warning("Dask scheduler %s is back", self.address)
                    self._wake()
                elif self._connected and looks % RECOUNT_EVERY == 0:
                    await self._recount()
            except Exception as err:  # noqa: BLE001 - the scheduler is still away: look again
                logger.debug("Dask scheduler %s not reachable yet: %r", self.address, err)

    async def _recount(self) -> None:
        """Count the cluster's worker threads again, then let the runner fill the free slots."""
        client = self._client
        try:
            if client is not None:
                self._slots = sum((await asyncio.to_thread(client.nthreads)).values())
        finally:
            self._recounting = False
            self._wake()

    def _recount_soon(self) -> None:
        """After a worker died: send nothing more until the threads are counted again, or the
        jobs queued again would pile onto the survivors (and die with the next crash)."""
        if not self._recounting:
            self._recounting = True
            task = asyncio.get_running_loop().create_task(self._recount())
            task.add_done_callback(lambda done: done.cancelled() or done.exception())

    def _lose_all(self) -> None:
        """The connection is gone: every job in flight is lost (the runner queues them again)."""
        self._connected = False
        lost = list(self._inflight)
        self._inflight.clear()
        for future in lost:
            if not future.done():
                future.set_exception(ExecutorLost(f"lost the Dask scheduler {self.address}"))

    def shutdown(self) -> None:
        """Cancel what is in flight (it runs again at the next start) and close our client."""
        self._closed = True
        futures = list(self._inflight.values())
        self._inflight.clear()
        if self._watcher is not None and self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop may be closed already
                self._loop.call_soon_threadsafe(self._watcher.cancel)
        client, self._client = self._client, None
        if client is not None:
            try:
                if futures and client.status == "running":
                    client.cancel(futures)
                client.close(timeout=5)
            except Exception as err:  # noqa: BLE001 - stopping: a scheduler already gone is fine
                logger.debug("closing the Dask client: %r", err)

    # jobs

    def slots(self) -> int:
        if not self._connected or self._closed:
            return 0
        return min(self._slots, len(self._inflight)) if self._recounting else self._slots

    def capacity(self) -> int:
        """Jobs Dask may hold: one running and :data:`AHEAD_PER_SLOT` waiting per worker thread
        (while a dead worker's threads are counted again, no more than it holds now)."""
        if not self._connected or self._closed:
            return 0
        most = self._slots * (1 + AHEAD_PER_SLOT)
        return min(most, len(self._inflight)) if self._recounting else most

    def submit(self, task: Task) -> asyncio.Future[Outcome]:
        assert self._loop is not None, "submit() before start()"
        outcome: asyncio.Future[Outcome] = self._loop.create_future()
        client = self._client
        if client is None or not self._connected or client.status != "running":
            self._connected = False
            outcome.set_exception(ExecutorLost(f"not connected to {self.address}"))
            return outcome
        key = f"qibo-job-{task.pid}-{next(self._attempts)}"
        future = client.submit(worker_side.run_task, task, key=key, pure=False)
        self._inflight[outcome] = future
        dask_loop = client.loop
        assert dask_loop is not None, "a running client has a loop"
        dask_loop.add_callback(self._follow, client, outcome, future)
        return outcome

    def cancel(self, future: asyncio.Future[Outcome]) -> None:
        """Cancel the job's Dask task (a scheduler call, so on a thread) and end its future."""
        task = self._inflight.pop(future, None)
        if task is not None and self._loop is not None:
            self._loop.run_in_executor(None, task.cancel)
        future.cancel()

    async def _follow(
        self, client: distributed.Client, outcome: asyncio.Future[Outcome], future: Any
    ) -> None:
        """(On the Dask client's own loop.) Wait for the task, fetch its result or classify the
        failure, then settle the job on the server's loop: no thread in between, which matters
        for every job's latency on a busy machine."""
        value: Any
        try:
            kind, value = "ok", await client.gather(future, asynchronous=True)
        except Exception as err:  # noqa: BLE001 - classified by the future's state below
            if future.status == "error":
                kind = "crash" if isinstance(err, distributed.KilledWorker) else "error"
                value = err
            else:  # cancelled when the scheduler went (or by us), or the data was lost
                kind, value = "lost", f"{future.status}: {err!r}"
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: the server stopped
                loop.call_soon_threadsafe(self._settle, outcome, kind, value)

    def _settle(self, outcome: asyncio.Future[Outcome], kind: str, value: Any) -> None:
        if self._inflight.pop(outcome, None) is None or outcome.done():
            return  # cancelled, or already given up with its connection
        if kind == "ok":
            outcome.set_result(value)
        elif kind == "crash":
            self._recount_soon()
            outcome.set_exception(WorkerCrashed(str(value)))
        elif kind == "error":
            outcome.set_exception(value)
        else:
            # Not our cancel (that removed it from _inflight): the connection went (Dask cancels
            # every future then; each comes here) or the task's data was lost. Send nothing more
            # until the watcher has seen the scheduler and registered the plugin on it.
            self._connected = False
            outcome.set_exception(ExecutorLost(f"Dask task {value}"))
