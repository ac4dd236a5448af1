"""The client against a server that misbehaves on purpose (``faults.py``): it never stalls past its
deadline, never re-sends what may not be repeated, and turns any answer into a value or a typed
error.

Time bounds are asserted only with wide margins tied to the configured deadline (the measured
figures are in ``benchmarks/cases/b10_faults.py``).
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from faults import (
    VERSIONS,
    FaultServer,
    broken_chunks,
    cut,
    drip,
    huge,
    json_reply,
    nested,
    raw_reply,
    silent,
)

from qibo_client.config import (
    JobTimeoutError,
    MalformedResponseError,
    QiboApiError,
    ServerUnreachableError,
    TransportError,
)
from qibo_client.http import deadline as budget
from qibo_client.http.session import ApiSession, default_retry
from qibo_client.qibo_client import Client

TOKEN = "tok-faults-SECRET"
DEADLINE = 1.0
#: Margin of every time bound: generous, so that a loaded machine never fails a test.
MARGIN = 5.0
JOBS = "/api/jobs/"
BELL_QASM = (
    'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg m[2];\nh q[0];\ncx q[0],q[1];\n'
    "measure q[0] -> m[0];\nmeasure q[1] -> m[1];\n"
)


def _session(faults: FaultServer, timeout: float | None = DEADLINE) -> ApiSession:
    return ApiSession(faults.url, TOKEN, timeout=timeout)


# -- timeout is a deadline -----------------------------------------------------------------------


def test_a_server_that_never_answers_costs_the_deadline_not_the_retries(
    faults: FaultServer,
) -> None:
    faults.always(JOBS, silent())
    start = time.monotonic()
    with pytest.raises(TransportError) as info:
        _session(faults).call("GET", JOBS)
    assert time.monotonic() - start < DEADLINE + MARGIN
    assert "deadline" in str(info.value)
    assert TOKEN not in str(info.value)


def test_a_dripped_answer_is_cut_at_the_deadline(faults: FaultServer) -> None:
    faults.always(JOBS, drip(json.dumps([{"pid": "p"}] * 10).encode(), interval=0.2))
    start = time.monotonic()
    with pytest.raises(TransportError) as info:
        _session(faults).call("GET", JOBS)
    assert time.monotonic() - start < DEADLINE + MARGIN  # the whole drip takes 30 s
    assert "deadline" in str(info.value)


def test_a_dripped_head_is_cut_at_the_deadline_too(faults: FaultServer) -> None:
    faults.always(JOBS, drip(b"[]", interval=0.2, head=True))
    start = time.monotonic()
    with pytest.raises(TransportError) as info:
        _session(faults).call("GET", JOBS)
    assert time.monotonic() - start < DEADLINE + MARGIN  # the whole head takes 20 s
    assert "deadline" in str(info.value)


def test_retry_after_an_hour_ends_the_call_at_once(faults: FaultServer) -> None:
    faults.always(JOBS, json_reply({"detail": "maintenance"}, 503, {"Retry-After": "3600"}))
    start = time.monotonic()
    with pytest.raises(QiboApiError) as info:
        _session(faults).call("GET", JOBS)
    assert time.monotonic() - start < DEADLINE + MARGIN
    assert info.value.status == 503
    assert "3600" in str(info.value)
    assert faults.seen(JOBS) == 1


def test_a_short_retry_after_within_the_deadline_is_honoured(faults: FaultServer) -> None:
    faults.queue(JOBS, json_reply({"detail": "busy"}, 503, {"Retry-After": "0"}))
    faults.always(JOBS, json_reply([]))
    assert _session(faults).call("GET", JOBS).json() == []
    assert faults.seen(JOBS) == 2


def test_without_a_timeout_reads_and_retries_are_still_bounded(
    faults: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(budget, "UNBOUNDED_READ_TIMEOUT", 0.3)
    monkeypatch.setattr(budget, "UNBOUNDED_RETRY_BUDGET", 1.0)
    faults.always(JOBS, silent())
    start = time.monotonic()
    with pytest.raises(TransportError):
        _session(faults, timeout=None).call("GET", JOBS)
    assert time.monotonic() - start < 1.0 + MARGIN
    assert faults.seen(JOBS) >= 2  # retried, within the time budget


# -- cut-off answers -----------------------------------------------------------------------------


@pytest.mark.parametrize("fault", [cut, broken_chunks], ids=["short-length", "broken-chunk"])
def test_a_get_cut_off_mid_body_is_asked_again(faults: FaultServer, fault: object) -> None:
    body = json.dumps([{"pid": "p1", "status": "success"}]).encode()
    faults.queue(JOBS, fault(body, sent=10))  # type: ignore[operator]
    faults.always(JOBS, raw_reply(200, body))
    assert _session(faults).call("GET", JOBS).json() == [{"pid": "p1", "status": "success"}]
    assert faults.seen(JOBS) == 2


def test_the_version_check_survives_a_cut_answer(faults: FaultServer) -> None:
    versions = json.dumps({"server_qibo_version": "0.3.6", "minimum_client_qibo_version": "0"})
    faults.queue("/api/qibo_version/", cut(versions.encode(), sent=5))
    client = Client(faults.url, TOKEN, progress=False, timeout=5)
    assert client.server_versions is not None
    assert faults.seen("/api/qibo_version/") == 2


def test_an_idempotent_submission_cut_off_is_sent_again_with_its_key(
    faults: FaultServer,
) -> None:
    # A server that lists idempotency keys: only to such a server is a cut POST sent again.
    faults.always("/api/qibo_version/", json_reply({**VERSIONS, "extensions": ["idempotency"]}))
    answer = json.dumps({"pid": "p7", "status": "queueing"}).encode()
    faults.queue(JOBS, cut(answer, sent=4))
    faults.always(JOBS, raw_reply(200, answer))
    client = Client(faults.url, TOKEN, progress=False, timeout=5, journal=False)
    job = client.submit(BELL_QASM, nshots=10)
    posts = [r for r in faults.requests if r.method == "POST"]
    assert job.pid == "p7"
    assert len(posts) == 2
    assert posts[0].headers["idempotency-key"] == posts[1].headers["idempotency-key"]


def test_a_post_that_may_have_arrived_is_never_sent_twice(faults: FaultServer) -> None:
    faults.always(JOBS, cut(b'{"pid": "p8", "status": "queueing"}', sent=4))
    with pytest.raises(TransportError) as info:
        _session(faults).call("POST", JOBS, json_body={}, idempotent=False)
    assert faults.seen(JOBS) == 1
    assert "may or may not exist" in str(info.value)
    assert "qibo-client jobs" in str(info.value)


def test_a_post_that_may_have_arrived_is_not_retried_on_503_either(faults: FaultServer) -> None:
    faults.always(JOBS, json_reply({"detail": "busy"}, 503))
    with pytest.raises(QiboApiError):
        ApiSession(faults.url, TOKEN, retry=default_retry(backoff_factor=0)).call(
            "POST", JOBS, json_body={}, idempotent=False
        )
    assert faults.seen(JOBS) == 1


def test_a_refused_connection_proves_nothing_was_sent() -> None:
    session = ApiSession("http://127.0.0.1:9", TOKEN, retry=default_retry(1, 0))
    with pytest.raises(TransportError) as info:
        session.call("POST", JOBS, json_body={}, idempotent=False)
    assert "may or may not" not in str(info.value)


# -- answers no server should give ---------------------------------------------------------------


def test_deeply_nested_json_is_malformed_not_a_recursion_error(faults: FaultServer) -> None:
    faults.always(JOBS, nested(100_000))
    client = Client(faults.url, TOKEN, progress=False, timeout=5)
    with pytest.raises(MalformedResponseError) as info:
        client.jobs()
    assert "nests" in str(info.value)


def test_nesting_interleaved_with_values_is_malformed_too(faults: FaultServer) -> None:
    faults.always(JOBS, raw_reply(200, b"[1," * 100_000 + b"1" + b"]" * 100_000))
    with pytest.raises(MalformedResponseError):
        Client(faults.url, TOKEN, progress=False, timeout=5).jobs()


def test_a_deeply_nested_error_body_still_gives_the_typed_error(faults: FaultServer) -> None:
    faults.always(JOBS, raw_reply(400, b'{"detail": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"))
    with pytest.raises(QiboApiError) as info:
        _session(faults).call("GET", JOBS)
    assert info.value.status == 400


def test_a_huge_answer_is_refused_while_it_arrives(faults: FaultServer) -> None:
    faults.always(JOBS, huge(50 * 1024 * 1024))
    with pytest.raises(MalformedResponseError) as info:
        ApiSession(faults.url, TOKEN, timeout=30).call("GET", JOBS, max_bytes=1024 * 1024)
    assert "larger than" in str(info.value)


def test_a_wait_ends_at_its_own_timeout_even_when_the_server_stops_answering(
    faults: FaultServer,
) -> None:
    faults.queue("/api/jobs/w1/", json_reply({"pid": "w1", "status": "queueing"}))
    faults.always("/api/jobs/w1/", silent())
    job = Client(faults.url, TOKEN, progress=False, journal=False).get_job("w1")  # timeout 30
    start = time.monotonic()
    with pytest.raises(JobTimeoutError) as info:
        job.wait(timeout=DEADLINE)
    assert time.monotonic() - start < DEADLINE + MARGIN  # not the client's 30 s per request
    assert "w1" in str(info.value)


def test_run_circuit_with_a_timeout_bounds_its_submission_too(faults: FaultServer) -> None:
    faults.always(JOBS, silent())
    client = Client(faults.url, TOKEN, progress=False, journal=False)
    start = time.monotonic()
    with pytest.raises((TransportError, JobTimeoutError)) as info:
        client.run_circuit(BELL_QASM, nshots=10, timeout=DEADLINE)
    assert time.monotonic() - start < DEADLINE + MARGIN
    assert "deadline" in str(info.value) or "within" in str(info.value)


# -- Retry-After read right; restarts ridden -----------------------------------------------------

TEMPLATE = "/api/templates/abc/"


@pytest.mark.parametrize("seconds", ["0", "0.2", "1"])
def test_a_retry_after_that_fits_is_honoured_for_a_template_put_too(
    faults: FaultServer, seconds: str
) -> None:
    faults.queue(TEMPLATE, json_reply({"detail": "busy"}, 503, {"Retry-After": seconds}))
    faults.always(TEMPLATE, json_reply({"template": "abc"}))
    answer = ApiSession(faults.url, TOKEN, timeout=10).call("PUT", TEMPLATE, data=b"{}")
    assert answer.json() == {"template": "abc"}
    assert faults.seen(TEMPLATE) == 2


def test_a_refused_retry_after_says_how_long_was_asked_and_how_long_was_left(
    faults: FaultServer,
) -> None:
    faults.always(TEMPLATE, json_reply({"detail": "busy"}, 503, {"Retry-After": "60"}))
    with pytest.raises(QiboApiError) as info:
        _session(faults).call("PUT", TEMPLATE, data=b"{}")
    message = str(info.value)
    assert "retry after 60 s" in message
    assert "s left" in message
    assert faults.seen(TEMPLATE) == 1


def test_an_unreadable_retry_after_falls_back_to_backoff(faults: FaultServer) -> None:
    faults.queue(JOBS, json_reply({"detail": "busy"}, 503, {"Retry-After": "soon"}))
    faults.always(JOBS, json_reply([]))
    assert _session(faults, timeout=10).call("GET", JOBS).json() == []


@pytest.mark.parametrize("method", ["GET", "PUT", "POST"])
def test_refused_connections_to_a_server_met_before_are_a_restart_ridden_to_the_end(
    faults: FaultServer, method: str
) -> None:
    faults.always(JOBS, json_reply([]))
    session = ApiSession(faults.url, TOKEN, timeout=30)
    session.call("GET", JOBS)
    faults.go_down()
    # Longer than CONNECT_RETRIES' pauses: only a restart ridden to the deadline gets through.
    back = threading.Timer(2.0, faults.come_back)
    back.start()
    try:
        answer = session.call(method, JOBS, json_body={}, idempotent=method != "POST")
    finally:
        back.join()
    assert answer.json() == []
    assert faults.seen(JOBS) == 2  # the refused tries sent nothing


def test_a_server_never_reached_says_it_is_unreachable_quickly() -> None:
    session = ApiSession("http://127.0.0.1:9", TOKEN, timeout=30, retry=default_retry(5, 0))
    start = time.monotonic()
    with pytest.raises(ServerUnreachableError):
        session.call("GET", JOBS)
    assert time.monotonic() - start < MARGIN  # not the 30 s deadline
