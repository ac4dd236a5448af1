"""Every endpoint of the reference server, over plain HTTP on loopback."""

from __future__ import annotations

import io
import json
import logging
import tarfile
import uuid

import numpy as np
import pytest
import requests
from server_helpers import BELL, Api, qasm

from qibo_client.server import LocalCluster


def submit(session: requests.Session, cluster: LocalCluster, **payload: object) -> dict:
    body = {"circuit": BELL, "nshots": 100, **payload}
    response = session.post(f"{cluster.url}/api/jobs/", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def finished(session: requests.Session, cluster: LocalCluster, pid: str) -> dict:
    response = session.get(f"{cluster.url}/api/jobs/{pid}/", params={"wait": 30})
    assert response.status_code == 200, response.text
    job = response.json()
    assert job["status"] in {"success", "error"}
    return job


def test_version_is_public_and_complete(cluster: LocalCluster, api: Api) -> None:
    answer = api(None).get(f"{cluster.url}/api/qibo_version/").json()
    assert answer["server_qibo_version"] == "0.3.6"
    # Both generations: 0.2.4 reads the first, tii-quantum 0.1.2 the other two.
    assert answer["minimum_client_qibo_version"] == answer["minimum_qibo_version"] == "0.3.2"
    assert answer["minimum_client_version"] == "0.0.0"


def test_bell_round_trip(cluster: LocalCluster, api: Api) -> None:
    session = api()
    pid = submit(session, cluster, nshots=1000)["pid"]
    job = finished(session, cluster, pid)
    assert job["status"] == "success", job["stderr"]
    assert set(job["frequencies"]) <= {"00", "11"}
    assert sum(job["frequencies"].values()) == 1000
    assert job["circuit"] == BELL
    assert job["user"] == {"email": cluster.email}
    assert (job["device"], job["project"], job["nshots"], job["num_qubits"]) == (
        "sim",
        "personal",
        1000,
        2,
    )
    assert job["queue_position"] is None
    assert job["result_path"] == f"/api/jobs/{pid}/download/"


def test_prefer_wait_answers_the_whole_job(cluster: LocalCluster, api: Api) -> None:
    response = api().post(
        f"{cluster.url}/api/jobs/",
        json={"circuit": BELL, "nshots": 50},
        headers={"Prefer": "wait=30"},
    )
    assert response.status_code == 200
    assert response.headers["Preference-Applied"] == "wait=30"
    job = response.json()
    assert job["status"] == "success"
    assert sum(job["frequencies"].values()) == 50


def test_nshots_null_means_device_default(cluster: LocalCluster, api: Api) -> None:
    session = api()
    job = finished(session, cluster, submit(session, cluster, nshots=None)["pid"])
    assert job["nshots"] == 1000
    assert sum(job["frequencies"].values()) == 1000


def test_measurement_order_is_the_circuits(cluster: LocalCluster, api: Api) -> None:
    # x on q[1] only, measured q[1] first: the first bit is 1.
    circuit = qasm(2, "x q[1];", measured=0) + "creg c[2];\nmeasure q[1] -> c[0];\n"
    circuit += "measure q[0] -> c[1];\n"
    session = api()
    job = finished(session, cluster, submit(session, cluster, circuit=circuit)["pid"])
    assert job["frequencies"] == {"10": 100}


def test_raw_circuit_from_the_official_client(cluster: LocalCluster, api: Api) -> None:
    from qibo import Circuit, gates

    circuit = Circuit(2)
    circuit.add(gates.H(0))
    circuit.add(gates.CNOT(0, 1))
    circuit.add(gates.M(0, 1))
    session = api()
    raw = json.loads(json.dumps(circuit.raw))
    job = finished(session, cluster, submit(session, cluster, circuit=raw)["pid"])
    assert job["status"] == "success", job["stderr"]
    assert set(job["frequencies"]) <= {"00", "11"}
    assert job["circuit"] == raw


def test_hardware_device_transpiles_and_routes(cluster: LocalCluster, api: Api) -> None:
    # q0 and q4 are not neighbours on the line: the server routes the CNOT.
    circuit = qasm(5, "h q[0];\ncx q[0],q[4];", measured=0)
    circuit += "creg c[2];\nmeasure q[0] -> c[0];\nmeasure q[4] -> c[1];\n"
    session = api()
    job = finished(session, cluster, submit(session, cluster, circuit=circuit, device="hw5")["pid"])
    assert job["status"] == "success", job["stderr"]
    assert set(job["frequencies"]) <= {"00", "11"}
    assert job["device"] == "hw5"


def test_hardware_verbatim_native_circuit_runs(cluster: LocalCluster, api: Api) -> None:
    circuit = qasm(2, "rz(0.5) q[0];\ncz q[0],q[1];")
    session = api()
    pid = submit(session, cluster, circuit=circuit, device="hw5", verbatim=True)["pid"]
    job = finished(session, cluster, pid)
    assert job["status"] == "success", job["stderr"]
    assert job["frequencies"] == {"00": 100}
    assert job["verbatim"] is True


def test_failing_simulation_ends_in_error_with_reason(cluster: LocalCluster, api: Api) -> None:
    # qibo's transpiler cannot route a three-qubit gate: the job fails in the worker.
    circuit = qasm(3, "ccx q[0],q[1],q[2];")
    session = api()
    job = finished(session, cluster, submit(session, cluster, circuit=circuit, device="hw5")["pid"])
    assert job["status"] == "error"
    assert "more than 2 qubits" in job["stderr"]
    assert job["frequencies"] is None

    archive = session.get(f"{cluster.url}/api/jobs/{job['pid']}/download/")
    assert archive.status_code == 200
    with tarfile.open(fileobj=io.BytesIO(archive.content), mode="r:gz") as tar:
        assert sorted(tar.getnames()) == ["stderr.log", "stdout.log"]
        member = tar.extractfile("stderr.log")
        assert member is not None
        assert "more than 2 qubits" in member.read().decode()


def test_download_is_read_by_qibo_load_result(
    cluster: LocalCluster, api: Api, tmp_path: object
) -> None:
    from qibo.result import load_result

    session = api()
    job = finished(session, cluster, submit(session, cluster, nshots=300)["pid"])
    response = session.get(f"{cluster.url}/api/jobs/{job['pid']}/download/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/gzip"
    with tarfile.open(fileobj=io.BytesIO(response.content), mode="r:gz") as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == ["results.npy"]
        assert members[0].isfile()
        data = tar.extractfile(members[0])
        assert data is not None
        payload = data.read()
    # Our own server's output, in a test: unpickling is acceptable here and nowhere else.
    assert np.load(io.BytesIO(payload), allow_pickle=True).item()["nshots"] == 300
    path = tmp_path / "results.npy"  # type: ignore[operator]
    path.write_bytes(payload)
    result = load_result(str(path))
    assert dict(result.frequencies(binary=True)) == job["frequencies"]


def test_download_of_unfinished_job_is_409(api: Api) -> None:
    from qibo_client.server import local_cluster

    with local_cluster(workers=0) as idle:
        session = api(idle.token)
        pid = submit(session, idle)["pid"]
        response = session.get(f"{idle.url}/api/jobs/{pid}/download/")
        assert response.status_code == 409
        assert isinstance(response.json()["detail"], str)


def test_list_delete_and_bulk_delete(cluster: LocalCluster, api: Api, fresh_user: str) -> None:
    session = api(fresh_user)
    assert session.get(f"{cluster.url}/api/jobs/").json() == []
    pids = [submit(session, cluster)["pid"] for _ in range(3)]
    listed = session.get(f"{cluster.url}/api/jobs/").json()
    assert [job["pid"] for job in listed] == pids
    assert set(listed[0]) >= {"pid", "user", "created_at", "updated_at", "status", "result_path"}

    assert session.delete(f"{cluster.url}/api/jobs/{pids[0]}/").status_code == 200
    assert session.get(f"{cluster.url}/api/jobs/{pids[0]}/").status_code == 404
    assert session.delete(f"{cluster.url}/api/jobs/{pids[0]}/").status_code == 404

    deleted = session.delete(f"{cluster.url}/api/jobs/bulk_delete/").json()["deleted"]
    assert sorted(deleted) == sorted(pids[1:])
    assert session.get(f"{cluster.url}/api/jobs/").json() == []


def test_quotas(cluster: LocalCluster, api: Api, fresh_user: str) -> None:
    session = api(fresh_user)
    [disk] = session.get(f"{cluster.url}/api/disk_quota/").json()
    assert disk["user"]["email"].endswith("@example.org")
    assert 0 < disk["kbs_left"] <= disk["kbs_max"]
    quotas = session.get(f"{cluster.url}/api/projectquotas/").json()
    pairs = {(q["project"], q["partition"]["name"]) for q in quotas}
    assert pairs == {(p, d) for p in ("personal", "qml") for d in ("sim", "hw5")}
    hw5 = next(q["partition"] for q in quotas if q["partition"]["name"] == "hw5")
    assert hw5["max_num_qubits"] == 5
    assert hw5["hardware_type"] == "hardware"


def test_other_project_of_the_user_is_accepted(
    cluster: LocalCluster, api: Api, fresh_user: str
) -> None:
    session = api(fresh_user)
    job = finished(session, cluster, submit(session, cluster, project="qml")["pid"])
    assert job["project"] == "qml"


def test_idempotent_resubmission(cluster: LocalCluster, api: Api, fresh_user: str) -> None:
    session = api(fresh_user)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = session.post(f"{cluster.url}/api/jobs/", json={"circuit": BELL}, headers=key).json()
    again = session.post(
        f"{cluster.url}/api/jobs/",
        json={"circuit": BELL},
        headers={**key, "Prefer": "wait=30"},
    ).json()
    assert again["pid"] == first["pid"]
    assert again["status"] == "success"  # with Prefer: wait, the first job's whole object
    assert len(session.get(f"{cluster.url}/api/jobs/").json()) == 1
    # The same key from another user is another job.
    other = api().post(f"{cluster.url}/api/jobs/", json={"circuit": BELL}, headers=key).json()
    assert other["pid"] != first["pid"]


def test_users_are_isolated(cluster: LocalCluster, api: Api, fresh_user: str) -> None:
    owner, intruder = api(), api(fresh_user)
    pid = finished(owner, cluster, submit(owner, cluster)["pid"])["pid"]
    base = f"{cluster.url}/api/jobs/{pid}/"
    for method, url in [
        ("GET", base),
        ("GET", base + "?wait=1"),
        ("GET", base + "download/"),
        ("DELETE", base),
    ]:
        response = intruder.request(method, url)
        assert response.status_code == 404, (method, url)
        assert isinstance(response.json()["detail"], str)
    assert intruder.get(f"{cluster.url}/api/jobs/").json() == []
    assert intruder.delete(f"{cluster.url}/api/jobs/bulk_delete/").json() == {"deleted": []}
    assert owner.get(base).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/jobs/"),
        ("POST", "/api/jobs/"),
        ("GET", "/api/jobs/some-pid/"),
        ("GET", "/api/jobs/some-pid/download/"),
        ("DELETE", "/api/jobs/some-pid/"),
        ("DELETE", "/api/jobs/bulk_delete/"),
        ("GET", "/api/disk_quota/"),
        ("GET", "/api/projectquotas/"),
        ("GET", "/api/accounts/me/"),
        ("GET", "/api/jobs"),
        ("POST", "/api/jobs"),
    ],
)
@pytest.mark.parametrize("token", [None, "not-a-valid-token-at-all"])
def test_every_endpoint_needs_a_valid_token(
    cluster: LocalCluster, api: Api, method: str, path: str, token: str | None
) -> None:
    response = api(token).request(method, cluster.url + path, json={"circuit": BELL})
    assert response.status_code == 401
    assert "token" in response.json()["detail"]


def test_one_access_log_line_per_request_without_token(
    cluster: LocalCluster, api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="qibo_client.server.access")
    session = api()
    pid = submit(session, cluster)["pid"]
    session.get(f"{cluster.url}/api/jobs/{pid}/")
    lines = [r.getMessage() for r in caplog.records if r.name == "qibo_client.server.access"]
    assert any(line.startswith("POST /api/jobs/ 200 ") and pid in line for line in lines)
    assert any(line.startswith(f"GET /api/jobs/{pid}/ 200 ") for line in lines)
    assert all(cluster.token not in line for line in caplog.text.splitlines())


def test_openapi_description(cluster: LocalCluster, api: Api) -> None:
    schema = api(None).get(f"{cluster.url}/openapi.json").json()
    assert "/api/jobs/{pid}/download/" in schema["paths"]
    assert "/api/accounts/me/" in schema["paths"]
    assert "/api/jobs/{pid}" not in schema["paths"]  # the spelling without "/" is not listed
