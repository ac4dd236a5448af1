"""The fast lane (issue 21): tiny jobs run in the server process, with the pool's own answers."""

from __future__ import annotations

import asyncio
import json
import pickle
from dataclasses import replace
from pathlib import Path

import pytest
from qibo import Circuit, gates
from server_helpers import BELL, qasm, session_for

from qibo_client.circuits.raw import circuit_raw
from qibo_client.protocol import TOKEN_HEADER
from qibo_client.server import local_cluster
from qibo_client.server.circuits.qasm_parser import parse_qasm
from qibo_client.server.circuits.raw_circuit import program_from_raw
from qibo_client.server.devices import HW5, SIM
from qibo_client.server.jobs.executors.pool import PoolExecutor
from qibo_client.server.jobs.lane import LANE_MAX_QUBITS, LANE_WINDOW, FastLane, is_tiny, job_cost
from qibo_client.server.jobs.runner import Outcome, Runner, Task
from qibo_client.server.jobs.template_runs import TemplateRun
from qibo_client.server.jobs.worker import run_task

ROTATIONS = qasm(3, "ry(0.4) q[0];\nrz(0.9) q[1];\ncx q[0],q[1];\nh q[2];\ncx q[1],q[2];\n")


def noisy_task(pid: str) -> Task:
    """A density-matrix job: its counts come from qibo's own sampling on the engine's RNG."""
    circuit = Circuit(2, density_matrix=True)
    circuit.add(gates.H(0))
    circuit.add(gates.CNOT(0, 1))
    circuit.add(gates.PauliNoiseChannel(0, [("X", 0.2)]))
    circuit.add(gates.M(0, 1))
    return Task(pid, program_from_raw(circuit_raw(circuit)), 500, SIM, False, seed=11)


def template_task(pid: str) -> Task:
    program = parse_qasm(qasm(2, "ry(0.0) q[0];\nrx(0.0) q[1];\ncx q[0],q[1];\n"))
    run = TemplateRun("t" * 64, pickle.dumps(program), (0.7, 1.1), 2, len(program.ops))
    return Task(pid, run, 1000, SIM, False)


def kinds_of_job() -> list[Task]:
    return [
        Task("bell", parse_qasm(BELL), 1000, SIM, False),
        Task("rotations", parse_qasm(ROTATIONS), 1000, SIM, False, seed=5),
        noisy_task("noisy"),
        template_task("template"),
    ]


def test_a_job_is_tiny_by_qubits_gates_and_shots_within_its_device() -> None:
    bell = Task("b", parse_qasm(BELL), 1000, SIM, False)
    assert job_cost(bell) == 2 * 2 * 1000
    assert is_tiny(bell)
    assert not is_tiny(replace(bell, nshots=SIM.lane_cost))  # the same circuit, many shots
    assert not is_tiny(replace(bell, device=HW5))  # hardware transpiles: never tiny
    wide = Task("w", parse_qasm(qasm(LANE_MAX_QUBITS + 1, "h q[0];\n")), 1, SIM, False)
    wide_cost = job_cost(wide)
    assert wide_cost is not None
    assert wide_cost <= SIM.lane_cost
    assert not is_tiny(wide)  # the qubit cap holds whatever the product says
    noisy = noisy_task("n")
    assert job_cost(noisy) == 2 * 2 * len(noisy.program.ops) * 500  # a density matrix
    assert job_cost(template_task("t")) == 2 * 3 * 1000
    assert job_cost(Task("x", object(), 10, SIM, False)) is None  # says nothing: never tiny


def test_the_lane_gives_the_pooled_counts_for_every_kind_of_job() -> None:
    """Same pid, same seed, same program: the lane's counts are the pool worker's, exactly."""
    pooled: list[Outcome] = []

    async def scenario() -> list[Outcome]:
        ended = asyncio.Event()

        def record(outcome: Outcome) -> None:
            pooled.append(outcome)
            if len(pooled) == len(kinds_of_job()):
                ended.set()

        runner = Runner(1, record)  # the pool only
        lane = FastLane()
        await asyncio.gather(runner.start(), lane.start())
        try:
            for task in kinds_of_job():
                runner.submit(task)
            await asyncio.wait_for(ended.wait(), 120)
            assert lane.ready()
            return [await lane.submit(task) for task in kinds_of_job()]
        finally:
            runner.shutdown()
            lane.shutdown()

    in_lane = asyncio.run(scenario())
    by_pid = {outcome.pid: outcome for outcome in pooled}
    for outcome in in_lane:
        assert outcome.ok, outcome.stderr
        assert outcome.frequencies_json == by_pid[outcome.pid].frequencies_json, outcome.pid
        assert outcome.engine == by_pid[outcome.pid].engine
        assert by_pid[outcome.pid].worker != outcome.worker  # one ran elsewhere, one here
    assert json.loads(in_lane[0].frequencies_json or "{}").keys() <= {"00", "11"}


