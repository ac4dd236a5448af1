"""The server's side of templates: structures checked, jobs that survive a restart, and a worker
that builds each template's circuit once and only sets parameters afterwards."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import requests
from qibo import Circuit, gates
from server_helpers import session_for

from qibo_client.circuits.templates import export
from qibo_client.protocol import template_id_of, template_path
from qibo_client.server import local_cluster
from qibo_client.server.circuits.program import Op, Program
from qibo_client.server.devices import SIM
from qibo_client.server.jobs import template_runs
from qibo_client.server.jobs.template_runs import TemplateRun
from qibo_client.server.jobs.templates import check_values, parse_structure
from qibo_client.server.jobs.worker import Task, run_task


def circuit() -> Circuit:
    built = Circuit(3)
    built.add(gates.H(0))
    built.add(gates.RY(1, theta=0.2))
    built.add(gates.CU3(0, 2, 0.1, 0.2, 0.3))
    built.add(gates.M(0, 1, 2, basis=[gates.X, gates.Y, gates.Z]))
    return built


def structure(**change: object) -> bytes:
    obj = {
        "format": "qibo-client-template/1",
        "nqubits": 2,
        "gates": [["RY", [0]], ["CNOT", [0, 1]]],
        "measurements": [["m", [0, 1]]],
    }
    obj.update(change)
    return json.dumps(obj).encode()


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"format": "other/1"}, "format"),
        ({"nqubits": 0}, "nqubits"),
        ({"gates": [["FOO", [0]]]}, "gates[0]"),
        ({"gates": [["RY", [2]]]}, "qubit 2"),
        ({"gates": [["CNOT", [0, 0]]]}, "twice"),
        ({"gates": [["CNOT", [0]]]}, "acts on 2"),
        ({"measurements": []}, "non-empty"),
        ({"measurements": [["m", [0]], ["m", [1]]]}, "register"),
        ({"measurements": [["a", [0]], ["b", [0]]]}, "measured twice"),
    ],
)
def test_bad_structures_are_refused(change: dict[str, object], words: str) -> None:
    with pytest.raises(ValueError, match=words.replace("[", r"\[")):
        parse_structure(structure(**change))


def test_parameter_values_are_checked() -> None:
    assert check_values([0.5, 1], 2) == [0.5, 1]
    for values, words in (([0.5], "takes 2"), ([0.5, None], "finite"), ([1e308, 1e308], "")):
        if words:
            with pytest.raises(ValueError, match=words):
                check_values(values, 2)
        else:
            assert check_values(values, 2) == values  # finite, even if their sum overflows
    with pytest.raises(ValueError, match="parameters\\[1\\]"):
        check_values([0.0, float("inf")], 2)


def test_a_worker_builds_a_template_once_and_matches_a_whole_circuit() -> None:
    template = export(circuit())
    assert template is not None
    program = parse_structure(template.structure)
    blob = pickle.dumps(program)
    built = template_runs.builds
    for values in ([0.3, 1.0, 2.0, 3.0], [1.3, 0.1, 0.2, 0.7]):
        run = TemplateRun(template.template_id, blob, tuple(values))
        # The same circuit with its values written in, as a whole-circuit job would carry it.
        ops = list(program.ops)  # H, RY, CU3, then the X and Y basis rotations
        assert [op.name for op in ops[:3]] == ["H", "RY", "CU3"]
        ops[1] = Op("RY", ops[1].qubits, (values[0],))
        ops[2] = Op("CU3", ops[2].qubits, tuple(values[1:]))
        whole = Program(program.nqubits, tuple(ops), program.measurements)
        first = run_task(Task("t", run, 3000, SIM, False, seed=5))
        second = run_task(Task("w", whole, 3000, SIM, False, seed=5))
        assert first.ok, first.stderr
        assert second.ok, second.stderr
        assert first.frequencies_json == second.frequencies_json
    assert template_runs.builds == built + 1
    assert template_runs.built_count() >= 1


def test_a_queued_template_job_runs_after_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "cluster.sqlite3"
    template = export(circuit())
    assert template is not None
    with local_cluster(workers=0, db_path=db, templates_per_user=1) as first:
        session = session_for(first.url, first.token)
        put = session.put(first.url + template_path(template.template_id), data=template.structure)
        assert put.status_code == 201, put.text
        job = {"template": template.template_id, "parameters": [0.1] * 4, "nshots": 10}
        pid = session.post(f"{first.url}/api/jobs/", json=job).json()["pid"]
        # Another template takes the only place: the queued job's structure stays on file.
        other = structure()
        assert session.put(first.url + template_path(template_id_of(other)), data=other).ok
        again = session.post(f"{first.url}/api/jobs/", json=job)
        assert again.status_code == 409
        assert "unknown_template:" in again.json()["detail"]

    with local_cluster(workers=1, db_path=db) as second:
        session = session_for(second.url, second.token)
        answer = session.get(f"{second.url}/api/jobs/{pid}/", params={"wait": 30}).json()
        assert answer["status"] == "success", answer["stderr"]
        assert sum(answer["frequencies"].values()) == 10
        assert answer["circuit"] == {"template": template.template_id, "parameters": [0.1] * 4}


def test_templates_are_not_offered_when_not_listed() -> None:
    with local_cluster(workers=0, profile="tii") as strict:
        session = session_for(strict.url, strict.token)
        version = requests.get(f"{strict.url}/api/qibo_version/", timeout=30).json()
        assert "extensions" not in version
        other = structure()
        put = session.put(strict.url + template_path(template_id_of(other)), data=other)
        assert put.status_code == 404
        job = {"template": template_id_of(other), "parameters": [0.1], "nshots": 10}
        refused = session.post(f"{strict.url}/api/jobs/", json=job)
        assert refused.status_code == 400
        assert "no templates" in refused.json()["detail"]
