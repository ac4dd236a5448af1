"""Each client mistake: a 4xx with a string ``detail``, nothing stored, the server lives on."""

from __future__ import annotations

from typing import Any

import pytest
from server_helpers import BELL, Api, qasm

from qibo_client.server import LocalCluster

HW5_H = qasm(2, "h q[0];")
HW5_FAR_CZ = qasm(3, "cz q[0],q[2];")

# (id, body (JSON value, or raw bytes), expected status, a word the detail must contain)
CASES: list[tuple[str, Any, int, str]] = [
    ("not-json", b'{"circuit": ', 422, "JSON"),
    ("not-utf8", b"\xff\xfe{", 422, "JSON"),
    ("nan-is-not-json", b'{"circuit": "x", "nshots": NaN}', 422, "NaN"),
    ("nested-too-deep", b"[" * 100_000, 422, "JSON"),
    ("not-an-object", [BELL, 10], 422, "object"),
    ("no-circuit", {"nshots": 10}, 422, "circuit"),
    ("circuit-number", {"circuit": 42}, 422, "circuit"),
    ("circuit-list", {"circuit": ["h q[0];"]}, 422, "circuit"),
    ("qasm-garbage", {"circuit": "this is not qasm"}, 400, "line"),
    ("qasm-unknown-gate", {"circuit": qasm(1, "frobnicate q[0];")}, 400, "frobnicate"),
    ("qasm-bad-qubit", {"circuit": qasm(1, "h q[3];")}, 400, "q"),
    ("json-looking-text", {"circuit": "{not json"}, 400, "JSON"),
    ("json-text-nested-too-deep", {"circuit": '{"a": ' + "[" * 100_000}, 400, "JSON"),
    ("raw-not-a-circuit", {"circuit": {"queue": "nope"}}, 400, ""),
    ("nothing-measured", {"circuit": qasm(2, "h q[0];", measured=0)}, 400, "measure"),
    ("too-many-qubits-sim", {"circuit": qasm(26, "h q[0];", measured=1)}, 400, "25"),
    ("too-many-qubits-hw5", {"circuit": qasm(6, "h q[0];"), "device": "hw5"}, 400, "5"),
    ("nshots-zero", {"circuit": BELL, "nshots": 0}, 400, "nshots"),
    ("nshots-negative", {"circuit": BELL, "nshots": -5}, 400, "nshots"),
    ("nshots-float", {"circuit": BELL, "nshots": 10.5}, 422, "nshots"),
    ("nshots-string", {"circuit": BELL, "nshots": "100"}, 422, "nshots"),
    ("nshots-bool", {"circuit": BELL, "nshots": True}, 422, "nshots"),
    ("nshots-over-sim", {"circuit": BELL, "nshots": 1_000_001}, 400, "limit"),
    ("nshots-over-hw5", {"circuit": BELL, "nshots": 100_001, "device": "hw5"}, 400, "limit"),
    ("unknown-device", {"circuit": BELL, "device": "qpu9000"}, 400, "qpu9000"),
    ("device-number", {"circuit": BELL, "device": 3}, 422, "device"),
    ("unknown-project", {"circuit": BELL, "project": "secret"}, 400, "secret"),
    ("verbatim-string", {"circuit": BELL, "verbatim": "yes"}, 422, "verbatim"),
    ("verbatim-not-native", {"circuit": HW5_H, "device": "hw5", "verbatim": True}, 400, "H"),
    ("verbatim-not-coupled", {"circuit": HW5_FAR_CZ, "device": "hw5", "verbatim": True}, 400, "CZ"),
]


@pytest.fixture(scope="module")
def victim(cluster: LocalCluster) -> str:
    """A user whose job list must stay empty through every bad submission."""
    return cluster.add_user("bad-input@example.org")


@pytest.mark.parametrize(
    ("body", "status", "word"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_submission(
    cluster: LocalCluster, api: Api, victim: str, body: Any, status: int, word: str
) -> None:
    session = api(victim)
    url = f"{cluster.url}/api/jobs/"
    if isinstance(body, bytes):
        response = session.post(url, data=body, headers={"Content-Type": "application/json"})
    else:
        response = session.post(url, json=body)
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    assert word in detail
    assert session.get(url).json() == []  # nothing half done
    assert session.get(f"{cluster.url}/api/qibo_version/").status_code == 200


def test_body_over_the_limit_is_413(api: Api) -> None:
    from qibo_client.server import local_cluster

    with local_cluster(workers=0, max_body_bytes=2048) as small:
        session = api(small.token)
        big = {"circuit": BELL + "// padding\n" * 400}
        response = session.post(f"{small.url}/api/jobs/", json=big)
        assert response.status_code == 413
        assert "limit" in response.json()["detail"]

        # Without Content-Length (chunked), the limit holds on the bytes actually read.
        chunks = iter([b'{"circuit": "', b"x" * 4096, b'"}'])
        response = session.post(f"{small.url}/api/jobs/", data=chunks)
        assert response.status_code == 413
        assert session.get(f"{small.url}/api/jobs/").json() == []


@pytest.mark.parametrize("wait", ["soon", "-1", "nan", "inf"])
def test_wait_must_be_a_number(cluster: LocalCluster, api: Api, wait: str) -> None:
    response = api().get(f"{cluster.url}/api/jobs/any-pid/", params={"wait": wait})
    assert response.status_code == 422
    assert "wait" in response.json()["detail"]


def test_idempotency_key_too_long(cluster: LocalCluster, api: Api, victim: str) -> None:
    session = api(victim)
    response = session.post(
        f"{cluster.url}/api/jobs/", json={"circuit": BELL}, headers={"Idempotency-Key": "k" * 201}
    )
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["detail"]


def test_unknown_job_is_404(cluster: LocalCluster, api: Api) -> None:
    response = api().get(f"{cluster.url}/api/jobs/does-not-exist/")
    assert response.status_code == 404
    assert isinstance(response.json()["detail"], str)
