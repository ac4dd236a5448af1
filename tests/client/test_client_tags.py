"""Job names and tags (the ``tags`` extension), from the plugin and the client to the server's
list and back, and never to a server that does not list the extension (the ``tii`` profile)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import qibo
import requests
from qibo import Circuit, gates

from qibo_client import Client, ConfigurationError, cli
from qibo_client.protocol import EXTENSION_TAGS, MAX_JOB_NAME_CHARS, MAX_TAG_CHARS, MAX_TAGS
from qibo_client.server import LocalCluster


@pytest.fixture(autouse=True)
def journal_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QIBO_CLIENT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("QIBO_CLIENT_PROGRESS", "0")
    monkeypatch.delenv("QIBO_CLIENT_TOKEN", raising=False)
    monkeypatch.delenv("QIBO_CLIENT_URL", raising=False)


def bell() -> Circuit:
    circuit = Circuit(2)
    circuit.add(gates.H(0))
    circuit.add(gates.CNOT(0, 1))
    circuit.add(gates.M(0, 1))
    return circuit


def sent_bodies(client: Client) -> list[bytes]:
    """The body of every POST the client sends from now on, as it went on the wire."""
    bodies: list[bytes] = []

    def keep(answer: requests.Response, *args: Any, **kwargs: Any) -> None:
        if answer.request.method == "POST":
            body = answer.request.body
            bodies.append(body.encode() if isinstance(body, str) else bytes(body or b""))

    client.api.session.hooks["response"].append(keep)
    return bodies


def test_names_and_tags_travel_and_filter_the_list(cluster: LocalCluster) -> None:
    client = Client(cluster.url, cluster.add_user(f"{uuid.uuid4().hex[:8]}@tags.org"))
    assert EXTENSION_TAGS in client.server_versions["extensions"]  # type: ignore[index]
    vqe = client.submit(bell(), 100, name="VQE of Tuesday", tags=["vqe", "h2", "vqe"])
    other = client.submit(bell(), 100, tags=["qaoa"])
    plain = client.submit(bell(), 100)
    job = client.api.get_job(vqe.pid)
    assert (job["name"], job["tags"]) == ("VQE of Tuesday", ["vqe", "h2"])
    assert [entry["pid"] for entry in client.jobs(tag="vqe")] == [vqe.pid]
    assert [entry["pid"] for entry in client.jobs(tag="qaoa")] == [other.pid]
    assert client.jobs(tag="nothing") == []
    listed = {entry["pid"]: entry for entry in client.jobs()}
    assert listed[plain.pid]["tags"] == []
    assert listed[plain.pid]["name"] is None
    assert listed[vqe.pid]["tags"] == ["vqe", "h2"]


def test_a_server_without_the_extension_never_receives_them(strict_cluster: LocalCluster) -> None:
    client = Client(strict_cluster.url, strict_cluster.token)
    bodies = sent_bodies(client)
    job = client.submit(bell(), 10, name="secret-name", tags=["secret-tag"])
    assert bodies
    assert all(b"secret" not in body for body in bodies)
    assert "tags" not in client.api.get_job(job.pid)
    with pytest.raises(ConfigurationError, match="does not list the 'tags' extension"):
        client.jobs(tag="secret-tag")
    # The journal keeps them anyway: `qibo-client jobs --tag` works for any server.
    assert cli.main(["jobs", "--offline", "--tag", "secret-tag"]) == 0


def test_the_plugin_tags_every_job_and_the_journal_shows_them(
    cluster: LocalCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    token = cluster.add_user(f"{uuid.uuid4().hex[:8]}@tags.org")
    qibo.set_backend("qibo-client", url=cluster.url, token=token, tags=["lab-run"])
    try:
        bell()(nshots=50)
        bell()(nshots=60)
    finally:
        qibo.set_backend("numpy")
    client = Client(cluster.url, token)
    assert len(client.jobs(tag="lab-run")) == 2
    capsys.readouterr()
    assert cli.main(["jobs", "--offline", "--tag", "lab-run"]) == 0
    out = capsys.readouterr().out
    assert out.count("[lab-run]") == 2
    assert cli.main(["jobs", "--offline", "--tag", "other"]) == 0
    assert "No jobs tagged 'other'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "tags", "says"),
    [
        ("x" * (MAX_JOB_NAME_CHARS + 1), None, "job name is 1 to"),
        ("line\nbreak", None, "control characters"),
        (None, [f"t{i}" for i in range(MAX_TAGS + 1)], f"at most {MAX_TAGS} tags"),
        (None, ["y" * (MAX_TAG_CHARS + 1)], "a tag is 1 to"),
        (None, [""], "a tag is 1 to"),
        (None, "vqe", "list of strings"),
    ],
)
def test_labels_out_of_bounds_are_refused_before_sending(
    cluster: LocalCluster, name: Any, tags: Any, says: str
) -> None:
    client = Client(cluster.url, cluster.token)
    bodies = sent_bodies(client)
    with pytest.raises(ConfigurationError, match=says):
        client.submit(bell(), 10, name=name, tags=tags)
    assert bodies == []


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"tags": [f"t{i}" for i in range(MAX_TAGS + 1)]}, "'tags'"),
        ({"tags": ["bad\ttab"]}, "'tags'"),
        ({"tags": "one-string"}, "'tags'"),
        ({"name": "n" * (MAX_JOB_NAME_CHARS + 1)}, "'name'"),
        ({"name": ""}, "'name'"),
    ],
)
def test_the_server_refuses_labels_out_of_bounds(
    cluster: LocalCluster, extra: dict[str, Any], field: str
) -> None:
    body = {"circuit": bell().raw, "nshots": 10, **extra}
    answer = requests.post(
        f"{cluster.url}/api/jobs/", json=body, headers={"x-api-token": cluster.token}
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"].startswith(f"{field} must be")
