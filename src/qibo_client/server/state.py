"""What every request shares: the configuration, the store, the runner, the users, the devices.

One :class:`ServerState` per running app, made in the app's lifespan and kept in
``app.state.server`` (nowhere else); routes receive it through :data:`.deps.State`. It is also the
one place that joins the store and the runner: the runner's callback writes a job's end here, and
waiting for a job (``Prefer: wait``, ``?wait=``) reads the store again once the runner says so.
"""

from __future__ import annotations

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
from qibo_client.server.accounts import AccountSpec, User, digests_match, token_digest
from qibo_client.server.checks import parse_circuit
from qibo_client.server.devices import DEFAULT_DEVICES, DeviceTable
from qibo_client.server.executors import make_executor
from qibo_client.server.lane import FastLane
from qibo_client.server.profiles import DEFAULT, Profile
from qibo_client.server.runner import Runner
from qibo_client.server.store import Store
from qibo_client.server.templates import TemplateBook
from qibo_client.server.worker import Outcome, Task
from qibo_client.versions import qibo_version


@dataclass(frozen=True)
class QuotaLimits:
    """What ``/api/projectquotas/`` reports per (project, device); the reference server counts
    but does not enforce them."""

    seconds: float = 86_400.0
    shots: int = 1_000_000_000
    walltime_seconds: float = 3_600.0


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

    def __init__(
        self,
        config: ServerConfig,
        make_runner: Callable[[int, Callable[[Outcome], None]], Runner] | None = None,
    ) -> None:
        self.config = config
        self.profile = config.profile
        self.quota_limits = config.quotas
        self.devices = config.devices
        #: Finished jobs already shown once as ``postprocessing`` (the ``tii`` profile only).
        self._postprocessed: set[str] = set()
        self.qibo_version = qibo_version()
        self.store = Store(config.db_path)
        for spec in config.accounts:
            self.store.upsert_user(spec)
        self._users = self.store.users_by_digest()
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

    @staticmethod
    def _lane_for(config: ServerConfig) -> FastLane | None:
        if not config.fast_lane or (config.workers <= 0 and config.dask is None):
            return None
        return FastLane(next(iter(config.devices)).engine)

    def add_user(self, spec: AccountSpec) -> None:
        """Create (or update) a user while serving."""
        self.store.upsert_user(spec)
        self._users = self.store.users_by_digest()

    def user_for(self, token: str) -> User | None:
        """The user a token belongs to, or None (compared in constant time)."""
        digest = token_digest(token)
        entry = self._users.get(digest)
        if entry is None or not digests_match(digest, entry[0]):
            return None
        return entry[1]

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
        )

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
            self.runner.submit(task)
            count += 1
        return count

    def live_status(self, row: sqlite3.Row) -> str:
        """The stored status, or ``running`` while a worker has the job (never written)."""
        status: str = row["status"]
        if status not in TERMINAL_STATUSES and self.runner.is_running(row["pid"]):
            return Status.RUNNING.value
        return status

    def shown_status(self, row: sqlite3.Row) -> tuple[str, int | None]:
        """The status a job object shows, and the job's queue position (None: not queued).

        The ``tii`` profile shows a job next in line as ``pending`` and a finished one as
        ``postprocessing`` the first time it is read after it ended, as the real service passes
        through those states.
        """
        status: str = row["status"]
        pid = row["pid"]
        if status in TERMINAL_STATUSES:
            if self.profile.official_shapes and pid not in self._postprocessed:
                if len(self._postprocessed) > 100_000:  # a bound, for a server that runs for long
                    self._postprocessed.clear()
                self._postprocessed.add(pid)
                return Status.POSTPROCESSING.value, None
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
        return rows


__all__ = ["QuotaLimits", "ServerConfig", "ServerState"]
