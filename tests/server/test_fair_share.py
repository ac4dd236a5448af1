"""Fair sharing and quotas, as two users of one server meet them.

The queue is round-robin across users (``fair_queue.py``): a user's one job waits behind at most
one job of each other user, not behind their whole batch, and ``queue_position`` says so. Quotas
are budgets per (user, project), refused with 403 at the edge (``quotas.py``). ``workers=0``
builds a queue that stays put; quotas are set through a second connection to the server's
database, as ``qibo-client serve users quota`` does from another process.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st
from server_helpers import BELL, session_for

from qibo_client import Client, QuotaExceededError
from qibo_client.server import LocalCluster, local_cluster
from qibo_client.server.circuits.qasm_parser import parse_qasm
from qibo_client.server.devices import SIM
from qibo_client.server.jobs.fair_queue import FairQueue
from qibo_client.server.jobs.runner import Outcome, Runner, Task
from qibo_client.server.jobs.store import Store


def job(nshots: int = 10, project: str = "personal") -> dict[str, Any]:
    return {"circuit": BELL, "nshots": nshots, "project": project}


@pytest.fixture(scope="module")
def idle() -> Iterator[LocalCluster]:
    with local_cluster(workers=0) as cluster:
        yield cluster


# -- the order ---------------------------------------------------------------------------------


def test_a_batch_does_not_hold_another_user_s_job_behind_it(idle: LocalCluster) -> None:
    ada = session_for(idle.url, idle.add_user("ada-fair@example.org"))
    bob = session_for(idle.url, idle.add_user("bob-fair@example.org"))
    batch = ada.post(f"{idle.url}/api/jobs/batch/", json={"jobs": [job()] * 5})
    assert batch.status_code == 200, batch.text
    ada_pids = batch.json()["pids"]
    bob_pid = bob.post(f"{idle.url}/api/jobs/", json=job()).json()["pid"]

    def position(session: requests.Session, pid: str) -> int:
        return int(session.get(f"{idle.url}/api/jobs/{pid}/").json()["queue_position"])

    first = position(ada, ada_pids[0])
    assert position(bob, bob_pid) == first + 1  # behind one of ada's, not five
    assert [position(ada, pid) for pid in ada_pids] == [
        first,
        first + 2,
        first + 3,
        first + 4,
        first + 5,
    ]


class Paused:
    """An executor of one slot whose jobs end only when the test says: it records the order in
    which the runner hands jobs out."""

    def __init__(self) -> None:
        self.futures: list[asyncio.Future[Outcome]] = []
        self.started: list[str] = []

    async def start(self, wake: Callable[[], None]) -> None:
        pass

    def slots(self) -> int:
        return 1

    def capacity(self) -> int:
        return 1

    def submit(self, task: Task) -> asyncio.Future[Outcome]:
        self.started.append(task.pid)
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self.futures.append(future)
        return future

    def cancel(self, future: asyncio.Future[Outcome]) -> None:
        future.cancel()

    def shutdown(self) -> None:
        pass


def test_the_runner_takes_jobs_in_the_order_positions_promise() -> None:
    """A paused executor (one slot, released by the test) shows the order jobs really start."""
    executor = Paused()
    started = executor.started

    async def scenario() -> tuple[list[int | None], list[float | None]]:
        runner = Runner(1, lambda outcome: None, executor)
        await runner.start()
        program = parse_qasm(BELL)
        for index in range(4):
            runner.submit(Task(f"a{index}", program, 10, SIM, False), "ada")
        runner.submit(Task("b0", program, 10, SIM, False), "bob")
        runner.submit(Task("c0", program, 10, SIM, False), "cy")
        order = ["a1", "b0", "c0", "a2", "a3"]
        positions = [runner.position(pid) for pid in order]
        estimates = [runner.etd_seconds(pid, runner.position(pid)) for pid in order]
        while len(started) < 6:
            executor.futures[-1].set_result(Outcome(started[-1], ok=True))
            await asyncio.sleep(0)  # let the done callback run and the runner pick the next
        runner.shutdown()
        return positions, estimates

    positions, estimates = asyncio.run(scenario())
    assert started == ["a0", "a1", "b0", "c0", "a2", "a3"]
    assert positions == [1, 2, 3, 4, 5]
    assert all(e is not None for e in estimates)
    assert estimates == sorted(estimates)  # type: ignore[type-var]


Op = tuple[str, int | None, int]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["push", "front", "remove", "pop"]),
            st.sampled_from([None, 1, 2, 3]),
            st.integers(0, 30),
        ),
        max_size=60,
    )
)
def test_positions_are_the_order_of_pops(ops: list[Op]) -> None:
    queue: FairQueue[int] = FairQueue()
    for kind, owner, key in ops:
        if kind == "push":
            queue.push(str(key), key, owner)
        elif kind == "front":
            queue.push_front(str(key), key, owner)
        elif kind == "remove":
            queue.remove(str(key))
        elif queue:
            queue.pop()
    promised = {key: queue.position(key) for key in list(queue)}
    assert list(queue) == sorted(promised, key=lambda key: promised[key])
    taken = [queue.pop()[0] for _ in range(len(queue))]
    assert [promised[key] for key in taken] == list(range(1, len(taken) + 1))


def test_a_lane_waits_behind_at_most_one_job_of_each_other_lane() -> None:
    queue: FairQueue[None] = FairQueue()
    for index in range(500):
        queue.push(f"a{index}", None, "ada")
    for index in range(300):
        queue.push(f"b{index}", None, "bob")
    queue.push("c", None, "cy")
    assert queue.position("c") == 3
    assert queue.position("b0") == 2
    assert queue.position("b1") == 5  # a0 b0 c a1 | b1
    assert queue.position("a499") == 500 + 300 + 1


# -- quotas ------------------------------------------------------------------------------------


@pytest.fixture
def limited(idle: LocalCluster) -> Iterator[tuple[requests.Session, str, Store]]:
    """A fresh user with project ``q`` limited to 100 shots and 3 jobs, set by a second
    connection (what the CLI does), and that connection."""
    email = f"quota-{uuid.uuid4().hex[:12]}@example.org"
    session = session_for(idle.url, idle.add_user(email, projects=["q"]))
    other = Store(idle.db_path)
    other.set_quota(email, "q", shots=100, jobs=3)
    try:
        yield session, email, other
    finally:
        other.close()


def refused(answer: requests.Response, *words: str) -> None:
    assert answer.status_code == 403, answer.text
    detail = answer.json()["detail"]
    assert detail.startswith("quota exceeded on project 'q'"), detail
    for word in words:
        assert word in detail, detail


def test_shots_exactly_at_the_limit_pass_and_one_more_is_refused(
    idle: LocalCluster, limited: tuple[requests.Session, str, Store]
) -> None:
    session, _email, _other = limited
    url = idle.url
    assert session.post(f"{url}/api/jobs/", json=job(60, "q")).status_code == 200
    assert session.post(f"{url}/api/jobs/", json=job(40, "q")).status_code == 200  # at 100
    refused(session.post(f"{url}/api/jobs/", json=job(1, "q")), "1 shots", "0 left of 100")
    quota = next(q for q in session.get(f"{url}/api/projectquotas/").json() if q["project"] == "q")
    assert (quota["shots_left"], quota["shots_max"]) == (0, 100)
    assert (quota["jobs_left"], quota["jobs_max"]) == (1, 3)
    # Another project of the same user is not touched by q's budget.
    assert session.post(f"{url}/api/jobs/", json=job(1000)).status_code == 200


def test_a_batch_that_would_cross_a_quota_queues_nothing(
    idle: LocalCluster, limited: tuple[requests.Session, str, Store]
) -> None:
    session, _email, _other = limited
    url = idle.url
    before = len(session.get(f"{url}/api/jobs/").json())
    crossing = session.post(f"{url}/api/jobs/batch/", json={"jobs": [job(30, "q")] * 4})
    refused(crossing, "over its 3 jobs", "3 left", "nothing was queued")
    too_many_shots = session.post(f"{url}/api/jobs/batch/", json={"jobs": [job(51, "q")] * 2})
    refused(too_many_shots, "102 shots", "100 left of 100")
    assert len(session.get(f"{url}/api/jobs/").json()) == before
    exact = session.post(f"{url}/api/jobs/batch/", json={"jobs": [job(50, "q")] * 2})
    assert exact.status_code == 200, exact.text
    refused(session.post(f"{url}/api/jobs/", json=job(1, "q")), "0 left of 100")


def test_a_quota_raised_on_the_running_server_takes_effect_at_once(
    idle: LocalCluster, limited: tuple[requests.Session, str, Store]
) -> None:
    session, email, other = limited
    url = idle.url
    for _ in range(3):
        assert session.post(f"{url}/api/jobs/", json=job(1, "q")).status_code == 200
    refused(session.post(f"{url}/api/jobs/", json=job(1, "q")), "over its 3 jobs", "0 left")
    # Deleting a job gives nothing back: the budget is spent at submission.
    first = session.get(f"{url}/api/jobs/").json()[0]["pid"]
    assert session.delete(f"{url}/api/jobs/{first}/").status_code == 200
    refused(session.post(f"{url}/api/jobs/", json=job(1, "q")), "over its 3 jobs")
    other.set_quota(email, "q", jobs=4)
    assert session.post(f"{url}/api/jobs/", json=job(1, "q")).status_code == 200


def test_spent_seconds_refuse_the_next_job() -> None:
    with local_cluster(workers=1) as cluster:
        session = session_for(cluster.url, cluster.add_user("secs@example.org", ["q"]))
        other = Store(cluster.db_path)
        try:
            other.set_quota(
                "secs@example.org", "q", seconds=1e-6
            )  # a second of a job's run time is far more
            ran = session.post(
                f"{cluster.url}/api/jobs/", json=job(10, "q"), headers={"Prefer": "wait=30"}
            )
            assert ran.json()["status"] == "success"
            refused(session.post(f"{cluster.url}/api/jobs/", json=job(1, "q")), "0 s left")
        finally:
            other.close()


def test_the_client_names_a_quota_refusal_and_does_not_retry_it(
    idle: LocalCluster, limited: tuple[requests.Session, str, Store]
) -> None:
    session, _email, _other = limited
    client = Client(idle.url, session.headers["x-api-token"], progress=False, journal=False)
    posts: list[int] = []
    client.api.session.hooks["response"].append(
        lambda answer, *args, **kwargs: (
            posts.append(answer.status_code) if answer.request.method == "POST" else None
        )
    )
    with pytest.raises(QuotaExceededError) as refusal:
        client.submit(BELL, nshots=101, project="q")
    assert posts == [403]
    assert refusal.value.status == 403
    assert "100 left of 100" in str(refusal.value)
    assert "operator" in str(refusal.value)
    assert client.jobs() == []
