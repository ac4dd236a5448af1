"""Templates end to end: a real loopback server, observed through its public listing
(``GET /api/templates/``: templates, jobs per template, structures parsed) and the client's
session hooks (which requests went out)."""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import requests
from qibo import Circuit, gates

from qibo_client import Client
from qibo_client.circuits.templates import TemplateCache, export, read_circuit
from qibo_client.config import UnsupportedCircuitError
from qibo_client.protocol import (
    DEFAULT_TEMPLATES_PER_USER,
    TOKEN_HEADER,
    pack_parameters,
    template_path,
    unpack_parameters,
)
from qibo_client.server import local_cluster
from qibo_client.settings import JobOptions

SEEDED = JobOptions(nshots=500, seed=11)


def ansatz(nqubits: int = 3, layers: int = 2, *, basis: Any = None) -> Circuit:
    circuit = Circuit(nqubits)
    for _ in range(layers):
        for qubit in range(nqubits):
            circuit.add(gates.RY(qubit, theta=0.1))
            circuit.add(gates.U3(qubit, 0.1, 0.2, 0.3))
        for qubit in range(nqubits - 1):
            circuit.add(gates.CZ(qubit, qubit + 1))
    if basis is None:
        circuit.add(gates.M(*range(nqubits)))
    else:
        circuit.add(gates.M(*range(nqubits), basis=basis))
    return circuit


def with_parameters(circuit: Circuit, seed: int) -> Circuit:
    nparams = len(circuit.get_parameters(output_format="flatlist"))
    circuit.set_parameters(np.random.default_rng(seed).uniform(0, 2 * np.pi, nparams))
    return circuit


def record(client: Client) -> list[str]:
    seen: list[str] = []

    def hook(response: Any, *args: Any, **kwargs: Any) -> None:
        seen.append(f"{response.request.method} {response.status_code} {response.request.path_url}")

    client.api.session.hooks["response"].append(hook)
    return seen


@pytest.fixture
def small_book() -> Iterator[Any]:
    """A server that keeps one template per user (and its own users: nothing shared)."""
    with local_cluster(workers=1, templates_per_user=1) as running:
        yield running


def test_round_trip_sends_the_structure_once(client: Client) -> None:
    assert client.features.templates
    seen = record(client)
    circuit = ansatz()
    results = []
    for seed in range(3):
        job = client.submit(with_parameters(circuit, seed), options=SEEDED, wait=10)
        results.append(job.frequencies())
    puts = [line for line in seen if line.startswith("PUT")]
    assert len(puts) == 1
    assert " 201 " in puts[0]
    assert all(sum(counts.values()) == 500 for counts in results)
    template = export(circuit)
    assert template is not None
    [entry] = [
        t for t in client.api.list_templates()["templates"] if t["id"] == template.template_id
    ]
    assert entry == {"id": template.template_id, "parameters": 24, "jobs": 3}


def bell_with_xs(pattern: int) -> Circuit:
    circuit = Circuit(2)
    circuit.add(gates.H(0))
    circuit.add(gates.CNOT(0, 1))
    circuit.add(gates.X(q) for q in range(2) if pattern >> q & 1)
    circuit.add(gates.M(0, 1))
    return circuit


def test_a_one_off_circuit_without_parameters_is_one_request(client: Client) -> None:
    seen = record(client)
    counts = client.submit(bell_with_xs(1), options=SEEDED, wait=10).frequencies()
    assert set(counts) == {"01", "10"}
    assert [line.split()[0] for line in seen] == ["POST"]  # the job, whole; no PUT first


def test_a_structure_seen_before_becomes_a_template(client: Client) -> None:
    client.submit(bell_with_xs(2), options=SEEDED, wait=10).frequencies()
    seen = record(client)
    counts = client.submit(bell_with_xs(2), options=SEEDED, wait=10).frequencies()
    assert set(counts) == {"10", "01"}
    assert [line.split()[0] for line in seen] == ["PUT", "POST"]
    assert client.fields(bell_with_xs(2))["template"]  # from now on by reference


