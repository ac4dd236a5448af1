"""The retry table (``qibo_client.http.retries``) walked row by row, each kind of request driven
through a fault proxy (``faults.py``) in front of a real server, with each fault a client must
survive: the request dropped before it reaches the server, dropped after (the answer lost), a 503
with ``Retry-After: 0``, and a restart (connections refused for a moment, then the real server
again).

The outcome is read on the real server behind the proxy: the right answer, no duplicate job
(jobs counted there), or the typed error that docs/guarantees.md documents for that row. Every
test uses its own user, so that its jobs are its own to count.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from faults import FaultServer, busy, drop_after, drop_before, forward
from qibo import Circuit, gates

from qibo_client.circuits.templates import export
from qibo_client.config import (
    JobNotFoundError,
    QiboApiError,
    SubmissionUncertainError,
)
from qibo_client.http import retries
from qibo_client.http.api import ServerApi
from qibo_client.protocol import (
    ACCOUNTS_ME_PATH,
    BATCH_PATH,
    BULK_DELETE_PATH,
    DISK_QUOTA_PATH,
    EXTENSION_IDEMPOTENCY,
    JOBS_PATH,
    PROJECT_QUOTAS_PATH,
    TEMPLATES_PATH,
    VERSION_PATH,
    job_path,
    template_path,
)
from qibo_client.qibo_client import Client

BELL = (
    'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg m[2];\nh q[0];\ncx q[0],q[1];\n'
    "measure q[0] -> m[0];\nmeasure q[1] -> m[1];\n"
)
JOB = {"circuit": BELL, "nshots": 10}
#: How long a restart refuses connections: any length does (the client retries until its deadline).
RESTART_MOMENT = 0.3
FAULTS = ("drop-before", "drop-after", "busy-retry-after-0", "restart")
_users = itertools.count()


@dataclasses.dataclass
class World:
    """One test's user: its client through the proxy, and a direct line to the real server."""

    proxy: FaultServer
    upstream: str
    api: ServerApi
    direct: ServerApi
    pid: str = ""
    template: Any = None

    def jobs_on_server(self) -> int:
        return len(self.direct.list_jobs())


@dataclasses.dataclass(frozen=True)
class Drive:
    """How a test drives one kind: the path its fault targets, the request through the proxy,
    the check of its answer, and the number of jobs the server must then hold."""

    path: Callable[[World], str]
    act: Callable[[World], Any]
    check: Callable[[World, Any], None]
    jobs: int | None = None  # None: not a submission (jobs are left as they were)
    setup: Callable[[World], None] = lambda world: None


def _finished_job(world: World) -> None:
    world.pid = world.direct.submit(JOB, hold=30)["pid"]
    assert world.direct.get_job(world.pid, hold=30)["status"] == "success"


def _template(world: World) -> None:
    circuit = Circuit(2)
    circuit.add(gates.RY(0, theta=0.3))
    circuit.add(gates.CNOT(0, 1))
    circuit.add(gates.M(0, 1))
    world.template = export(circuit)


def _gone(world: World, outcome: Any) -> None:
    # A copy sent after the first took effect answers 404: the documented outcome of that row.
    assert outcome is None or isinstance(outcome, JobNotFoundError)
    with pytest.raises(JobNotFoundError):
        world.direct.get_job(world.pid)


def _listed(world: World, outcome: Any) -> None:
    ids = json.dumps(world.direct.list_templates())
    assert world.template.template_id in ids


DRIVES: dict[str, Drive] = {
    "version": Drive(
        lambda w: VERSION_PATH,
        lambda w: w.api.version(),
        lambda w, out: out["server_qibo_version"],
    ),
    "job": Drive(
        lambda w: job_path(w.pid),
        lambda w: w.api.get_job(w.pid),
        lambda w, out: out["status"] == "success" or pytest.fail(str(out)),
        setup=_finished_job,
    ),
    "download": Drive(
        lambda w: job_path(w.pid, "download/"),
        lambda w: w.api.download(w.pid),
        lambda w, out: out[:2] == b"\x1f\x8b" or pytest.fail("not a gzip archive"),
        setup=_finished_job,
    ),
    "jobs": Drive(
        lambda w: JOBS_PATH,
        lambda w: w.api.list_jobs(),
        lambda w, out: [job["pid"] for job in out] == [w.pid] or pytest.fail(str(out)),
        setup=_finished_job,
    ),
    "batch-get": Drive(
        lambda w: BATCH_PATH,
        lambda w: w.api.get_batch([w.pid]),
        lambda w, out: w.pid in json.dumps(out) or pytest.fail(str(out)),
        setup=_finished_job,
    ),
    "templates": Drive(
        lambda w: TEMPLATES_PATH,
        lambda w: w.api.list_templates(),
        lambda w, out: isinstance(out, dict) or pytest.fail(str(out)),
    ),
    "accounts-me": Drive(
        lambda w: ACCOUNTS_ME_PATH,
        lambda w: w.api.accounts_me(),
        lambda w, out: "@" in out["email"] or pytest.fail(str(out)),
    ),
    "disk-quota": Drive(
        lambda w: DISK_QUOTA_PATH,
        lambda w: w.api.disk_quota(),
        lambda w, out: out["kbs_max"] >= 0 or pytest.fail(str(out)),
    ),
    "project-quotas": Drive(
        lambda w: PROJECT_QUOTAS_PATH,
        lambda w: w.api.project_quotas(),
        lambda w, out: bool(out) or pytest.fail("no quotas"),
    ),
    "delete": Drive(
        lambda w: job_path(w.pid),
        lambda w: w.api.delete(w.pid),
        _gone,
        setup=_finished_job,
    ),
    "bulk-delete": Drive(
        lambda w: BULK_DELETE_PATH,
        lambda w: w.api.bulk_delete(),
        lambda w, out: w.jobs_on_server() == 0 or pytest.fail("a job is left"),
        jobs=0,
        setup=_finished_job,
    ),
    "submit": Drive(
        lambda w: JOBS_PATH,
        lambda w: w.api.submit(JOB),
        lambda w, out: (
            [job["pid"] for job in w.direct.list_jobs()] == [out["pid"]] or pytest.fail(str(out))
        ),
        jobs=1,
    ),
    "submit-batch": Drive(
        lambda w: BATCH_PATH,
        lambda w: w.api.submit_batch([JOB, JOB]),
        lambda w, out: len(out["pids"]) == 2 or pytest.fail(str(out)),
        jobs=2,
    ),
    "template-put": Drive(
        lambda w: template_path(w.template.template_id),
        lambda w: w.api.put_template(w.template.template_id, w.template.structure),
        _listed,
        setup=_template,
    ),
}


