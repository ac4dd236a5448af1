"""What every executor is: the interface the runner relies on, and the errors it may raise.

The pool and the Dask executor import this module; the package's ``make_executor`` imports them
(never the other way round).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from qibo_client.server.jobs.worker import Outcome, Task

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


__all__ = [
    "DASK_INSTALL_HINT",
    "DaskUnavailableError",
    "Executor",
    "ExecutorLost",
    "WorkerCrashed",
    "require_dask",
]
