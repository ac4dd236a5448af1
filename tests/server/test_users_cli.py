"""``qibo-client serve users``, run as an operator runs it: a separate process on the database
of a server that keeps running. What it does counts from the server's next request."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from qibo_client.server import LocalCluster, local_cluster


def users(db: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """``qibo-client serve users ARGV --db DB`` in a process of its own."""
    code = "import sys; from qibo_client.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, "serve", "users", *argv, "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def token_of(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "shown only this once" in lines[1]
    return lines[2].strip()


@pytest.fixture(scope="module", params=["default", "tii"])
def running(request: pytest.FixtureRequest) -> Iterator[LocalCluster]:
    with local_cluster(workers=0, profile=request.param) as cluster:
        yield cluster


def me(cluster: LocalCluster, token: str) -> requests.Response:
    return requests.get(f"{cluster.url}/api/accounts/me/", headers={"x-api-token": token})


def test_a_user_added_to_a_running_server_can_use_its_token_until_revoked(
    running: LocalCluster,
) -> None:
    email = f"cli-{running.state.profile.name}@example.org"
    added = users(running.db_path, "add", email, "--project", "qml")
    token = token_of(added)
    assert token not in added.stderr
    assert me(running, token).json() == {"email": email}

    listed = users(running.db_path, "list")
    assert listed.returncode == 0, listed.stderr
    [row] = [line.split() for line in listed.stdout.splitlines() if line.startswith(email)]
    assert row[1:4] == ["personal,qml", "no", "active"]
    assert token not in listed.stdout

    revoked = users(running.db_path, "revoke", email)
    assert revoked.returncode == 0, revoked.stderr
    refused = me(running, token)
    # Our protocol says 401; TII's service (the tii profile) answers a bad token with 404.
    expected = 404 if running.state.profile.official_shapes else 401
    assert refused.status_code == expected, refused.text
    assert users(running.db_path, "revoke", email).returncode == 1  # nothing left to revoke

    again = token_of(users(running.db_path, "add", email, "--admin"))
    assert me(running, again).status_code == 200
    assert me(running, token).status_code == expected  # the old token stays dead


def test_a_quota_set_from_the_command_line_is_enforced_at_once(running: LocalCluster) -> None:
    email = f"cli-quota-{running.state.profile.name}@example.org"
    token = token_of(users(running.db_path, "add", email))
    done = users(running.db_path, "quota", email, "lab", "--shots", "100", "--jobs", "2")
    assert done.returncode == 0, done.stderr
    assert "shots 0 of 100" in done.stdout
    post = {"circuit": raw_bell(), "nshots": 100, "project": "lab"}
    headers = {"x-api-token": token}
    accepted = requests.post(f"{running.url}/api/jobs/", json=post, headers=headers)
    assert accepted.status_code == 200, accepted.text  # the project came with the quota
    refused = requests.post(f"{running.url}/api/jobs/", json=post, headers=headers)
    assert refused.status_code == 403
    assert "0 left of 100" in refused.json()["detail"]


def raw_bell() -> dict[str, object]:
    """Bell as qibo's circuit.raw (the tii profile takes nothing else)."""
    from qibo import Circuit, gates

    circuit = Circuit(2)
    circuit.add(gates.H(0))
    circuit.add(gates.CNOT(0, 1))
    circuit.add(gates.M(0, 1))
    raw: dict[str, object] = circuit.raw
    return raw


def test_mistakes_are_named_and_change_nothing(tmp_path: Path) -> None:
    missing = users(tmp_path / "none.sqlite3", "list")
    assert missing.returncode == 2
    assert "no database at" in missing.stderr
    assert not (tmp_path / "none.sqlite3").exists()
    db = tmp_path / "accounts.sqlite3"
    assert users(db, "add", "not-an-email").returncode == 2
    token_of(users(db, "add", "ada@example.org"))
    twice = users(db, "add", "ada@example.org")
    assert twice.returncode == 2
    assert "revoke it first" in twice.stderr
    unknown = users(db, "quota", "nobody@example.org", "p", "--shots", "1")
    assert unknown.returncode == 2
    assert "no user nobody@example.org" in unknown.stderr
