"""The simulators' runner and one runner per qibolab platform, behind the one runner interface.

Why a group rather than one queue: a platform runs one job at a time (it connects to its
instruments around each execution), so its jobs must not wait behind simulations, nor a
simulation behind a platform that is busy. Each platform therefore gets a
:class:`~qibo_client.server.jobs.runner.Runner` of its own with a single worker process (see
:func:`platform_runner`); the group sends a job to its device's runner and asks each runner about
its own jobs. Everything else (queue positions, cancel, crashes counted and retried once, jobs
given back at restart) is the runner's, the same for every device.

The group answers what the server asks a runner (:class:`~qibo_client.server.state.ServerState`,
the routes, the answers), every method on the event loop's thread as for a runner.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Mapping

from qibo_client.server.jobs import engines
from qibo_client.server.jobs.runner import Runner
from qibo_client.server.jobs.worker import Outcome, Task


def platform_runner(workers: int, on_outcome: Callable[[Outcome], None]) -> Runner:
    """A platform's runner: one warm worker process of its own (none with ``workers=0``, which
    queues jobs without running them, as for the simulators)."""
    from qibo_client.server.jobs.executors.pool import PoolExecutor

    slots = 1 if workers > 0 else 0
    return Runner(slots, on_outcome, PoolExecutor(slots, threads=1, engine=engines.QIBOLAB))


class RunnerGroup:
    """``main`` runs every device not in ``by_device``; each of those runs on its own runner."""

    def __init__(self, main: Runner, by_device: Mapping[str, Runner]) -> None:
        self.main = main
        self.by_device = dict(by_device)
        self.workers = main.workers
        self._all = [main, *self.by_device.values()]

    def runner_for(self, device: str) -> Runner:
        return self.by_device.get(device, self.main)

    def _holding(self, pid: str) -> Runner:
        """The runner that has ``pid`` queued or running (the main one if none has)."""
        return next((runner for runner in self._all if runner.is_pending(pid)), self.main)

    # lifecycle

    async def start(self) -> None:
        await asyncio.gather(*(runner.start() for runner in self._all))

    def shutdown(self) -> None:
        for runner in self._all:
            runner.shutdown()

    # queue

    def submit(self, task: Task, owner: Hashable = None) -> None:
        """Queue ``task`` in its device's runner, in ``owner``'s lane (fair sharing per runner)."""
        self.runner_for(task.device.name).submit(task, owner)

    def cancel(self, pid: str) -> None:
        self._holding(pid).cancel(pid)

    def is_running(self, pid: str) -> bool:
        return any(runner.is_running(pid) for runner in self._all)

    def is_pending(self, pid: str) -> bool:
        return any(runner.is_pending(pid) for runner in self._all)

    def position(self, pid: str) -> int | None:
        return self._holding(pid).position(pid)

    def start_seconds(self, position: int | None) -> float | None:
        """The simulators' estimate (the official job shape asks by position alone)."""
        return self.main.start_seconds(position)

    def etd_seconds(self, pid: str, position: int | None) -> float | None:
        return self._holding(pid).etd_seconds(pid, position)

    async def wait(self, pid: str, timeout: float) -> None:
        await self._holding(pid).wait(pid, timeout)


__all__ = ["RunnerGroup", "platform_runner"]