def test_same_seed_same_counts_with_and_without_templates(cluster: Any) -> None:
    on = Client(cluster.url, cluster.token, progress=False)
    off = Client(cluster.url, cluster.token, progress=False, templates=False)
    for basis in (None, gates.X, gates.Y):
        circuit = ansatz(basis=basis)
        for seed in range(2):
            with_parameters(circuit, seed)
            with_template = on.submit(circuit, options=SEEDED, wait=10).frequencies()
            whole = off.submit(circuit, options=SEEDED, wait=10).frequencies()
            assert with_template == whole
    assert on.encoder.cache.exports == 3
    assert off.encoder.cache.exports == 0


def test_a_shape_change_makes_a_new_template_and_values_do_not(client: Client) -> None:
    circuit = ansatz()
    first = client.fields(with_parameters(circuit, 1))
    again = client.fields(with_parameters(circuit, 2))
    assert first["template"] == again["template"]
    assert first["parameters"] != again["parameters"]
    exports = client.encoder.cache.exports
    grown = Circuit(3)  # the same circuit with one more gate in front
    grown.add(gates.RX(0, theta=0.5))
    grown.add(ansatz().queue)
    changed = client.fields(grown)
    assert changed["template"] != first["template"]
    assert client.encoder.cache.exports == exports + 1
    first_values = unpack_parameters(first["parameters"])
    assert len(unpack_parameters(changed["parameters"])) == len(first_values) + 1
    flat = [float(v) for v in circuit.get_parameters(output_format="flatlist")]
    assert unpack_parameters(again["parameters"]) == flat  # the values travel exactly


def test_a_non_finite_parameter_is_refused_before_any_request(client: Client) -> None:
    circuit = ansatz()
    client.fields(circuit)  # the template is known: the next call sends nothing first
    seen = record(client)
    circuit.queue[0].parameters = (math.nan,)
    with pytest.raises(UnsupportedCircuitError, match="finite"):
        client.submit(circuit, options=SEEDED)
    assert seen == []


def test_a_forgotten_template_is_sent_again_once(small_book: Any) -> None:
    client = Client(small_book.url, small_book.token, progress=False)
    first, second = ansatz(2, 1), ansatz(3, 1)
    client.submit(first, options=SEEDED, wait=10).frequencies()
    client.submit(second, options=SEEDED, wait=10).frequencies()  # the server forgets `first`
    seen = record(client)
    counts = client.submit(with_parameters(first, 3), options=SEEDED, wait=10).frequencies()
    assert sum(counts.values()) == 500
    methods = [line.split(" /")[0] for line in seen]
    assert methods == ["POST 409", "PUT 201", "POST 200"]
    listing = client.api.list_templates()
    assert [t["id"] for t in listing["templates"]] == [export(first).template_id]  # type: ignore[union-attr]
    assert listing["limit"] == 1


def test_a_forgotten_template_in_a_batch_is_sent_again(small_book: Any) -> None:
    client = Client(small_book.url, small_book.token, progress=False)
    shape = ansatz(2, 1)
    client.submit_many([shape, shape], options=SEEDED, wait=10)
    client.submit(ansatz(3, 1), options=SEEDED, wait=10).frequencies()  # forgets `shape`
    seen = record(client)
    jobs = client.submit_many([shape, with_parameters(ansatz(2, 1), 4)], options=SEEDED, wait=10)
    assert [sum(job.frequencies().values()) for job in jobs] == [500, 500]
    assert [line.split(" /")[0] for line in seen][:3] == ["POST 409", "PUT 201", "POST 200"]


