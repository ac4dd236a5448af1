"""The Dask executor against a real Dask cluster on loopback (processes, two one-thread workers).

Kept few and quick: one ``LocalCluster`` for the module; only the scheduler-restart test starts a
scheduler and a worker of its own (as processes, so that they can be killed). Every wait is on a
condition with a deadline, never a sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

distributed = pytest.importorskip("distributed")

from server_helpers import BELL, session_for  # noqa: E402

from qibo_client.server import local_cluster  # noqa: E402
from qibo_client.server.circuits.qasm_parser import parse_qasm  # noqa: E402
from qibo_client.server.devices import SIM  # noqa: E402
from qibo_client.server.jobs.executors.dask import DaskExecutor  # noqa: E402
from qibo_client.server.jobs.runner import Outcome, Runner, Task  # noqa: E402
from qibo_client.server.jobs.store import NewJob  # noqa: E402

HERE = Path(__file__).resolve().parent
SRC = HERE.parent.parent / "src"
DEADLINE = 60.0


# -- programs that misbehave on purpose (imported by the workers, so at module level) -------------


class Gate:
    """Blocks its worker thread until the test writes to a named pipe, then runs a Bell pair."""

    nqubits = 2

    def __init__(self, fifo: str) -> None:
        self.fifo = fifo

    def to_circuit(self) -> Any:
        with open(self.fifo, "rb") as pipe:  # blocks until the test opens the other end
            pipe.read()
        return parse_qasm(BELL).to_circuit()

    def qibo_initial_state(self) -> None:
        return None


class KillOnce:
    """Kills its worker the first time it runs (a marker file remembers), then runs a Bell pair."""

    nqubits = 2

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def to_circuit(self) -> Any:
        if not os.path.exists(self.marker):
            Path(self.marker).touch()
            os._exit(3)
        return parse_qasm(BELL).to_circuit()

    def qibo_initial_state(self) -> None:
        return None


def open_gate(fifo: str) -> None:
    with open(fifo, "wb") as pipe:  # blocks until a worker has opened the pipe
        pipe.write(b"go")


# -- fixtures and helpers ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dask_cluster() -> Iterator[Any]:
    """Two one-thread worker processes; a worker death fails its task at once (allowed-failures 0),
    so that the server's own rule (a job that kills a worker twice ends in error) is what counts."""
    import dask

    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
    ):
        yield cluster


@pytest.fixture(scope="module")
def dask_client(dask_cluster: Any) -> Iterator[Any]:
    with distributed.Client(dask_cluster, set_as_default=False) as client:
        yield client


class Recorder:
    """The runner's outcome callback, with a way to wait for a condition on what it received."""

    def __init__(self) -> None:
        self.outcomes: list[Outcome] = []
        self._changed = asyncio.Event()

    def __call__(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        self._changed.set()

    def of(self, pid: str) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.pid == pid]

    async def until(self, condition: Callable[[], bool], timeout: float = DEADLINE) -> None:
        await until(condition, timeout, self._changed)


