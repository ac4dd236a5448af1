"""The ``tii`` profile over plain HTTP: what it refuses, ignores and answers differently."""

from __future__ import annotations

import argparse
from typing import Any

import pytest
import requests
from qibo import Circuit, gates

from qibo_client.server.cli import add_arguments
from qibo_client.server.profiles import DEFAULT, TII, TII_2026, USER_NOT_FOUND, profile_named


def bell_raw() -> dict[str, Any]:
    circuit = Circuit(2)
    circuit.add(gates.H(0))
    circuit.add(gates.CNOT(0, 1))
    circuit.add(gates.M(0, 1))
    return dict(circuit.raw)


@pytest.fixture
def session(strict_cluster: Any) -> requests.Session:
    session = requests.Session()
    session.headers["x-api-token"] = strict_cluster.add_user("plain@example.org")
    return session


def test_the_version_answer_lists_nothing_and_speaks_both_generations(
    strict_cluster: Any,
) -> None:
    body = requests.get(f"{strict_cluster.url}/api/qibo_version/", timeout=10).json()
    assert set(body) == {
        "server_qibo_version",
        "minimum_client_qibo_version",
        "minimum_qibo_version",
        "minimum_client_version",
    }
    assert body["minimum_client_qibo_version"] == body["minimum_qibo_version"] == "0.3.2"


def test_batches_do_not_exist_and_holds_are_ignored(
    strict_cluster: Any, session: requests.Session
) -> None:
    url = strict_cluster.url
    assert session.post(f"{url}/api/jobs/batch/", json={"jobs": []}).status_code == 405
    assert session.get(f"{url}/api/jobs/batch/", params={"pids": "a"}).status_code == 404
    answer = session.post(
        f"{url}/api/jobs/", json={"circuit": bell_raw(), "nshots": 10}, headers={"Prefer": "wait=5"}
    )
    assert set(answer.json()) == {"pid"}  # no job object: the hold was ignored
    assert "preference-applied" not in answer.headers
    pid = answer.json()["pid"]
    # ?wait= is ignored, even an invalid one (our default profile answers that with 422).
    assert session.get(f"{url}/api/jobs/{pid}/", params={"wait": "soon"}).status_code == 200


def test_a_missing_or_wrong_token_is_a_404_user_not_found(strict_cluster: Any) -> None:
    for headers in ({}, {"x-api-token": "tok-wrong"}):
        answer = requests.get(f"{strict_cluster.url}/api/jobs/", headers=headers, timeout=10)
        assert answer.status_code == 404
        assert answer.json() == {"detail": USER_NOT_FOUND}


def test_a_seed_is_ignored(strict_cluster: Any, session: requests.Session) -> None:
    body = {"circuit": bell_raw(), "nshots": 10, "seed": 7}
    pid = session.post(f"{strict_cluster.url}/api/jobs/", json=body).json()["pid"]
    assert "seed" not in session.get(f"{strict_cluster.url}/api/jobs/{pid}/").json()


def test_serve_takes_a_profile() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert parser.parse_args([]).profile == "default"
    assert profile_named(parser.parse_args(["--profile", "tii"]).profile) is TII
    assert profile_named(parser.parse_args(["--profile", "tii-2026"]).profile) is TII_2026
    assert profile_named(DEFAULT) is DEFAULT
    with pytest.raises(SystemExit):
        parser.parse_args(["--profile", "nonsense"])
    with pytest.raises(ValueError, match="default, tii, tii-2026"):
        profile_named("nonsense")
