"""Where jobs run: the runner's queue hands each job to an executor, one interface, two kinds.

- :class:`~qibo_client.server.jobs.executors.pool.PoolExecutor` (the default): spawned worker
  processes on this machine, embedded in the server.
- :class:`~qibo_client.server.jobs.executors.dask.DaskExecutor` (extra ``[dask]``): the workers of a
  Dask distributed cluster (a ``LocalCluster``, an existing scheduler, Slurm through dask-jobqueue).

What the runner relies on, whatever the kind (:class:`~.base.Executor`; every method on the event
loop's thread, except ``shutdown``, which may run in a thread of its own):

- ``await start(wake)``: connect and warm the workers; ``wake()`` is called when more slots open
  (a scheduler back, workers joined), so that queued jobs go out without polling.
- ``slots()``: how many jobs run at once now (0 while a scheduler is away); ``capacity()``: how
  many it may hold (``slots()``, or more where a job waiting on a worker hides a round trip). The
  queue, its order and its positions stay the runner's: an executor never holds more than
  ``capacity()`` jobs.
- ``submit(task)``: an ``asyncio.Future`` that ends with the worker's ``Outcome``, or raises
  :class:`WorkerCrashed` (the worker died under the job: count it, run it again once) or
  :class:`ExecutorLost` (the cluster went away: run it again, not the job's fault).
- ``cancel(future)``: stop caring about a job, and stop it where the executor can.
- ``shutdown()``: stop; jobs in flight stay unfinished in the store and run again at next start.
"""

from __future__ import annotations

from typing import Any

from qibo_client.server.jobs.executors.base import (
    DASK_INSTALL_HINT,
    DaskUnavailableError,
    Executor,
    ExecutorLost,
    WorkerCrashed,
    require_dask,
)


def make_executor(
    *, workers: int, dask: Any = None, threads: int | None = None, engine: str = "auto"
) -> Executor:
    """The pool of ``workers`` processes, or, with ``dask`` (an address, a ``distributed.Client``
    or a cluster object), that Dask cluster's workers. ``threads``: numba threads per job (None:
    cores divided by the jobs that run at once); ``engine``: the one workers warm at start."""
    if dask is None:
        from qibo_client.server.jobs.executors.pool import PoolExecutor

        return PoolExecutor(workers, threads=threads, engine=engine)
    require_dask()
    from qibo_client.server.jobs.executors.dask import DaskExecutor

    return DaskExecutor(dask, threads=threads, engine=engine)


__all__ = [
    "DASK_INSTALL_HINT",
    "DaskUnavailableError",
    "Executor",
    "ExecutorLost",
    "WorkerCrashed",
    "make_executor",
    "require_dask",
]
