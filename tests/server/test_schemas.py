"""``/docs`` says what the server accepts: the OpenAPI document against a real server.

The request models both validate and document, so the two cannot drift by construction; these
tests keep it so from the outside. Each request body's schema is taken from ``app.openapi()``
and checked with a JSON-schema validator: bodies that use every documented field between them are
accepted by a real server; a value the document refuses for a field is refused by the server,
which names the field; and over a corpus of bodies (test_bad_input's among them), the document
and the models agree on which bodies have the right shape.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from pydantic import ValidationError
from qibo import Circuit, gates
from server_helpers import BELL, Api
from test_bad_input import CASES

from qibo_client.protocol import template_id_of, template_path
from qibo_client.server import LocalCluster
from qibo_client.server.api.app import create_app
from qibo_client.server.api.schemas import BatchSubmission, JobSubmission
from qibo_client.server.state import ServerConfig

DOCUMENT = create_app(ServerConfig(db_path=Path("never-opened.sqlite3"), workers=0)).openapi()
#: A template of one parameter (docs/protocol.md, "Templates").
STRUCTURE = (
    b'{"format": "qibo-client-template/1", "nqubits": 2, '
    b'"gates": [["RY", [0]], ["CNOT", [0, 1]]], "measurements": [["m", [0, 1]]]}'
)
TEMPLATE = template_id_of(STRUCTURE)
#: Values of every JSON type; for each field, the first its schema refuses is sent.
EVERY_TYPE: list[Any] = [{"an": "object"}, [["nested"]], "text", 2.5, True, -1]


def body_schema(path: str) -> dict[str, Any]:
    """The JSON schema of ``POST path``'s body, its ``$ref`` resolvable in the document."""
    content = DOCUMENT["paths"][path]["post"]["requestBody"]["content"]["application/json"]
    return {**content["schema"], "components": DOCUMENT["components"]}


JOB = Draft202012Validator(body_schema("/api/jobs/"))
BATCH = Draft202012Validator(body_schema("/api/jobs/batch/"))


def properties(model: str) -> dict[str, Any]:
    found: dict[str, Any] = DOCUMENT["components"]["schemas"][model]["properties"]
    return found


def field_schema(model: str, name: str) -> Draft202012Validator:
    schema = {**properties(model)[name], "components": DOCUMENT["components"]}
    return Draft202012Validator(schema)


def bell_raw() -> dict[str, Any]:
    circuit = Circuit(2)
    circuit.add([gates.H(0), gates.CNOT(0, 1), gates.M(0, 1)])
    return dict(circuit.raw)


#: Between them, every field of a single job: a circuit's fields and a template's exclude each
#: other (a job sends one or the other).
CIRCUIT_JOB = {
    "circuit": bell_raw(),
    "nshots": 10,
    "device": "sim",
    "project": "personal",
    "verbatim": False,
    "seed": 7,
    # (|00> + |10>)/sqrt(2): the Bell circuit's H takes it to |00>, so every shot reads 00.
    "initial_state": [[2**-0.5, 0], 0, 2**-0.5, 0],
    "name": "every field",
}
TEMPLATE_JOB = {"template": TEMPLATE, "parameters": [0.25], "nshots": 10, "tags": ["schema"]}


@pytest.fixture
def session(cluster: LocalCluster, api: Api, fresh_user: str) -> requests.Session:
    """A new user's session that has :data:`TEMPLATE`."""
    session = api(fresh_user)
    assert session.put(cluster.url + template_path(TEMPLATE), data=STRUCTURE).ok
    return session


def accepted(session: requests.Session, url: str, body: Any) -> dict[str, Any]:
    response = session.post(url, json=body, headers={"Prefer": "wait=20"})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_bodies_that_use_every_documented_field_run_on_a_real_server(
    cluster: LocalCluster, session: requests.Session
) -> None:
    assert set(CIRCUIT_JOB) | set(TEMPLATE_JOB) == set(properties("JobSubmission"))
    jobs = []
    for body in (CIRCUIT_JOB, TEMPLATE_JOB):
        JOB.validate(body)
        jobs.append(accepted(session, f"{cluster.url}/api/jobs/", body))
    assert [job["status"] for job in jobs] == ["success"] * 2, jobs
    assert jobs[0]["frequencies"] == {"00": 10}  # the initial state was used
    assert jobs[0]["seed"] == 7
    assert jobs[0]["name"] == "every field"
    assert jobs[1]["tags"] == ["schema"]
    assert sum(jobs[1]["frequencies"].values()) == 10


def test_a_batch_that_uses_every_documented_field_runs_on_a_real_server(
    cluster: LocalCluster, session: requests.Session
) -> None:
    shared = {"template": TEMPLATE, "parameters_of": 0, "nshots": 10}
    body = {"jobs": [TEMPLATE_JOB, shared, CIRCUIT_JOB]}
    assert set(body) == set(properties("BatchSubmission"))
    assert set().union(*body["jobs"]) == set(properties("BatchJob"))
    BATCH.validate(body)
    answer = accepted(session, f"{cluster.url}/api/jobs/batch/", body)
    assert [job["status"] for job in answer["jobs"]] == ["success"] * 3
    first, second, _ = answer["jobs"]
    assert second["circuit"]["parameters"] == first["circuit"]["parameters"] == [0.25]


