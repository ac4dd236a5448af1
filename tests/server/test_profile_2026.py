"""The 2026 generation over plain HTTP: ``tii-2026``, and what every profile adds for its clients.

What ``tii-quantum`` 0.1.2 and NVIDIA CUDA-Q's ``tii`` target send, sent here with ``requests``
against real loopback servers: the version keys, ``accounts/me``, the disk quota in the shape the
client's own header asks for, the counts in the job object, and every path without its final
``/`` answered directly (no redirect).
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from qibo import Circuit, gates

from qibo_client.server.profiles import USER_NOT_FOUND

#: What ``tii-quantum`` names itself with (any version: only the header's presence counts).
TII_QUANTUM = {"x-tii-quantum-version": "0.1.2"}
#: How many reads a Bell job may take to end (each answers at once: a bound, not a sleep).
MAX_READS = 2000


def bell_raw() -> dict[str, Any]:
    circuit = Circuit(2)
    circuit.add(gates.H(0))
    circuit.add(gates.CNOT(0, 1))
    circuit.add(gates.M(0, 1))
    return dict(circuit.raw)


@pytest.fixture(params=["default", "tii", "tii-2026"])
def any_cluster(request: pytest.FixtureRequest) -> Any:
    fixture = {"default": "cluster", "tii": "strict_cluster", "tii-2026": "strict_2026_cluster"}
    return request.getfixturevalue(fixture[request.param])


def session_of(server: Any, email: str) -> requests.Session:
    session = requests.Session()
    session.headers["x-api-token"] = server.add_user(email)
    return session


def finished(session: requests.Session, url: str) -> dict[str, Any]:
    """The job at ``url`` once it ended, read as a polling client reads it."""
    for _ in range(MAX_READS):
        answer = session.get(url, allow_redirects=False)
        assert answer.status_code == 200, answer.text
        job: dict[str, Any] = answer.json()
        if job["status"] in {"success", "error"}:
            return job
    raise AssertionError(f"the job at {url} did not end within {MAX_READS} reads")


def test_the_2026_version_answer_has_the_new_keys_only(strict_2026_cluster: Any) -> None:
    body = requests.get(f"{strict_2026_cluster.url}/api/qibo_version/", timeout=10).json()
    assert set(body) == {"server_qibo_version", "minimum_qibo_version", "minimum_client_version"}
    assert body["minimum_qibo_version"] == "0.3.2"
    assert body["minimum_client_version"] == "0.0.0"  # below tii-quantum 0.1.2 and every client


def test_accounts_me_names_the_token_s_owner(any_cluster: Any) -> None:
    email = f"me-{any_cluster.state.profile.name}@example.org"
    session = session_of(any_cluster, email)
    assert session.get(f"{any_cluster.url}/api/accounts/me/").json() == {"email": email}
    assert session.get(f"{any_cluster.url}/api/accounts/me").json() == {"email": email}


def test_accounts_me_needs_a_token(any_cluster: Any) -> None:
    answer = requests.get(f"{any_cluster.url}/api/accounts/me/", timeout=10)
    assert answer.status_code in {401, 404}
    if any_cluster.state.profile.official_shapes:
        assert answer.json() == {"detail": USER_NOT_FOUND}


def test_the_disk_quota_follows_the_client_s_header(any_cluster: Any) -> None:
    profile = any_cluster.state.profile.name
    email = f"disk-{profile}@example.org"
    session = session_of(any_cluster, email)
    url = f"{any_cluster.url}/api/disk_quota/"
    as_tii_quantum = session.get(url, headers=TII_QUANTUM).json()
    assert set(as_tii_quantum) == {"user", "kbs_left", "kbs_max"}
    assert as_tii_quantum["user"] == {"email": email}
    plain = session.get(url).json()
    if profile == "tii-2026":
        assert plain == as_tii_quantum  # the 2026 service: one object for everyone
    else:
        assert plain == [as_tii_quantum]  # what 0.2.4 indexes with [0]


def test_2026_counts_are_only_in_the_job_object(strict_2026_cluster: Any) -> None:
    url = strict_2026_cluster.url
    session = session_of(strict_2026_cluster, "counts-2026@example.org")
    pid = session.post(f"{url}/api/jobs/", json={"circuit": bell_raw(), "nshots": 300}).json()[
        "pid"
    ]
    job = finished(session, f"{url}/api/jobs/{pid}/")
    assert job["status"] == "success", job["stderr"]
    assert set(job["frequencies"]) <= {"00", "11"}
    assert sum(job["frequencies"].values()) == 300
    assert job["result_path"] == ""
    assert session.get(f"{url}/api/jobs/{pid}/download/").status_code == 404
    [listed] = [row for row in session.get(f"{url}/api/jobs/").json() if row["pid"] == pid]
    assert listed["result_path"] is None


def test_2026_ignores_every_extension_of_ours(strict_2026_cluster: Any) -> None:
    url = strict_2026_cluster.url
    session = session_of(strict_2026_cluster, "plain-2026@example.org")
    body = {"circuit": bell_raw(), "nshots": 10, "seed": 7, "initial_state": [0, 1, 0, 0]}
    headers = {"Prefer": "wait=5", "Idempotency-Key": "same"}
    answers = [session.post(f"{url}/api/jobs/", json=body, headers=headers) for _ in "ab"]
    assert [set(answer.json()) for answer in answers] == [{"pid"}, {"pid"}]  # no hold
    first, second = (answer.json()["pid"] for answer in answers)
    assert first != second  # no idempotency
    job = finished(session, f"{url}/api/jobs/{first}/")
    assert "seed" not in job
    assert set(job["frequencies"]) <= {"00", "11"}  # from |00>, not the initial state |01>
    assert session.post(f"{url}/api/jobs/batch/", json={"jobs": []}).status_code == 405
    assert session.get(f"{url}/api/templates/").status_code == 404
    qasm = session.post(f"{url}/api/jobs/", json={"circuit": "OPENQASM 2.0;", "nshots": 10})
    assert qasm.status_code == 400


@pytest.mark.parametrize("profile", ["default", "tii-2026"])
def test_cuda_q_s_paths_without_a_final_slash_are_answered_directly(
    profile: str, request: pytest.FixtureRequest
) -> None:
    """CUDA-Q's ``tii`` target: ``POST api/jobs``, then ``GET api/jobs/<pid>``, no redirects."""
    server = request.getfixturevalue("cluster" if profile == "default" else "strict_2026_cluster")
    session = session_of(server, f"cudaq-{profile}@example.org")
    session.headers["x-qibo-client-version"] = "0.2.2"  # what the target sends
    posted = session.post(
        f"{server.url}/api/jobs",
        json={"circuit": bell_raw(), "nshots": 100, "device": "sim", "verbatim": False},
        allow_redirects=False,
    )
    assert posted.status_code == 200, posted.text
    assert set(posted.json()) == {"pid"}
    pid = posted.json()["pid"]
    job = finished(session, f"{server.url}/api/jobs/{pid}")
    assert job["pid"] == pid
    assert job["status"] == "success", job["stderr"]
    assert sum(job["frequencies"].values()) == 100
    assert set(job["frequencies"]) <= {"00", "11"}
    for path in ("/api/qibo_version", "/api/projectquotas", "/api/jobs"):
        answer = session.get(server.url + path, allow_redirects=False)
        assert answer.status_code == 200, path
    deleted = session.delete(f"{server.url}/api/jobs/{pid}", allow_redirects=False)
    assert deleted.status_code == 200
    assert session.get(f"{server.url}/api/jobs/{pid}", allow_redirects=False).status_code == 404
