"""The ``collapse_outcomes`` extension, server side: asked in the raw circuit, answered beside
``frequencies``, whose meaning (the final measurements) does not change.

A job that does not ask gets the job object it always got; one that asks gets the joint counts
of its collapses and final measurements, whose marginal over the final bits is exactly its
``frequencies``. :meth:`Program.deferred` is checked as data (no qibo needed).
"""

from __future__ import annotations

from typing import Any

import requests
from qibo import Circuit, gates

from qibo_client.circuits.raw import circuit_raw
from qibo_client.protocol import COLLAPSE_OUTCOMES_KEY, EXTENSION_COLLAPSE_OUTCOMES
from qibo_client.server.circuits.program import (
    COLLAPSE_REGISTER,
    Channel,
    Collapse,
    Measurement,
    Op,
    Program,
)

NSHOTS = 400


def _circuit() -> Circuit:
    circuit = Circuit(2)
    circuit.add(gates.H(0))
    circuit.add(gates.M(0, collapse=True))
    circuit.add(gates.CNOT(0, 1))
    circuit.add(gates.M(1))
    return circuit


def _post(cluster: Any, raw: dict[str, Any]) -> dict[str, Any]:
    response = requests.post(
        f"{cluster.url}/api/jobs/",
        json={"circuit": raw, "nshots": NSHOTS, "device": "sim", "seed": 3},
        headers={"x-api-token": cluster.token, "Prefer": "wait=30"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    job = response.json()
    assert job["status"] == "success", job
    return dict(job)


def test_the_version_answer_lists_the_extension(cluster: Any) -> None:
    answer = requests.get(f"{cluster.url}/api/qibo_version/", timeout=10).json()
    assert EXTENSION_COLLAPSE_OUTCOMES in answer["extensions"]


def test_a_job_that_does_not_ask_gets_the_job_object_it_always_got(cluster: Any) -> None:
    job = _post(cluster, circuit_raw(_circuit()))
    assert COLLAPSE_OUTCOMES_KEY not in job
    assert set(job["frequencies"]) <= {"0", "1"}


def test_a_job_that_asks_gets_joint_counts_whose_marginal_is_its_frequencies(
    cluster: Any,
) -> None:
    job = _post(cluster, {**circuit_raw(_circuit()), COLLAPSE_OUTCOMES_KEY: True})
    joint = job[COLLAPSE_OUTCOMES_KEY]
    # The CNOT copies the collapsed qubit onto the measured one: the two bits always agree.
    assert set(joint) <= {"00", "11"}
    assert sum(joint.values()) == NSHOTS
    marginal: dict[str, int] = {}
    for key, count in joint.items():
        marginal[key[1:]] = marginal.get(key[1:], 0) + count
    assert marginal == job["frequencies"]


def test_a_non_boolean_request_is_refused(cluster: Any) -> None:
    response = requests.post(
        f"{cluster.url}/api/jobs/",
        json={"circuit": {**circuit_raw(_circuit()), COLLAPSE_OUTCOMES_KEY: "yes"}},
        headers={"x-api-token": cluster.token},
        timeout=30,
    )
    assert response.status_code == 400
    assert COLLAPSE_OUTCOMES_KEY in response.json()["detail"]


def test_deferred_moves_each_collapsed_qubit_onto_its_own_ancilla() -> None:
    program = Program(
        2,
        (Op("H", (0,)), Collapse((1, 0)), Op("X", (1,)), Collapse((0,))),
        (Measurement("register0", (1,)),),
        initial_state=(1.0, 0.0, 0.0, 0.0),
        collapse_outcomes=True,
    )
    deferred = program.deferred(max_qubits=5, max_density_qubits=3)
    assert deferred is not None
    assert deferred.nqubits == 5
    assert deferred.ops == (
        Op("H", (0,)),
        Op("CNOT", (0, 2)),  # a collapse's qubits in increasing order, as qibo records them
        Op("CNOT", (1, 3)),
        Op("X", (1,)),
        Op("CNOT", (0, 4)),
    )
    assert deferred.measurements == (
        Measurement(COLLAPSE_REGISTER, (2, 3, 4)),
        Measurement("register0", (1,)),
    )
    assert not deferred.runs_as_density_matrix  # only gates left: a state vector
    assert deferred.initial_state is not None
    assert len(deferred.initial_state) == 2**5
    assert deferred.initial_state[0] == 1.0
    assert sum(map(abs, deferred.initial_state)) == 1.0


def test_deferred_is_none_when_not_asked_or_too_wide() -> None:
    program = Program(3, (Collapse((0, 1)), Channel("DepolarizingChannel", (2,), (0.1,))))
    assert program.deferred(10, 10) is None  # not asked
    asked = Program(3, program.ops, collapse_outcomes=True)
    assert asked.deferred(max_qubits=10, max_density_qubits=4) is None  # 5 qubits, dense
    assert asked.deferred(max_qubits=10, max_density_qubits=5) is not None
    assert Program(3, (Op("H", (0,)),), collapse_outcomes=True).deferred(10, 10) is None