@pytest.mark.parametrize("name", sorted(properties("JobSubmission")))
def test_a_value_the_document_refuses_is_refused_naming_the_field(
    cluster: LocalCluster, session: requests.Session, name: str
) -> None:
    wrong = next(v for v in EVERY_TYPE if not field_schema("JobSubmission", name).is_valid(v))
    body = {**CIRCUIT_JOB, name: wrong}
    assert not JOB.is_valid(body)
    response = session.post(f"{cluster.url}/api/jobs/", json=body)
    assert response.status_code in (400, 422), response.text
    assert response.json()["detail"].startswith(f"'{name}' must be")
    assert session.get(f"{cluster.url}/api/jobs/").json() == []


@pytest.mark.parametrize("name", sorted(properties("JobSubmission")))
def test_null_is_accepted_where_the_document_allows_it(
    cluster: LocalCluster, session: requests.Session, name: str
) -> None:
    body = {**(TEMPLATE_JOB if name == "circuit" else CIRCUIT_JOB), name: None}
    nullable = field_schema("JobSubmission", name).is_valid(None)
    assert JOB.is_valid(body) == nullable
    response = session.post(f"{cluster.url}/api/jobs/", json=body)
    assert (response.status_code == 200) == nullable, response.text


def shape_accepted(model: type[JobSubmission | BatchSubmission], body: Any) -> bool:
    try:
        model.model_validate(body)
    except ValidationError:
        return False
    return True


#: Bodies whose shape is in question: test_bad_input's, and edges of every field.
CORPUS: list[Any] = [case[1] for case in CASES if not isinstance(case[1], bytes)] + [
    {},
    {"circuit": None},
    {"circuit": BELL, "template": None},
    {"template": TEMPLATE},
    {"template": TEMPLATE, "parameters": None},
    {"template": TEMPLATE, "parameters": "packed"},
    {"template": TEMPLATE, "parameters": [1, 2.5]},
    {"template": TEMPLATE, "parameters": [True]},
    {"template": "", "parameters": []},
    {"circuit": BELL, "nshots": 1, "seed": 0},
    {"circuit": BELL, "nshots": 10.0, "seed": 7.0},
    {"circuit": BELL, "nshots": 1e3},
    {"circuit": BELL, "nshots": 0.5},
    {"circuit": BELL, "seed": 2**32 - 1},
    {"circuit": BELL, "seed": 2**32},
    {"circuit": BELL, "device": None, "project": None, "verbatim": None},
    {"circuit": BELL, "project": ""},
    {"circuit": {}, "initial_state": [1, [0, 1]]},
    {"circuit": {}, "initial_state": [[0, 1, 2]]},
    {"circuit": {}, "initial_state": ["1"]},
    {"circuit": BELL, "unknown field": "ignored"},
]


@pytest.mark.parametrize("body", CORPUS)
def test_the_document_and_the_models_agree_on_a_jobs_shape(body: Any) -> None:
    assert JOB.is_valid(body) == shape_accepted(JobSubmission, body)
    batch = {"jobs": [body]}
    assert BATCH.is_valid(batch) == shape_accepted(BatchSubmission, batch)


#: Any JSON value, small.
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=8,
)
JOB_FIELDS = [*sorted(properties("BatchJob")), "unknown"]


@settings(derandomize=True, max_examples=300, deadline=None)
@given(
    st.dictionaries(st.sampled_from(JOB_FIELDS), JSON_VALUES | st.sampled_from([BELL, TEMPLATE]))
)
def test_the_document_and_the_models_agree_on_any_body(body: dict[str, Any]) -> None:
    assert JOB.is_valid(body) == shape_accepted(JobSubmission, body)
    batch = {"jobs": [body]}
    assert BATCH.is_valid(batch) == shape_accepted(BatchSubmission, batch)


@pytest.mark.parametrize(
    "body",
    [
        {"jobs": []},
        {"jobs": [{"circuit": BELL}] * 1001},
        {"jobs": "text"},
        {"jobs": [{"template": TEMPLATE, "parameters_of": 0}]},
        {"jobs": [{"template": TEMPLATE, "parameters_of": "0"}]},
        {"jobs": [{"template": TEMPLATE, "parameters_of": 0.0}]},
        [],
    ],
)
def test_the_document_and_the_models_agree_on_a_batchs_shape(body: Any) -> None:
    assert BATCH.is_valid(body) == shape_accepted(BatchSubmission, body)


def test_every_route_that_reads_a_body_documents_it() -> None:
    for path, operations in DOCUMENT["paths"].items():
        for method, operation in operations.items():
            if method in ("post", "put", "patch"):
                assert "requestBody" in operation, (method, path)