async def until(
    condition: Callable[[], bool], timeout: float = DEADLINE, event: asyncio.Event | None = None
) -> None:
    """Return once ``condition()`` holds; fail after ``timeout`` seconds. Looks again whenever
    ``event`` fires, else every 50 ms (the runner and executor offer no event for everything)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        remaining = deadline - loop.time()
        assert remaining > 0, "condition not met in time"
        if event is None:
            await asyncio.sleep(min(0.05, remaining))
            continue
        event.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(event.wait(), min(0.05, remaining))


def bell(pid: str) -> Task:
    return Task(pid, parse_qasm(BELL), 100, SIM, False)


# -- tests ---------------------------------------------------------------------------------------


def test_jobs_run_on_the_dask_workers_with_their_engine(
    dask_cluster: Any, dask_client: Any
) -> None:
    worker_pids = set(dask_client.run(os.getpid).values())
    record = Recorder()

    async def scenario() -> None:
        runner = Runner(0, record, DaskExecutor(dask_cluster))
        await runner.start()
        try:
            for index in range(4):
                runner.submit(bell(f"job-{index}"))
            await record.until(lambda: len(record.outcomes) == 4)
        finally:
            runner.shutdown()

    asyncio.run(scenario())
    assert all(outcome.ok for outcome in record.outcomes)
    ran_on = {int(outcome.worker.rsplit(":", 1)[1]) for outcome in record.outcomes}
    assert ran_on <= worker_pids
    assert os.getpid() not in ran_on
    assert {outcome.engine for outcome in record.outcomes} == {"qibojit"}
    for outcome in record.outcomes:
        assert set(json.loads(outcome.frequencies_json or "{}")) <= {"00", "11"}


def test_the_queue_stays_ours_and_a_cancel_reaches_the_dask_task(
    dask_cluster: Any, dask_client: Any, tmp_path: Path
) -> None:
    """Two worker threads: two jobs run, one waits ahead in Dask per thread (first in line), the
    rest wait in our queue; a cancel of a running or a waiting-ahead job reaches the scheduler."""
    fifos = [str(tmp_path / name) for name in ("a", "b")]
    for fifo in fifos:
        os.mkfifo(fifo)
    record = Recorder()

    def keys(part: str) -> list[str]:
        return dask_client.run_on_scheduler(
            lambda dask_scheduler: [str(key) for key in dask_scheduler.tasks if part in str(key)]
        )

    async def scenario() -> None:
        runner = Runner(0, record, DaskExecutor(dask_cluster))
        await runner.start()
        try:
            runner.submit(Task("held-a", Gate(fifos[0]), 10, SIM, False))
            runner.submit(Task("held-b", Gate(fifos[1]), 10, SIM, False))
            for pid in ("ahead-1", "ahead-2", "queued"):
                runner.submit(bell(pid))
            assert runner.is_running("held-a")
            assert runner.is_running("held-b")
            assert not runner.is_running("ahead-1")
            positions = [runner.position(pid) for pid in ("ahead-1", "ahead-2", "queued")]
            assert positions == [1, 2, 3]
            clock = asyncio.get_running_loop().time
            deadline = clock() + DEADLINE
            while not await asyncio.to_thread(keys, "ahead-2"):  # the jobs ahead are in Dask
                assert clock() < deadline, "the jobs ahead never reached the scheduler"
            assert not await asyncio.to_thread(keys, "queued")  # and the rest are not
            runner.cancel("held-a")
            runner.cancel("ahead-1")
            while await asyncio.to_thread(keys, "held-a") or await asyncio.to_thread(
                keys, "ahead-1"
            ):  # the cancels make it forget both tasks
                assert clock() < deadline, "a cancelled Dask task stayed"
            assert not runner.is_running("held-a")
            # The cancels made room: the last job went to Dask too, first in line now.
            assert runner.position("queued") == 1
            for fifo in fifos:
                await asyncio.to_thread(open_gate, fifo)
            await record.until(lambda: len(record.outcomes) == 3)
        finally:
            runner.shutdown()

    asyncio.run(scenario())
    assert sorted(outcome.pid for outcome in record.outcomes) == ["ahead-2", "held-b", "queued"]
    assert all(outcome.ok for outcome in record.outcomes)


@pytest.mark.slow
def test_a_job_whose_worker_dies_runs_again_once_and_succeeds(
    dask_cluster: Any, tmp_path: Path
) -> None:
    """KilledWorker is the runner's "worker crashed": queued again, once. (A job that kills
    every worker it meets ends in error after two: the runner's rule, tested with the pool in
    test_runner.py; here each death costs a worker restart.)"""
    record = Recorder()

    async def scenario() -> None:
        runner = Runner(0, record, DaskExecutor(dask_cluster))
        await runner.start()
        try:
            runner.submit(Task("phoenix", KillOnce(str(tmp_path / "died")), 100, SIM, False))
            await record.until(lambda: bool(record.of("phoenix")))
            runner.submit(bell("later"))  # a second run of phoenix would end before this one
            await record.until(lambda: bool(record.of("later")))
        finally:
            runner.shutdown()

    asyncio.run(scenario())
    assert (tmp_path / "died").exists()  # it did kill a worker
    [phoenix] = record.of("phoenix")
    assert phoenix.ok
    assert set(json.loads(phoenix.frequencies_json or "{}")) <= {"00", "11"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _spawn(*args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), str(HERE)])}
    return subprocess.Popen(
        [sys.executable, "-m", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


@pytest.mark.slow
def test_jobs_in_flight_when_the_scheduler_goes_run_when_it_is_back(tmp_path: Path) -> None:
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler_args = ("distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port))
    worker_args = ("distributed.cli.dask_worker", address, "--nthreads", "1", "--no-nanny")
    fifo = str(tmp_path / "gate")
    os.mkfifo(fifo)
    record = Recorder()
    processes = [_spawn(*scheduler_args, "--no-dashboard"), _spawn(*worker_args, "--no-dashboard")]

    async def scenario() -> None:
        executor = DaskExecutor(address)
        runner = Runner(0, record, executor)
        await runner.start()
        try:
            runner.submit(Task("held", Gate(fifo), 10, SIM, False))
            await until(lambda: runner.is_running("held"))
            for process in processes:
                _stop(process)
            await until(lambda: runner.position("held") == 1)  # back in our queue
            assert executor.slots() == 0
            processes.append(_spawn(*scheduler_args, "--no-dashboard"))
            processes.append(_spawn(*worker_args, "--no-dashboard"))
            await until(lambda: runner.is_running("held"))  # sent again to the new scheduler
            await asyncio.to_thread(open_gate, fifo)  # only the new worker can open it now
            await record.until(lambda: bool(record.of("held")))
            runner.submit(bell("after"))
            await record.until(lambda: bool(record.of("after")))
        finally:
            runner.shutdown()

    try:
        asyncio.run(scenario())
    finally:
        for process in processes:
            _stop(process)
    [held] = record.of("held")
    assert held.ok
    assert [outcome.pid for outcome in record.outcomes] == ["held", "after"]


@pytest.mark.slow
def test_a_server_restart_runs_again_what_was_in_flight_on_dask(
    dask_cluster: Any, tmp_path: Path
) -> None:
    db = tmp_path / "cluster.sqlite3"
    fifo = str(tmp_path / "gate")
    os.mkfifo(fifo)

    with local_cluster(dask=dask_cluster, db_path=db) as first:
        state = first.state
        user = state.user_for(first.token)
        assert user is not None

        def accept_held_job() -> str:
            """A stored Bell job whose first run is held on a worker (as a long job would be)."""
            new = NewJob(user.id, "sim", "personal", json.dumps(BELL), 100, 2, False)
            pid = state.store.insert_job(new)
            state.runner.submit(Task(pid, Gate(fifo), 100, SIM, False))
            return pid

        pid = first._call(accept_held_job)
        job = session_for(first.url, first.token).get(f"{first.url}/api/jobs/{pid}/").json()
        assert job["status"] == "running"
    open_gate(fifo)  # the old run ends on its worker; its result has nowhere to go

    with local_cluster(dask=dask_cluster, db_path=db) as second:
        session = session_for(second.url, second.token)
        job = session.get(f"{second.url}/api/jobs/{pid}/", params={"wait": 30}).json()
    assert job["status"] == "success"
    assert job["engine"] == "qibojit"
    assert set(job["frequencies"]) <= {"00", "11"}
    assert sum(job["frequencies"].values()) == 100


def test_qibo_programs_through_the_plugin_on_dask(dask_cluster: Any) -> None:
    import qibo
    from qibo import Circuit, gates
    from qibo.models import QFT

    with local_cluster(dask=dask_cluster) as cluster:
        qibo.set_backend("qibo-client", url=cluster.url, token=cluster.token)
        try:
            pair = Circuit(2)
            pair.add(gates.H(0))
            pair.add(gates.CNOT(0, 1))
            pair.add(gates.M(0, register_name="a"))
            pair.add(gates.M(1, register_name="b"))
            result = pair(nshots=200)
            assert set(result.frequencies()) <= {"00", "11"}
            registers = result.frequencies(registers=True)
            assert registers["a"] == registers["b"]

            # A QFT and its inverse give back the prepared basis state, every shot.
            there_and_back = Circuit(5)
            there_and_back.add([gates.X(0), gates.X(2)])
            there_and_back += QFT(5)
            there_and_back += QFT(5).invert()
            there_and_back.add(gates.M(*range(5)))
            assert there_and_back(nshots=300).frequencies() == {"10100": 300}
        finally:
            qibo.set_backend("numpy")
