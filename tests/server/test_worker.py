"""What a worker does with one job: seeded draws, and the device's own gates and couplings.

The worker's functions run here in the test's process (no pool); ``test_seeded_jobs_replay`` checks
the same through a real server.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import requests
from server_helpers import Api, qasm

from qibo_client.server import LocalCluster
from qibo_client.server.circuits.qasm_parser import parse_qasm
from qibo_client.server.devices import HW5, SIM
from qibo_client.server.jobs import engines
from qibo_client.server.jobs.worker import Task, job_seed_of, run_task, transpile

#: Four qubits in uniform superposition: 16 outcomes, so two different draws of 2000 shots agree
#: by chance with a probability far below 1e-30.
SPREAD = qasm(4, "h q[0];\nh q[1];\nh q[2];\nh q[3];")
ROUTED = qasm(5, "h q[0];\ncx q[0],q[4];\nry(0.3) q[2];")


def counts(task: Task) -> dict[str, int]:
    outcome = run_task(task)
    assert outcome.ok, outcome.stderr
    assert outcome.frequencies_json is not None
    result: dict[str, int] = json.loads(outcome.frequencies_json)
    return result


def test_same_seed_same_counts_other_seed_other_counts() -> None:
    program = parse_qasm(SPREAD)
    first = counts(Task("a", program, 2000, SIM, False, seed=7))
    assert counts(Task("b", program, 2000, SIM, False, seed=7)) == first
    assert counts(Task("a", program, 2000, SIM, False, seed=8)) != first
    assert sum(first.values()) == 2000


def test_without_a_seed_the_pid_decides() -> None:
    program = parse_qasm(SPREAD)
    assert counts(Task("pid-1", program, 2000, SIM, False)) == counts(
        Task("pid-1", program, 2000, SIM, False)
    )
    assert counts(Task("pid-1", program, 2000, SIM, False)) == counts(
        Task("other", program, 2000, SIM, False, seed=job_seed_of("pid-1", None))
    )
    assert 0 <= job_seed_of("pid-1", None) < 2**32


def gate_names(circuit: object) -> set[str]:
    return {type(gate).__name__ for gate in circuit.queue}  # type: ignore[attr-defined]


def test_hw5_transpiles_to_its_own_natives_and_line() -> None:
    transpiled = transpile(parse_qasm(ROUTED).to_circuit(), HW5)
    assert HW5.natives is not None
    assert HW5.edges is not None
    assert gate_names(transpiled) <= HW5.natives
    pairs = {tuple(sorted(g.qubits)) for g in transpiled.queue if len(g.qubits) == 2}
    assert pairs  # the CNOT was routed along the line
    assert pairs <= HW5.edges


@pytest.mark.parametrize(
    ("natives", "edges", "expected_pairs"),
    [
        # U3 instead of GPI2: qibo's default natives would give GPI2.
        ({"U3", "CZ", "M", "I", "Z", "RZ"}, None, None),
        # A ring: q0 and q4 are neighbours, so the CNOT needs no routing.
        ({"U3", "CNOT", "M"}, {(0, 1), (1, 2), (2, 3), (3, 4), (0, 4)}, {(0, 4)}),
    ],
)
def test_another_chip_gets_its_own_gates_and_couplings(
    natives: set[str], edges: set[tuple[int, int]] | None, expected_pairs: set[tuple[int, int]]
) -> None:
    device = replace(
        HW5,
        natives=frozenset(natives),
        edges=HW5.edges if edges is None else frozenset(edges),
    )
    transpiled = transpile(parse_qasm(ROUTED).to_circuit(), device)
    assert "U3" in gate_names(transpiled) <= natives
    pairs = {tuple(sorted(g.qubits)) for g in transpiled.queue if len(g.qubits) == 2}
    if expected_pairs is not None:
        assert pairs == expected_pairs


def post_seeded(session: requests.Session, url: str, seed: int) -> dict[str, int]:
    response = session.post(
        f"{url}/api/jobs/",
        json={"circuit": SPREAD, "nshots": 2000, "seed": seed},
        headers={"Prefer": "wait=30"},
    )
    assert response.status_code == 200, response.text
    job = response.json()
    assert job["status"] == "success", job
    assert job["seed"] == seed
    frequencies: dict[str, int] = job["frequencies"]
    return frequencies


def test_seeded_jobs_replay_through_the_server(cluster: LocalCluster, api: Api) -> None:
    session = api()
    first = post_seeded(session, cluster.url, 20261124)
    assert post_seeded(session, cluster.url, 20261124) == first
    assert post_seeded(session, cluster.url, 20261125) != first


def test_a_narrow_job_runs_on_one_numba_thread_and_a_wide_one_on_the_workers() -> None:
    """Waking a second OpenMP thread costs more than a narrow state's gates (the last round's B1
    regression): below PARALLEL_MIN_QUBITS a job runs on one thread, above on the worker's."""
    if not engines.qibojit_installed():
        pytest.skip("qibojit is not installed")
    import numba

    wide_threads = min(2, numba.config.NUMBA_NUM_THREADS)
    before = engines._settings["threads"]
    engines.configure(wide_threads)
    try:
        counts(Task("narrow", parse_qasm(SPREAD), 100, SIM, False))
        assert numba.get_num_threads() == 1
        wide = qasm(engines.PARALLEL_MIN_QUBITS, "h q[0];\n", measured=1)
        counts(Task("wide", parse_qasm(wide), 100, SIM, False))
        assert numba.get_num_threads() == wide_threads
    finally:
        engines.configure(before)
