"""The HTTP layer in process: FastAPI's TestClient, a runner that simulates nothing.

These tests check what a client sees (status codes, ``detail`` strings, answer shapes, the OpenAPI
document) in milliseconds, without worker processes or sockets. The loopback tests beside them
check the same server with real workers and a real socket.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Hashable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from server_helpers import BELL, qasm

from qibo_client.protocol import (
    MAX_BATCH_JOBS,
    MAX_IDEMPOTENCY_KEY,
    MIN_CLIENT_QIBO,
    TERMINAL_STATUSES,
    TOKEN_HEADER,
)
from qibo_client.server.accounts import AccountSpec
from qibo_client.server.api.app import create_app
from qibo_client.server.jobs.runner import Outcome, Runner, Task
from qibo_client.server.state import ServerConfig

ADA = "ada-token-0123456789abcdef"
BOB = "bob-token-0123456789abcdef"


class InstantRunner(Runner):
    """Ends every job at once: all of its shots on the all-zeros outcome."""

    def __init__(self, workers: int, on_outcome: Callable[[Outcome], None]) -> None:
        super().__init__(0, on_outcome)
        self.record = on_outcome

    def submit(self, task: Task, owner: Hashable = None) -> None:
        counts = {"0" * task.program.nmeasured: task.nshots}
        self.record(Outcome(task.pid, ok=True, frequencies_json=json.dumps(counts), runtime=0.0))


def make_client(
    tmp_path: Path, runner: Callable[..., Runner] = InstantRunner, **limits: Any
) -> TestClient:
    accounts = [
        AccountSpec("ada@example.org", ADA, frozenset({"personal", "qml"})),
        AccountSpec("bob@example.org", BOB, frozenset({"personal"})),
    ]
    db = tmp_path / f"{uuid.uuid4().hex}.sqlite3"
    config = ServerConfig(db_path=db, workers=0, accounts=accounts, **limits)
    return TestClient(create_app(config, runner=runner), headers={TOKEN_HEADER: ADA})


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with make_client(tmp_path) as running:
        yield running


def jobs_of(client: TestClient, token: str = ADA) -> list[dict[str, Any]]:
    answer: list[dict[str, Any]] = client.get("/api/jobs/", headers={TOKEN_HEADER: token}).json()
    return answer


# -- authentication ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/jobs/"),
        ("POST", "/api/jobs/"),
        ("POST", "/api/jobs/batch/"),
        ("GET", "/api/jobs/batch/?pids=x"),
        ("GET", "/api/jobs/some-pid/"),
        ("GET", "/api/jobs/some-pid/download/"),
        ("DELETE", "/api/jobs/some-pid/"),
        ("DELETE", "/api/jobs/bulk_delete/"),
        ("GET", "/api/disk_quota/"),
        ("GET", "/api/projectquotas/"),
    ],
)
@pytest.mark.parametrize(("token", "word"), [(None, "missing"), ("wrong-token", "invalid")])
def test_every_endpoint_but_version_needs_a_valid_token(
    client: TestClient, method: str, path: str, token: str | None, word: str
) -> None:
    headers = {TOKEN_HEADER: token} if token else {TOKEN_HEADER: ""}
    response = client.request(method, path, headers=headers, json={"circuit": BELL})
    assert response.status_code == 401
    detail = response.json()["detail"]
    assert word in detail
    assert token is None or token not in detail


def test_version_is_public(client: TestClient) -> None:
    answer = client.get("/api/qibo_version/", headers={TOKEN_HEADER: ""})
    assert answer.status_code == 200
    assert answer.json()["minimum_client_qibo_version"] == MIN_CLIENT_QIBO


# -- submission ----------------------------------------------------------------------------------


def test_prefer_wait_answers_the_whole_job(client: TestClient) -> None:
    response = client.post(
        "/api/jobs/", json={"circuit": BELL, "nshots": 7}, headers={"Prefer": "wait=5"}
    )
    assert response.status_code == 200
    assert response.headers["Preference-Applied"] == "wait=5"
    job = response.json()
    assert job["status"] in TERMINAL_STATUSES
    assert job["frequencies"] == {"00": 7}
    assert job["circuit"] == BELL
    assert job["result_path"] == f"/api/jobs/{job['pid']}/download/"
    assert isinstance(job["seed"], int)


@pytest.mark.parametrize(
    ("body", "status", "word"),
    [
        (b"{not json", 422, "JSON"),
        ([BELL], 422, "object"),
        ({"nshots": 3}, 422, "circuit"),
        ({"circuit": BELL, "nshots": "3"}, 422, "nshots"),
        ({"circuit": BELL, "device": ""}, 422, "device"),
        ({"circuit": BELL, "verbatim": 1}, 422, "verbatim"),
        ({"circuit": "not qasm"}, 400, "line"),
        ({"circuit": BELL, "nshots": 0}, 400, "nshots"),
        ({"circuit": BELL, "device": "qpu9000"}, 400, "qpu9000"),
        ({"circuit": BELL, "project": "secret"}, 400, "secret"),
        ({"circuit": qasm(2, measured=0)}, 400, "measure"),
        ({"circuit": BELL, "seed": -1}, 400, "seed"),
        ({"circuit": BELL, "seed": 2**32}, 400, "seed"),
        ({"circuit": BELL, "seed": 1.5}, 422, "seed"),
        ({"circuit": BELL, "seed": "42"}, 422, "seed"),
        ({"circuit": BELL, "seed": True}, 422, "seed"),
    ],
)
def test_refused_submissions_store_nothing(
    client: TestClient, body: Any, status: int, word: str
) -> None:
    if isinstance(body, bytes):
        response = client.post("/api/jobs/", content=body)
    else:
        response = client.post("/api/jobs/", json=body)
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    assert word in detail
    assert jobs_of(client) == []


@pytest.mark.parametrize("seed", [0, 2**32 - 1, None])
def test_seed_in_range_is_accepted_and_shown(client: TestClient, seed: int | None) -> None:
    pid = client.post("/api/jobs/", json={"circuit": BELL, "seed": seed}).json()["pid"]
    shown = client.get(f"/api/jobs/{pid}/").json()["seed"]
    assert shown == seed if seed is not None else 0 <= shown < 2**32


def test_body_over_the_limit_is_413(tmp_path: Path) -> None:
    with make_client(tmp_path, max_body_bytes=1024) as small:
        response = small.post("/api/jobs/", json={"circuit": BELL + "// pad\n" * 200})
        assert response.status_code == 413
        assert "limit" in response.json()["detail"]
        assert jobs_of(small) == []


def test_idempotency_key_names_the_first_job(client: TestClient) -> None:
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = client.post("/api/jobs/", json={"circuit": BELL}, headers=key).json()["pid"]
    again = client.post("/api/jobs/", json={"circuit": BELL}, headers=key).json()["pid"]
    assert again == first
    assert [job["pid"] for job in jobs_of(client)] == [first]
    theirs = client.post("/api/jobs/", json={"circuit": BELL}, headers={**key, TOKEN_HEADER: BOB})
    assert theirs.json()["pid"] != first
    too_long = {"Idempotency-Key": "k" * (MAX_IDEMPOTENCY_KEY + 1)}
    refused = client.post("/api/jobs/", json={"circuit": BELL}, headers=too_long)
    assert refused.status_code == 400
    assert "Idempotency-Key" in refused.json()["detail"]


def test_too_many_unfinished_jobs_is_429(tmp_path: Path) -> None:
    with make_client(tmp_path, runner=Runner, max_queued_per_user=1) as idle:
        assert idle.post("/api/jobs/", json={"circuit": BELL}).status_code == 200
        refused = idle.post("/api/jobs/", json={"circuit": BELL})
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) > 0


# -- lookups -------------------------------------------------------------------------------------


def test_another_users_job_does_not_exist(client: TestClient) -> None:
    pid = client.post("/api/jobs/", json={"circuit": BELL}).json()["pid"]
    bob = {TOKEN_HEADER: BOB}
    for method, path in [
        ("GET", f"/api/jobs/{pid}/"),
        ("GET", f"/api/jobs/{pid}/download/"),
        ("DELETE", f"/api/jobs/{pid}/"),
        ("GET", f"/api/jobs/batch/?pids={pid}"),
    ]:
        response = client.request(method, path, headers=bob)
        assert response.status_code == 404, (method, path)
        assert pid in response.json()["detail"]
    assert client.get(f"/api/jobs/{pid}/").status_code == 200


def test_queued_job_has_a_position_and_no_result(tmp_path: Path) -> None:
    with make_client(tmp_path, runner=Runner) as idle:
        pids = [idle.post("/api/jobs/", json={"circuit": BELL}).json()["pid"] for _ in range(2)]
        held = idle.post("/api/jobs/", json={"circuit": BELL}, headers={"Prefer": "wait=0.01"})
        assert set(held.json()) == {"pid", "status"}
        job = idle.get(f"/api/jobs/{pids[1]}/", params={"wait": "0.01"}).json()
        assert (job["status"], job["queue_position"], job["result_path"]) == ("queueing", 2, None)
        assert idle.get(f"/api/jobs/{pids[0]}/download/").status_code == 409
        assert idle.get(f"/api/jobs/{pids[0]}/", params={"wait": "soon"}).status_code == 422


# -- batches -------------------------------------------------------------------------------------


def test_batch_answers_every_job_in_order(client: TestClient) -> None:
    jobs = [{"circuit": BELL, "nshots": 5}, {"circuit": qasm(3, "x q[2];"), "nshots": 2}]
    body = client.post("/api/jobs/batch/", json={"jobs": jobs}, headers={"Prefer": "wait=5"})
    answer = body.json()
    assert [job["pid"] for job in answer["jobs"]] == answer["pids"]
    assert [job["frequencies"] for job in answer["jobs"]] == [{"00": 5}, {"000": 2}]
    got = client.get("/api/jobs/batch/", params={"pids": ",".join(answer["pids"][::-1])})
    assert [job["pid"] for job in got.json()["jobs"]] == answer["pids"][::-1]


def test_unfinished_batch_answers_statuses(tmp_path: Path) -> None:
    with make_client(tmp_path, runner=Runner) as idle:
        jobs = [{"circuit": BELL}] * 2
        held = idle.post("/api/jobs/batch/", json={"jobs": jobs}, headers={"Prefer": "wait=0.01"})
        assert held.json()["statuses"] == ["queueing", "queueing"]
        assert "jobs" not in held.json()


@pytest.mark.parametrize(
    ("body", "status", "start"),
    [
        ([BELL], 422, "body must be"),
        ({"jobs": []}, 422, "'jobs' must hold"),
        ({"jobs": [{"circuit": BELL}] * (MAX_BATCH_JOBS + 1)}, 422, "'jobs' must hold"),
        ({"jobs": [{"circuit": BELL}, "text"]}, 422, "jobs[1]: "),
        ({"jobs": [{"circuit": BELL}, {"circuit": BELL, "nshots": -1}]}, 400, "jobs[1]: "),
        ({"jobs": [{"circuit": BELL, "seed": "x"}]}, 422, "jobs[0]: 'seed' must be"),
    ],
)
def test_batch_refusals_store_nothing(
    client: TestClient, body: Any, status: int, start: str
) -> None:
    response = client.post("/api/jobs/batch/", json=body)
    assert response.status_code == status, response.text
    assert response.json()["detail"].startswith(start)
    assert jobs_of(client) == []


def test_batch_key_replayed_on_another_size_is_409(client: TestClient) -> None:
    key = {"Idempotency-Key": uuid.uuid4().hex}
    jobs = [{"circuit": BELL}] * 2
    first = client.post("/api/jobs/batch/", json={"jobs": jobs}, headers=key).json()["pids"]
    again = client.post("/api/jobs/batch/", json={"jobs": jobs}, headers=key).json()["pids"]
    assert again == first
    other = client.post("/api/jobs/batch/", json={"jobs": jobs[:1]}, headers=key)
    assert other.status_code == 409


# -- the OpenAPI document ------------------------------------------------------------------------


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Follow a ``$ref`` inside the document (one level)."""
    ref = schema.get("$ref")
    if ref is None:
        return schema
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    result: dict[str, Any] = node
    return result


def test_openapi_documents_the_submission_body_and_the_job_object(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    post = document["paths"]["/api/jobs/"]["post"]
    body = resolve(document, post["requestBody"]["content"]["application/json"]["schema"])
    assert {"circuit", "nshots", "device", "project", "verbatim", "seed"} <= set(body["properties"])
    assert [branch["required"] for branch in body["anyOf"]] == [
        ["circuit"],
        ["template", "parameters"],
    ]
    assert {"400", "401", "413", "422", "429"} <= set(post["responses"])

    get = document["paths"]["/api/jobs/{pid}/"]["get"]
    job = resolve(document, get["responses"]["200"]["content"]["application/json"]["schema"])
    assert {"pid", "status", "frequencies", "queue_position", "result_path"} <= set(
        job["properties"]
    )
    assert "wait" in {parameter["name"] for parameter in get["parameters"]}

    batch = document["paths"]["/api/jobs/batch/"]["post"]
    batch_body = resolve(document, batch["requestBody"]["content"]["application/json"]["schema"])
    assert "jobs" in batch_body["properties"]
    schemes = document["components"]["securitySchemes"].values()
    assert [scheme["name"] for scheme in schemes] == [TOKEN_HEADER]
    assert client.get("/docs").status_code == 200