def test_the_lane_leaves_the_global_qibo_backend_alone() -> None:
    import qibo

    qibo.set_backend("numpy")
    lane = FastLane()  # qibojit where installed: another engine than the global one

    async def scenario() -> Outcome:
        await lane.start()
        return await lane.submit(Task("bell", parse_qasm(BELL), 100, SIM, False))

    outcome = asyncio.run(scenario())
    assert outcome.ok
    assert qibo.get_backend().name == "numpy"


def test_the_lane_keeps_to_its_share_of_the_loop() -> None:
    lane = FastLane()
    lane._ready = True  # the share is all this looks at: no need to compile an engine
    bell = Task("b", parse_qasm(BELL), 1000, SIM, False)
    assert lane.takes(bell)
    lane._busy = LANE_WINDOW  # it had the loop to itself lately
    assert lane.recent_share() > lane.share
    assert not lane.takes(bell)  # so tiny jobs go to the pool until its share decays
    lane.shutdown()
    lane._busy = 0.0
    assert not lane.takes(bell)  # a stopped lane takes nothing


def test_a_cancelled_tiny_job_never_runs() -> None:
    outcomes: list[Outcome] = []

    async def scenario() -> None:
        lane = FastLane()
        runner = Runner(0, outcomes.append, PoolExecutor(0), lane)  # no pool: the lane or nothing
        await runner.start()
        try:
            lane._busy = LANE_WINDOW  # busy: the job waits in the queue
            runner.submit(Task("dropped", parse_qasm(BELL), 10, SIM, False))
            assert runner.position("dropped") == 1
            runner.cancel("dropped")
            lane._busy = 0.0
            runner.submit(Task("kept", parse_qasm(BELL), 10, SIM, False))
            await runner.wait("kept", 60)
        finally:
            runner.shutdown()
        assert lane.jobs == 1

    asyncio.run(scenario())
    assert [outcome.pid for outcome in outcomes] == ["kept"]
    assert outcomes[0].ok


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "cluster.sqlite3"


def test_tiny_jobs_run_in_the_server_and_big_ones_in_the_pool(db: Path) -> None:
    big = qasm(6, "".join(f"h q[{q % 6}];\ncx q[{q % 6}],q[{(q + 1) % 6}];\n" for q in range(30)))
    with local_cluster(workers=1, db_path=db, fast_lane=True) as cluster:
        lane = cluster.state.runner._lane
        assert lane is not None
        assert lane.ready()
        session = session_for(cluster.url, cluster.token)
        answers = []
        for circuit in (BELL, big):
            body = {"circuit": circuit, "nshots": 1000, "device": "sim"}
            answer = session.post(
                f"{cluster.url}/api/jobs/", json=body, headers={"Prefer": "wait=30"}
            )
            answers.append(answer.json())
            if circuit == BELL:
                assert lane.jobs == 1
        assert lane.jobs == 1  # the big one took the pool
    for answer in answers:
        assert answer["status"] == "success"
        assert sum(answer["frequencies"].values()) == 1000


def test_a_job_accepted_before_the_server_went_runs_in_the_lane_after_restart(db: Path) -> None:
    """The store is the truth: a job stored but never run (the process died first) is queued
    again at the next start, takes the lane, and draws the counts its pid seeds."""
    body = {"circuit": ROTATIONS, "nshots": 1000, "device": "sim"}
    with local_cluster(workers=0, db_path=db) as first:  # accepts, runs nothing
        answer = session_for(first.url, first.token).post(f"{first.url}/api/jobs/", json=body)
        pid = answer.json()["pid"]
    with local_cluster(workers=1, db_path=db, fast_lane=True) as second:
        lane = second.state.runner._lane
        assert lane is not None
        session = session_for(second.url, second.token)
        job = session.get(f"{second.url}/api/jobs/{pid}/", params={"wait": 30}).json()
        assert lane.jobs == 1
    assert job["status"] == "success"
    expected = run_task(Task(pid, parse_qasm(ROTATIONS), 1000, SIM, False))
    assert job["frequencies"] == json.loads(expected.frequencies_json or "{}")


def test_without_workers_nothing_runs_even_with_a_lane_asked(db: Path) -> None:
    with local_cluster(workers=0, db_path=db, fast_lane=True) as cluster:
        assert cluster.state.runner._lane is None
        session = session_for(cluster.url, cluster.token)
        body = {"circuit": BELL, "nshots": 10, "device": "sim"}
        pid = session.post(f"{cluster.url}/api/jobs/", json=body).json()["pid"]
        job = session.get(f"{cluster.url}/api/jobs/{pid}/", headers={TOKEN_HEADER: cluster.token})
        assert job.json()["status"] == "queueing"
