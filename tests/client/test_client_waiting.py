"""The one wait policy (qibo_client.jobs.waiting): holds, backoff, one deadline, on a fake clock."""

from __future__ import annotations

import pytest

from qibo_client import protocol
from qibo_client.config import JobTimeoutError
from qibo_client.http.api import ServerFeatures
from qibo_client.jobs import waiting
from qibo_client.jobs.waiting import Deadline, Step, wait_until
from qibo_client.protocol import MAX_WAIT_SECONDS


class Clock:
    """A fake ``time`` for the waiting module: sleeping and holding only move the hands."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(waiting, "time", fake)
    return fake


def late() -> JobTimeoutError:
    return JobTimeoutError(pid="j1", timeout=0)


def test_a_server_that_ignores_holds_is_polled_until_the_deadline(clock: Clock) -> None:
    holds: list[float] = []
    features = ServerFeatures()

    def step(hold: float) -> Step:
        holds.append(hold)
        clock.now += 0.01  # answers at once, whatever was asked
        return Step(done=False)

    with pytest.raises(JobTimeoutError):
        wait_until(step, Deadline(20.0), features, late, sleep=clock.sleep)
    assert holds[0] == 20.0  # first asked to hold the whole deadline...
    assert features.holds is False  # ...which showed that it does not
    assert set(holds[1:]) == {0.0}  # then plain polls
    assert 20.0 <= clock.now - 1000.0 <= 20.0 + 0.01 * len(holds)  # the deadline, no later
    # The protocol's schedule: POLL_START first, growing POLL_GROWTH times, capped at POLL_MAX.
    start, growth = waiting.POLL_START, waiting.POLL_GROWTH
    assert clock.sleeps[:3] == pytest.approx([start, start * growth, start * growth**2])
    assert max(clock.sleeps) == waiting.POLL_MAX <= 5.0
    assert len(holds) < 20


def _seen_at(clock: Clock, life: float) -> tuple[float, int]:
    """When a polled job that ends ``life`` s after its first look is seen done, and in how
    many polls (a server that does not hold, answering at once)."""
    start = clock.now
    polls = 0

    def step(hold: float) -> Step:
        nonlocal polls
        polls += 1
        return Step(done=clock.now - start >= life)

    wait_until(step, Deadline(None), ServerFeatures(holds=False), late, sleep=clock.sleep)
    return clock.now - start, polls


def test_a_short_job_is_seen_soon_after_it_ends(clock: Clock) -> None:
    assert waiting.POLL_START == protocol.POLL_START == 0.05  # the first poll after 50 ms
    assert _seen_at(clock, 0.2)[0] <= 0.3  # a 0.2 s job seen by 1.5x its life


def test_every_job_past_the_first_polls_is_seen_within_one_and_a_half_times_its_life(
    clock: Clock,
) -> None:
    lives = [0.55 + 0.05 * i for i in range(1200)]  # 0.55 s to one minute
    worst = max(_seen_at(clock, life)[0] / life for life in lives)
    assert 1.4 < worst <= 1.5


def test_a_five_minute_job_costs_fewer_polls_than_the_official_clients_pace(
    clock: Clock,
) -> None:
    polls = _seen_at(clock, 300.0)[1]
    official = int(300.0 / protocol.OFFICIAL_POLL_SECONDS) + 1  # at 0, 2, ..., 300 s
    assert polls == protocol.POLL_REQUESTS_5_MIN < official == 151


def test_a_holding_server_is_held_without_pauses(clock: Clock) -> None:
    holds: list[float] = []
    features = ServerFeatures()

    def step(hold: float) -> Step:
        holds.append(hold)
        clock.now += hold  # the server holds the whole time asked
        return Step(done=len(holds) == 3)

    wait_until(step, Deadline(None), features, late, sleep=clock.sleep)
    assert holds == [MAX_WAIT_SECONDS] * 3
    assert features.holds is True
    assert clock.sleeps == []


def test_holds_shrink_to_the_deadline_and_the_timeout_is_typed(clock: Clock) -> None:
    holds: list[float] = []

    def step(hold: float) -> Step:
        holds.append(hold)
        clock.now += hold
        return Step(done=False)

    with pytest.raises(JobTimeoutError):
        wait_until(step, Deadline(45.0), ServerFeatures(), late, sleep=clock.sleep)
    assert holds == [30.0, 15.0]


def test_an_early_answer_with_news_is_not_taken_for_an_ignored_hold(clock: Clock) -> None:
    features = ServerFeatures()
    answers = iter([Step(False, news=True), Step(True)])

    def step(hold: float) -> Step:
        clock.now += 0.01
        return next(answers)

    wait_until(step, Deadline(None), features, late, sleep=clock.sleep)
    assert features.holds is True


def test_a_server_that_lists_its_extensions_is_believed(clock: Clock) -> None:
    features = ServerFeatures.from_version({"extensions": ["batch"]})
    assert (features.holds, features.batches) == (False, True)
    assert (features.qasm, features.idempotency, features.circuit_format) == (False, False, "raw")
    holds: list[float] = []

    def step(hold: float) -> Step:
        holds.append(hold)
        return Step(done=len(holds) == 3)

    wait_until(step, Deadline(None), features, late, sleep=clock.sleep)
    assert holds == [0.0, 0.0, 0.0]
    features.learn_holds(True)  # nothing is learnt from a server that listed its extensions
    assert features.holds is False


def test_a_server_that_lists_nothing_gets_the_base_protocol() -> None:
    """TII's service and older servers list nothing: raw circuits, polling, no batches or keys."""
    for body in ({"server_qibo_version": "0.3.6"}, {"qibo_version": "0.3.6"}, "not even JSON"):
        features = ServerFeatures.from_version(body)
        assert features == ServerFeatures(False, False, False, False, False, listed=True)
        assert features.circuit_format == "raw"
    full = ServerFeatures.from_version({"extensions": ["qasm", "raw", "wait", "idempotency"]})
    assert (full.holds, full.batches, full.qasm, full.idempotency) == (True, False, True, True)
    assert full.circuit_format == "qasm"
    features.learn_holds(True)  # trying cannot overrule the list
    assert features.holds is False


