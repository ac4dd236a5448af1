"""The worker pool on its own: a job that kills its worker loses nothing else."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from server_helpers import BELL

from qibo_client.server.circuits.qasm_parser import parse_qasm
from qibo_client.server.devices import SIM
from qibo_client.server.jobs.runner import Outcome, Runner, Task


class Crasher:
    """A program whose worker dies while building it, as on an out-of-memory kill."""

    nqubits = 1

    def to_circuit(self) -> None:
        os._exit(3)


class Broken:
    """A program that raises while building: the job's fault, reported in stderr."""

    nqubits = 1

    def to_circuit(self) -> None:
        raise RuntimeError("boom in the circuit")


@pytest.mark.slow
def test_a_crashing_job_fails_and_the_pool_recovers() -> None:
    outcomes: list[Outcome] = []

    async def scenario() -> None:
        all_done = asyncio.Event()

        def record(outcome: Outcome) -> None:
            outcomes.append(outcome)
            if len(outcomes) == 3:
                all_done.set()

        runner = Runner(1, record)
        await runner.start()
        try:
            for pid, program in [("crash", Crasher()), ("broken", Broken())]:
                runner.submit(Task(pid, program, 10, SIM, False))
            runner.submit(Task("good", parse_qasm(BELL), 10, SIM, False))
            await asyncio.wait_for(all_done.wait(), 120)
        finally:
            runner.shutdown()

    asyncio.run(scenario())
    by_pid = {outcome.pid: outcome for outcome in outcomes}
    assert set(by_pid) == {"crash", "broken", "good"}
    assert not by_pid["crash"].ok
    assert "died" in by_pid["crash"].stderr
    assert not by_pid["broken"].ok
    assert by_pid["broken"].stderr == "RuntimeError: boom in the circuit"
    assert by_pid["good"].ok
    assert by_pid["good"].frequencies_json is not None


class Gate:
    """A program that blocks its worker until the test writes to a named pipe."""

    nqubits = 1

    def __init__(self, fifo: str) -> None:
        self.fifo = fifo

    def to_circuit(self) -> Any:
        with open(self.fifo, "rb") as pipe:  # blocks until the test opens the other end
            pipe.read()
        return parse_qasm(BELL).to_circuit()


def test_a_cancelled_running_job_reports_nothing(tmp_path: Path) -> None:
    fifo = str(tmp_path / "gate")
    os.mkfifo(fifo)
    outcomes: list[Outcome] = []

    def release() -> None:
        with open(fifo, "wb") as pipe:  # blocks until the worker has opened the pipe
            pipe.write(b"go")

    async def scenario() -> None:
        done = asyncio.Event()

        def record(outcome: Outcome) -> None:
            outcomes.append(outcome)
            done.set()

        runner = Runner(1, record)
        await runner.start()
        try:
            runner.submit(Task("held", Gate(fifo), 10, SIM, False))
            runner.submit(Task("next", parse_qasm(BELL), 10, SIM, False))
            assert runner.is_running("held")
            assert runner.position("next") == 1
            runner.cancel("held")
            await asyncio.to_thread(release)
            await asyncio.wait_for(done.wait(), 120)
        finally:
            runner.shutdown()

    asyncio.run(scenario())
    assert [outcome.pid for outcome in outcomes] == ["next"]
    assert outcomes[0].ok
