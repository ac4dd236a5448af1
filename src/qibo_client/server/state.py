"""What every request shares: the configuration, the store, the runner, the users, the devices.

One :class:`ServerState` per running app, made in the app's lifespan and kept in
``app.state.server`` (nowhere else); routes receive it through :data:`.deps.State`. It is also the
one place that joins the store and the runner: the runner's callback writes a job's end here, and
waiting for a job (``Prefer: wait``, ``?wait=``) reads the store again once the runner says so.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qibo_client.protocol import (
    DEFAULT_TEMPLATES_PER_USER,
    TERMINAL_STATUSES,
    Status,
)
from qibo_client.server.accounts import AccountSpec, User
from qibo_client.server.api.checks import parse_circuit
from qibo_client.server.devices import DEFAULT_DEVICES, DeviceTable
from qibo_client.server.jobs import stages
from qibo_client.server.jobs.engines import QIBOLAB
from qibo_client.server.jobs.executors import make_executor
from qibo_client.server.jobs.lane import FastLane
from qibo_client.server.jobs.quotas import QuotaLimits
from qibo_client.server.jobs.runner import Runner
from qibo_client.server.jobs.runner_group import RunnerGroup, platform_runner
from qibo_client.server.jobs.store import Store
from qibo_client.server.jobs.templates import TemplateBook
from qibo_client.server.jobs.worker import Outcome, Task
from qibo_client.server.profiles import DEFAULT, Profile
from qibo_client.versions import qibo_version


@dataclass
class ServerConfig:
    """Everything a server instance is made of; ``local_cluster`` and ``serve`` both build one."""

    db_path: str | Path
    workers: int = 1
    accounts: list[AccountSpec] = field(default_factory=list)
    devices: DeviceTable = DEFAULT_DEVICES
    max_body_bytes: int = 1 << 20
    max_queued_per_user: int = 10_000
    #: ``profiles.DEFAULT`` (our protocol) or ``profiles.TII`` (the real service, as known).
    profile: Profile = DEFAULT
    quotas: QuotaLimits = field(default_factory=QuotaLimits)
    #: None: the embedded pool of ``workers`` processes; else a Dask scheduler's address, a
    #: ``distributed.Client`` or a Dask cluster object (see executors/).
    dask: Any = None
    #: numba threads per job; None: the cores divided by the jobs that run at once.
    threads: int | None = None
    #: Templates kept per user, least recently used out.
    templates_per_user: int = DEFAULT_TEMPLATES_PER_USER
    #: Least seconds a job shows each of queueing, pending, running and postprocessing (a job
    #: that lives like one on TII's service, for benchmarks and tests; see :mod:`.jobs.stages`).
    #: 0: off, jobs show their real progress only.
    stage_seconds: float = 0.0
    #: Simulate tiny jobs in the server process (lane.py) beside the pool or Dask. On for
    #: ``qibo-client serve``; ``local_cluster`` turns it off unless asked, as the process is the
    #: user's own (the lane seeds numpy's global generator). Never without workers or Dask:
    #: ``workers=0`` means no job runs.
    fast_lane: bool = True


class ServerState:
    """The store, the runner, the users and the devices of one running server.

    Every method runs on the event loop's thread (the store's connection and the runner's queue
    live there).
    """

    runner: Runner | RunnerGroup

    def __init__(
        self,
        config: ServerConfig,
        make_runner: Callable[[int, Callable[[Outcome], None]], Runner] | None = None,
    ) -> None:
        self.config = config
        self.profile = config.profile
        self.quota_limits = config.quotas
        self.devices = config.devices
        #: Called with each job's outcome once it is stored (the metrics listen here).
        self.finish_listeners: list[Callable[[Outcome], None]] = []
        #: Finished jobs already shown once as ``postprocessing`` (the ``tii`` profile only).
        self._postprocessed: set[str] = set()
        self.qibo_version = qibo_version()
        self.store = Store(config.db_path)
        for spec in config.accounts:
            self.store.upsert_user(spec)
        #: The users' templates; None when the server does not offer the extension.
        self.templates = (
            TemplateBook(self.store, config.templates_per_user)
            if config.profile.templates
            else None
        )
        if make_runner is None:
            executor = make_executor(
                workers=config.workers,
                dask=config.dask,
                threads=config.threads,
                engine=next(iter(config.devices)).engine,
            )
            self.runner = Runner(config.workers, self.record, executor, self._lane_for(config))
        else:
            self.runner = make_runner(config.workers, self.record)
        platforms = [device.name for device in config.devices if device.engine == QIBOLAB]
        if platforms:  # each qibolab platform: a queue and a worker of its own
            self.runner = RunnerGroup(
                self.runner,
                {name: platform_runner(config.workers, self.record) for name in platforms},
            )

    @staticmethod
    def _lane_for(config: ServerConfig) -> FastLane | None:
        if not config.fast_lane or (config.workers <= 0 and config.dask is None):
            return None
        return FastLane(next(iter(config.devices)).engine)

    def add_user(self, spec: AccountSpec) -> None:
        """Create (or update) a user while serving."""
        self.store.upsert_user(spec)

    def user_for(self, token: str) -> User | None:
        """The active user a token belongs to, or None (the store reads accounts again when
        another process changed them: ``qibo-client serve users``)."""
        return self.store.user_for(token)

    def record(self, outcome: Outcome) -> None:
        """The runner's callback: write a job's end to the store (one transaction)."""
        self.store.finish_job(
            outcome.pid,
            status=Status.SUCCESS.value if outcome.ok else Status.ERROR.value,
            frequencies_json=outcome.frequencies_json,
            runtime=outcome.runtime,
            stdout=outcome.stdout,
            stderr=outcome.stderr,
            engine=outcome.engine,
            collapse_outcomes_json=outcome.collapse_outcomes_json,
        )
        for listener in self.finish_listeners:
            listener(outcome)

    def requeue_unfinished(self) -> int:
        """At start: give every job accepted but not finished to the runner again, oldest first."""
        count = 0
        for row in self.store.unfinished_jobs():
            try:
                device = self.devices.get(row["device"])
                stored = json.loads(row["circuit"])
                program: Any
                if isinstance(stored, dict) and "template" in stored:
                    if self.templates is None:
                        raise ValueError("this server no longer takes templates")
                    program = self.templates.rerun(row["user_id"], stored)
                else:
                    program = device.check_program(
                        parse_circuit(stored), verbatim=bool(row["verbatim"])
                    )
            except ValueError as err:
                self.store.finish_job(
                    row["pid"], status=Status.ERROR.value, stderr=f"cannot rerun: {err}"
                )
                continue
            task = Task(
                row["pid"],
                program,
                row["nshots"],
                device,
                bool(row["verbatim"]),
                row["seed"],
            )
            self.runner.submit(task, row["user_id"])
            count += 1
        return count

    def live_status(self, row: sqlite3.Row) -> str:
        """The stored status, or ``running`` while a worker has the job (never written); held
        back to its timed stage where ``stage_seconds`` is set."""
        status: str = row["status"]
        if status not in TERMINAL_STATUSES and self.runner.is_running(row["pid"]):
            status = Status.RUNNING.value
        if self.config.stage_seconds:
            return stages.staged(status, row["created_at"], self.config.stage_seconds)
        return status

    def shown_status(self, row: sqlite3.Row) -> tuple[str, int | None]:
        """The status a job object shows, and the job's queue position (None: not queued).

        The ``tii`` profile shows a job next in line as ``pending`` and a finished one as
        ``postprocessing`` the first time it is read after it ended, as the real service passes
        through those states. Where ``stage_seconds`` is set, the timed stages
        (:mod:`.jobs.stages`) replace that first read.
        """
        status, position = self._progress(row)
        if self.config.stage_seconds:
            shown = stages.staged(status, row["created_at"], self.config.stage_seconds)
            return shown, position if shown == status else None
        pid = row["pid"]
        first_read = self.profile.official_shapes and pid not in self._postprocessed
        if status in TERMINAL_STATUSES and first_read:
            if len(self._postprocessed) > 100_000:  # a bound, for a server that runs for long
                self._postprocessed.clear()
            self._postprocessed.add(pid)
            return Status.POSTPROCESSING.value, None
        return status, position

    def _progress(self, row: sqlite3.Row) -> tuple[str, int | None]:
        """The job's real status (``pending`` next in line on the ``tii`` profiles) and queue
        position."""
        status: str = row["status"]
        pid = row["pid"]
        if status in TERMINAL_STATUSES:
            return status, None
        if self.runner.is_running(pid):
            return Status.RUNNING.value, 0
        position = self.runner.position(pid)
        if self.profile.official_shapes and position == 1:
            return Status.PENDING.value, position
        return status, position

    async def rows_when_done(
        self, pids: list[str], user: User, wait: float, *, just_queued: bool = False
    ) -> list[sqlite3.Row | None]:
        """The jobs' rows once all are terminal or ``wait`` seconds passed (None: deleted).

        ``just_queued``: the caller has just queued these jobs, so the runner alone says which
        have not ended, and each row is read once, at the end (the read before waiting was a
        tenth of a held POST's CPU in the HTTP process).
        """
        deadline = time.monotonic() + wait
        store = self.store
        if just_queued:
            for pid in pids:
                remaining = deadline - time.monotonic()
                # No await between the check and ``runner.wait``: an end cannot slip in between.
                if remaining > 0 and self.runner.is_pending(pid):
                    await self.runner.wait(pid, remaining)
            return [store.get_job(pid, user.id) for pid in pids]
        rows = [store.get_job(pid, user.id) for pid in pids]
        for index, pid in enumerate(pids):
            row = rows[index]
            if row is None or row["status"] in TERMINAL_STATUSES:
                continue
            if index:  # it may have ended while an earlier one was awaited: read it again
                row = rows[index] = store.get_job(pid, user.id)
            remaining = deadline - time.monotonic()
            # No await between the read and ``runner.wait``: an end cannot slip in between.
            if row is not None and row["status"] not in TERMINAL_STATUSES and remaining > 0:
                await self.runner.wait(pid, remaining)
                rows[index] = store.get_job(pid, user.id)
        if self.config.stage_seconds:
            await self._until_staged(rows, deadline)
        return rows

    async def _until_staged(self, rows: list[sqlite3.Row | None], deadline: float) -> None:
        """Hold a wait until its ended jobs have passed their timed stages (or the deadline):
        a held request is answered when the job it shows ends, as without stages."""
        left = max(
            (
                stages.time_left(row["created_at"], self.config.stage_seconds)
                for row in rows
                if row is not None and row["status"] in TERMINAL_STATUSES
            ),
            default=0.0,
        )
        pause = min(left + stages.SETTLE_SECONDS, deadline - time.monotonic())
        if left > 0 and pause > 0:
            await asyncio.sleep(pause)


__all__ = ["QuotaLimits", "ServerConfig", "ServerState"]