def test_the_step_runs_once_even_with_no_time_left(clock: Clock) -> None:
    calls: list[float] = []

    def step(hold: float) -> Step:
        calls.append(hold)
        return Step(done=False)

    with pytest.raises(JobTimeoutError):
        wait_until(step, Deadline(0.0), ServerFeatures(), late, sleep=clock.sleep)
    assert calls == [0.0]


def _polls_of_a_fresh_job(clock: Clock, features: ServerFeatures, since: float) -> list[float]:
    """When a wait begun now polls a job submitted at ``since`` that ends 0.2 s after it."""
    asked: list[float] = []

    def step(hold: float) -> Step:
        asked.append(round(clock.now - since, 6))
        return Step(done=clock.now - since >= 0.2)

    wait_until(step, Deadline(None), features, late, sleep=clock.sleep, since=since)
    return asked


def test_a_wait_begun_at_a_submission_first_polls_poll_start_after_it(clock: Clock) -> None:
    """No look at once on a server that does not hold: the schedule counts from the submission."""
    start, growth = waiting.POLL_START, waiting.POLL_GROWTH
    asked = _polls_of_a_fresh_job(clock, ServerFeatures(holds=False), since=clock.now)
    second = start + start * growth
    assert asked == pytest.approx([start, second, second + start * growth**2])
    assert len(asked) == 3  # one request fewer than a wait that looks at once (0, 0.05, ...)


def test_a_wait_begun_later_sleeps_only_what_is_left_of_poll_start(clock: Clock) -> None:
    since = clock.now
    clock.now += 0.02  # the caller did something else for 20 ms after submitting
    asked = _polls_of_a_fresh_job(clock, ServerFeatures(holds=False), since=since)
    assert asked[0] == pytest.approx(waiting.POLL_START)
    assert clock.sleeps[0] == pytest.approx(waiting.POLL_START - 0.02)


def test_an_old_job_or_a_holding_server_is_asked_at_once(clock: Clock) -> None:
    old = clock.now - 10.0  # submitted long ago: it may well be done
    assert _polls_of_a_fresh_job(clock, ServerFeatures(holds=False), since=old)[0] == 10.0
    for features in (ServerFeatures(), ServerFeatures(holds=True)):  # a hold answers at its end
        assert waiting.first_pause(clock.now, features) is None


class _PolledApi:
    """The part of ``ServerApi`` a Job waits through: a server that does not hold, whose job
    ends 0.2 s after ``born``; it notes when each GET comes, from ``born``."""

    def __init__(self, clock: Clock, born: float) -> None:
        self.features = ServerFeatures(holds=False)
        self.clock, self.born = clock, born
        self.asked: list[float] = []

    def get_job(self, pid: str, *, hold: float = 0.0, max_bytes: int | None = None) -> object:
        self.asked.append(round(self.clock.now - self.born, 6))
        return {"pid": pid, "status": "success" if self.asked[-1] >= 0.2 else "running"}


def test_a_submitted_job_waits_poll_start_and_a_job_from_its_pid_does_not(clock: Clock) -> None:
    from qibo_client.jobs.job import Job

    fresh = _PolledApi(clock, clock.now)
    Job(fresh, "j1", submitted_at=waiting.now()).wait()  # type: ignore[arg-type]
    assert fresh.asked[0] == pytest.approx(waiting.POLL_START)
    assert len(fresh.asked) == 3

    rebuilt = _PolledApi(clock, clock.now)
    Job(rebuilt, "j1").wait()  # type: ignore[arg-type]  # as Job.from_pid builds it
    assert rebuilt.asked[0] == 0.0  # client.get_job(pid).wait(): asked at once
    assert len(rebuilt.asked) == 4