_OTHER_PROCESS = """
import sys, requests
from qibo import Circuit, gates
from qibo_client.circuits.templates import TemplateCache, export, read_circuit
circuit = Circuit(3)
for _ in range(2):
    for q in range(3):
        circuit.add(gates.RY(q, theta=0.7))
        circuit.add(gates.U3(q, 0.4, 0.5, 0.6))
    for q in range(2):
        circuit.add(gates.CZ(q, q + 1))
circuit.add(gates.M(0, 1, 2))
template = export(circuit)
url, token, path = sys.argv[1], sys.argv[2], sys.argv[3]
answer = requests.put(url + path.format(template.template_id), data=template.structure,
                      headers={"x-api-token": token}, timeout=30)
print(template.template_id, answer.status_code)
"""


def test_two_processes_share_a_template_id(cluster: Any) -> None:
    token = cluster.add_user("templates-shared@localhost")
    client = Client(cluster.url, token, progress=False)
    client.submit(ansatz(), options=SEEDED, wait=10).frequencies()
    before = client.api.list_templates()
    path = template_path("ID").replace("ID", "{}")
    out = subprocess.run(
        [sys.executable, "-c", _OTHER_PROCESS, cluster.url, token, path],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout.split()
    template = export(ansatz())
    assert template is not None
    assert out == [template.template_id, "200"]  # the same id, already kept: not parsed again
    after = client.api.list_templates()
    assert after["parsed"] == before["parsed"]
    assert [t["id"] for t in after["templates"]] == [template.template_id]


def test_the_server_refuses_bad_parameters(cluster: Any) -> None:
    template = export(ansatz())
    assert template is not None
    headers = {TOKEN_HEADER: cluster.token}
    put = requests.put(
        cluster.url + template_path(template.template_id),
        data=template.structure,
        headers=headers,
        timeout=30,
    )
    assert put.status_code in (200, 201)
    job = {"template": template.template_id, "nshots": 10}
    for parameters, status, words in (
        ([0.1] * 23, 400, "takes 24 parameters, not 23"),
        ([0.1] * 25, 400, "takes 24 parameters, not 25"),
        (["0.1"] * 24, 422, "'parameters' must be"),
        ([True] * 24, 422, "a list of numbers"),
        ([1e308] * 23 + [1e308], 200, ""),
        (0.1, 422, "a list of numbers"),
        ("0.1", 400, "base64"),
        (pack_parameters([0.1] * 23), 400, "takes 24 parameters, not 23"),
        (pack_parameters([0.1] * 23 + [math.nan]), 400, "parameters[23] is nan"),
        (pack_parameters([0.1] * 23 + [math.inf]), 400, "finite"),
        (pack_parameters([0.25] * 24), 200, ""),
    ):
        answer = requests.post(
            cluster.url + "/api/jobs/", json={**job, "parameters": parameters}, headers=headers
        )
        assert answer.status_code == status, answer.text
        assert words in answer.json().get("detail", "")
    body = '{{"template": "{}", "nshots": 10, "parameters": [{}]}}'.format(
        template.template_id,
        ",".join(["0.1"] * 23 + ["1e999"]),
    )
    answer = requests.post(cluster.url + "/api/jobs/", data=body, headers=headers, timeout=30)
    assert answer.status_code in (400, 422)
    assert "finite" in answer.json()["detail"]
    bad_id = requests.put(
        cluster.url + template_path("0" * 64), data=template.structure, headers=headers, timeout=30
    )
    assert bad_id.status_code == 400
    assert "SHA-256" in bad_id.json()["detail"]


def test_a_server_that_lists_no_templates_gets_whole_circuits() -> None:
    with local_cluster(workers=1, profile="tii") as strict:
        client = Client(strict.url, strict.token, progress=False)
        seen = record(client)
        assert client.features.templates is False
        counts = client.submit(ansatz(), options=SEEDED, wait=10).frequencies()
        assert sum(counts.values()) == 500
        assert not any("/api/templates/" in line for line in seen)
        assert client.encoder.cache.exports == 0


def test_groups_of_one_evaluation_carry_their_values_once(cluster: Any) -> None:
    on = Client(cluster.url, cluster.token, progress=False)
    off = Client(cluster.url, cluster.token, progress=False, templates=False)
    groups = [with_parameters(ansatz(basis=basis), 5) for basis in (None, gates.X)]
    for _ in range(2):  # the first step goes whole (one-offs), the second sends the templates
        on.submit_many(groups, options=SEEDED, wait=10)
    bodies: list[bytes] = []
    on.api.session.hooks["response"].append(
        lambda response, *args, **kwargs: bodies.append(response.request.body or b"")
    )
    shared = [job.frequencies() for job in on.submit_many(groups, options=SEEDED, wait=10)]
    whole = [job.frequencies() for job in off.submit_many(groups, options=SEEDED, wait=10)]
    assert shared == whole
    [body] = bodies
    assert body.count(b'"parameters"') == 1
    assert b'"parameters_of": 0' in body or b'"parameters_of":0' in body


def test_a_batch_refuses_parameters_of_a_later_job(cluster: Any) -> None:
    template = export(ansatz())
    assert template is not None
    headers = {TOKEN_HEADER: cluster.token}
    url = cluster.url
    requests.put(
        url + template_path(template.template_id),
        data=template.structure,
        headers=headers,
        timeout=30,
    )
    own = {"template": template.template_id, "parameters": [0.1] * 24, "nshots": 10}
    for ref in (1, -1, "0", True):
        borrowed = {"template": template.template_id, "parameters_of": ref, "nshots": 10}
        answer = requests.post(
            f"{url}/api/jobs/batch/", json={"jobs": [borrowed, own]}, headers=headers, timeout=30
        )
        assert answer.status_code == 422
        assert "jobs[0]: 'parameters_of'" in answer.json()["detail"]


def _measured(*ops: Any, nqubits: int = 2, **circuit_kwargs: Any) -> Circuit:
    circuit = Circuit(nqubits, **circuit_kwargs)
    for op in ops:
        circuit.add(op)
    circuit.add(gates.M(*range(nqubits)))
    return circuit


@pytest.mark.parametrize(
    "circuit",
    [
        _measured(gates.RX(0, 0.1).controlled_by(1, 2), nqubits=3),
        _measured(gates.Unitary(np.eye(2), 0)),
        _measured(gates.fSim(0, 1, 0.1, 0.2)),
        _measured(gates.DepolarizingChannel((0,), 0.1), density_matrix=True),
        Circuit(2),  # nothing measured
    ],
    ids=["controlled_by", "unitary", "fsim", "noise", "unmeasured"],
)
def test_what_cannot_be_a_template_goes_the_usual_way(circuit: Circuit) -> None:
    assert export(circuit) is None
    cache = TemplateCache()
    assert cache.lookup(circuit) is None
    assert cache.lookup(circuit) is None
    assert cache.exports == 1  # the refusal is remembered for that shape


def test_the_signature_sees_shape_registers_and_bases_but_not_values() -> None:
    def signature(circuit: Circuit) -> Any:
        return read_circuit(circuit)[0]

    base = signature(_measured(gates.RY(0, 0.1), gates.CNOT(0, 1)))
    assert signature(_measured(gates.RY(0, 2.5), gates.CNOT(0, 1))) == base
    assert signature(_measured(gates.RY(1, 0.1), gates.CNOT(0, 1))) != base
    assert signature(_measured(gates.RZ(0, 0.1), gates.CNOT(0, 1))) != base
    renamed = Circuit(2)
    renamed.add([gates.RY(0, 0.1), gates.CNOT(0, 1), gates.M(0, 1, register_name="other")])
    assert signature(renamed) != base
    rotated = Circuit(2)
    rotated.add([gates.RY(0, 0.1), gates.CNOT(0, 1), gates.M(0, 1, basis=gates.X)])
    assert signature(rotated) != base
    values = read_circuit(_measured(gates.RY(0, 0.1), gates.U3(1, 0.2, 0.3, 0.4)))[1]
    assert [float(v) for v in values] == [0.1, 0.2, 0.3, 0.4]


def test_named_wires_go_with_the_whole_circuit() -> None:
    named = Circuit(2, wire_names=["q3", "q1"])
    named.add([gates.RY(0, 0.1), gates.CNOT(0, 1), gates.M(0, 1)])
    assert export(named) is None
    plain = _measured(gates.RY(0, 0.1), gates.CNOT(0, 1))
    assert read_circuit(named)[0] != read_circuit(plain)[0]


def distinct_shape(index: int) -> Circuit:
    """One of 2**7 parametrised structures (RX or RY at each of seven places), angles seeded."""
    circuit = Circuit(3)
    for place in range(7):
        rotation = gates.RY if index >> place & 1 else gates.RX
        circuit.add(rotation(place % 3, theta=0.1))
    circuit.add(gates.M(0, 1, 2))
    return with_parameters(circuit, index)


def test_a_batch_of_more_distinct_shapes_than_the_server_keeps_is_queued(cluster: Any) -> None:
    token = cluster.add_user("templates-many-shapes@localhost")
    client = Client(cluster.url, token, progress=False)
    seen = record(client)
    listed = DEFAULT_TEMPLATES_PER_USER
    circuits = [distinct_shape(index) for index in range(listed + 36)]
    jobs = client.submit_many(circuits, options=SEEDED, wait=10)
    assert [sum(job.frequencies().values()) for job in jobs] == [500] * len(circuits)
    # Each structure once in the batch and never seen before: each goes whole, one request.
    assert not any(line.startswith("PUT") or " 409 " in line for line in seen)


def test_a_batch_never_names_more_templates_than_the_server_keeps(cluster: Any) -> None:
    token = cluster.add_user("templates-many-repeats@localhost")
    client = Client(cluster.url, token, progress=False)
    seen = record(client)
    shapes = DEFAULT_TEMPLATES_PER_USER + 36
    circuits = [distinct_shape(index) for index in range(shapes)] * 2  # each structure twice
    jobs = client.submit_many(circuits, options=SEEDED, wait=10)
    assert [sum(job.frequencies().values()) for job in jobs] == [500] * len(circuits)
    puts = [line for line in seen if line.startswith("PUT")]
    assert len(puts) == DEFAULT_TEMPLATES_PER_USER
    assert not any(" 409 " in line for line in seen)
    listing = client.api.list_templates()
    assert sum(t["jobs"] for t in listing["templates"]) == 2 * DEFAULT_TEMPLATES_PER_USER


def test_a_structure_of_a_batch_seen_before_becomes_a_template(client: Client) -> None:
    groups = [with_parameters(ansatz(basis=basis), 7) for basis in (gates.X, gates.Y)]
    client.submit_many(groups, options=SEEDED, wait=10)  # one-offs: whole
    seen = record(client)
    client.submit_many(groups, options=SEEDED, wait=10)
    assert [line.split()[0] for line in seen][:3] == ["PUT", "PUT", "POST"]
    assert all(client.fields(circuit)["template"] for circuit in groups)


def test_many_distinct_shapes_one_by_one_each_come_back(cluster: Any) -> None:
    token = cluster.add_user("templates-one-by-one@localhost")
    client = Client(cluster.url, token, progress=False)
    seen = record(client)
    count = DEFAULT_TEMPLATES_PER_USER + 36
    for index in range(count):
        job = client.submit(distinct_shape(index), options=SEEDED, wait=10)
        assert sum(job.frequencies().values()) == 500
    # A circuit with parameters pays its PUT (a loop would send it again); none is refused.
    assert len([line for line in seen if line.startswith("PUT")]) == count
    assert not any(" 409 " in line for line in seen)
