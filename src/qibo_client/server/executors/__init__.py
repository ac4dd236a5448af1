"""Where jobs run: the runner's queue hands each job to an executor, one interface, two kinds.

- :class:`~qibo_client.server.executors.pool.PoolExecutor` (the default): spawned worker processes
  on this machine, embedded in the server.
- :class:`~qibo_client.server.executors.dask.DaskExecutor` (extra ``[dask]``): the workers of a Dask
  distributed cluster (a ``LocalCluster``, an existing scheduler, Slurm through dask-jobqueue).

What the runner relies on, whatever the kind (every method on the event loop's thread, except
``shutdown``, which may run in a thread of its own):

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

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from qibo_client.server.worker import Outcome, Task

DASK_INSTALL_HINT = 'pip install "qibo-client[dask]"'


class WorkerCrashed(Exception):
    """The worker process running a job died (killed, out of memory): not the circuit's fault."""


class ExecutorLost(Exception):
    """The executor lost a job it had accepted (a scheduler went away): the job should run again."""


class DaskUnavailableError(ImportError):
    """The Dask executor was asked for, but ``dask.distributed`` is not installed."""


class Executor(Protocol):
    async def start(self, wake: Callable[[], None]) -> None: ...

    def slots(self) -> int: ...

    def capacity(self) -> int: ...

    def submit(self, task: Task) -> asyncio.Future[Outcome]: ...

    def cancel(self, future: asyncio.Future[Outcome]) -> None: ...

    def shutdown(self) -> None: ...


def require_dask() -> None:
    """Raise :class:`DaskUnavailableError`, saying what to install, if distributed is missing."""
    try:
        import distributed  # noqa: F401
    except ImportError as err:
        raise DaskUnavailableError(
            f"running jobs on a Dask cluster needs dask.distributed: {DASK_INSTALL_HINT} ({err})"
        ) from err


def make_executor(
    *, workers: int, dask: Any = None, threads: int | None = None, engine: str = "auto"
) -> Executor:
    """The pool of ``workers`` processes, or, with ``dask`` (an address, a ``distributed.Client``
    or a cluster object), that Dask cluster's workers. ``threads``: numba threads per job (None:
    cores divided by the jobs that run at once); ``engine``: the one workers warm at start."""
    if dask is None:
        from qibo_client.server.executors.pool import PoolExecutor

        return PoolExecutor(workers, threads=threads, engine=engine)
    require_dask()
    from qibo_client.server.executors.dask import DaskExecutor

    return DaskExecutor(dask, threads=threads, engine=engine)
