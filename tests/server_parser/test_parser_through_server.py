"""The parsers seen from outside: what the reference server answers for each circuit form.

Uses the session's real server (``cluster`` in tests/conftest.py) over plain HTTP.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from qibo import Circuit, gates


def submit(cluster: Any, circuit: Any, nshots: int = 50) -> requests.Response:
    """POST a job as the official client does, asking the server to answer with the result."""
    return requests.post(
        f"{cluster.url}/api/jobs/",
        json={
            "circuit": circuit,
            "nshots": nshots,
            "device": "sim",
            "project": "personal",
            "verbatim": False,
        },
        headers={"x-api-token": cluster.token, "Prefer": "wait=30"},
        timeout=60,
    )


def test_official_client_raw_payload_runs(cluster):
    circuit = Circuit(3)
    circuit.add(gates.X(2))
    circuit.add(gates.CNOT(2, 0))
    circuit.add(gates.M(0, 1, register_name="a"))
    circuit.add(gates.M(2))
    response = submit(cluster, json.loads(json.dumps(circuit.raw)))
    assert response.status_code == 200, response.text
    job = response.json()
    assert job["status"] == "success", job
    assert job["frequencies"] == {"101": 50}  # bits in measurement order: q0, q1, then q2


def test_parentheses_in_qasm_parameters_are_honoured(cluster):
    # rx((1+1)*pi/2) is rx(pi): always 1. qibo's own parser would read 1+1*pi/2 instead.
    text = (
        'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\ncreg c[1];\n'
        "rx((1+1)*pi/2) q[0];\nmeasure q[0] -> c[0];\n"
    )
    response = submit(cluster, text)
    assert response.status_code == 200, response.text
    assert response.json()["frequencies"] == {"1": 50}


@pytest.mark.parametrize(
    ("circuit", "detail"),
    [
        (
            'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\nrx(__import__) q[0];',
            "line 4: gate 'rx': unknown name '__import__'",
        ),
        (
            {"nqubits": 1, "queue": [{"_class": "Unitary", "init_args": [[[1, 1], [0, 1]], 0]}]},
            "queue[0] (Unitary): Unitary matrix is not unitary",
        ),
    ],
)
def test_refusals_reach_the_client_as_400_detail(cluster, circuit, detail):
    response = submit(cluster, circuit)
    assert response.status_code == 400
    assert detail in response.json()["detail"]