def test_every_kind_of_request_in_the_table_has_a_drive() -> None:
    assert set(DRIVES) == {kind.name for kind in retries.KINDS}


def test_every_request_of_the_api_names_its_kind() -> None:
    source = (Path(retries.__file__).parent / "api.py").read_text()
    assert source.count("self.session.call(") == 1  # in ServerApi.call, which takes a kind


def test_the_table_in_the_guarantees_is_the_table_in_the_code() -> None:
    docs = Path(__file__).parents[2] / "docs" / "guarantees.md"
    assert retries.table() in docs.read_text()


def _without(extension: str) -> Callable[[bytes], bytes]:
    def edit(body: bytes) -> bytes:
        answer = json.loads(body)
        answer["extensions"] = [name for name in answer["extensions"] if name != extension]
        return json.dumps(answer).encode()

    return edit


@pytest.fixture
def world(cluster: Any, request: pytest.FixtureRequest) -> Iterator[World]:
    """A fresh user; ``request.param`` (indirect): the extension the proxy hides, if any."""
    hidden = getattr(request, "param", None)
    token = cluster.add_user(f"retry-table-{next(_users)}@localhost")
    with FaultServer(lifetime=120, upstream=cluster.url) as proxy:
        if hidden:
            proxy.always(VERSION_PATH, forward(cluster.url, edit=_without(hidden)))
        client = Client(proxy.url, token, progress=False, journal=False, timeout=10)
        direct = Client(cluster.url, token, progress=False, journal=False, timeout=60)
        with client, direct:
            yield World(proxy, cluster.url, client.api, direct.api)


def _fault(world: World, kind: retries.RequestKind, path: str, fault: str) -> None:
    """Script ``fault`` for the next request of ``kind`` (a restart starts now)."""
    if fault == "restart":
        world.proxy.go_down()
        timer = threading.Timer(RESTART_MOMENT, world.proxy.come_back)
        timer.daemon = True
        timer.start()
        return
    play = {
        "drop-before": drop_before(),
        "drop-after": drop_after(world.upstream),
        "busy-retry-after-0": busy("0"),
    }[fault]
    world.proxy.queue(path, play, method=kind.method)


def _run(world: World, kind: retries.RequestKind, fault: str) -> tuple[Any, int]:
    """The outcome of the request of ``kind`` under ``fault``, and how many times it arrived."""
    drive = DRIVES[kind.name]
    drive.setup(world)
    path = drive.path(world).split("?", 1)[0]
    before = world.proxy.seen(path)
    _fault(world, kind, path, fault)
    try:
        return drive.act(world), world.proxy.seen(path) - before
    except JobNotFoundError as error:
        return error, world.proxy.seen(path) - before
    finally:
        world.proxy.up.wait(RESTART_MOMENT * 20)


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("kind", retries.KINDS, ids=lambda kind: kind.name)
def test_each_kind_survives_each_fault_on_a_server_of_ours(
    world: World, kind: retries.RequestKind, fault: str
) -> None:
    drive = DRIVES[kind.name]
    outcome, arrivals = _run(world, kind, fault)
    drive.check(world, outcome)
    # The fault met the request: sent again after it (a restart refused it before it arrived).
    assert arrivals == (1 if fault == "restart" else 2)
    if drive.jobs is not None:
        assert world.jobs_on_server() == drive.jobs  # none lost, none twice


#: What a submission to a server that does not list ``idempotency`` ends with: (error, jobs).
BASE_RULES = {
    "drop-before": (SubmissionUncertainError, 0),
    "drop-after": (SubmissionUncertainError, None),  # None: as many as the request carried
    "busy-retry-after-0": (QiboApiError, 0),
    "restart": (None, None),
}


@pytest.mark.parametrize("world", [EXTENSION_IDEMPOTENCY], indirect=True)
@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize(
    "kind",
    [kind for kind in retries.KINDS if kind.extension == EXTENSION_IDEMPOTENCY],
    ids=lambda kind: kind.name,
)
def test_a_submission_without_idempotency_keys_follows_the_base_rules(
    world: World, kind: retries.RequestKind, fault: str
) -> None:
    assert not world.api.features.idempotency
    drive = DRIVES[kind.name]
    error, jobs = BASE_RULES[fault]
    if error is None:
        drive.check(world, _run(world, kind, fault)[0])
    else:
        with pytest.raises(error) as info:
            _run(world, kind, fault)
        assert "may or may not" in str(info.value)
        assert world.proxy.seen(drive.path(world)) == 1  # never sent twice
    assert world.jobs_on_server() == (drive.jobs if jobs is None else jobs)
