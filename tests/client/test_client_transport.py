"""The transport: typed errors, key checks, retries that never duplicate a job, no token leaks."""

from __future__ import annotations

import json
import logging
import pickle

import pytest
import requests
import responses
from client_fakes import FAKE, FAKE_TOKEN, job_object
from responses import matchers

from qibo_client.config import (
    AuthenticationError,
    JobNotFoundError,
    JobPostServerError,
    MalformedResponseError,
    QiboApiError,
    RateLimitError,
    TransportError,
)
from qibo_client.http.session import ApiSession, default_retry
from qibo_client.qibo_client import Client, check_response_has_keys

BELL_QASM = (
    'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg m[2];\nh q[0];\ncx q[0],q[1];\n'
    "measure q[0] -> m[0];\nmeasure q[1] -> m[1];\n"
)


def _response(body: bytes, status: int = 200, content_type: str = "application/json"):
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.headers["Content-Type"] = content_type
    response.url = f"{FAKE}/api/x/"
    return response


def test_check_response_has_keys_names_every_missing_key() -> None:
    with pytest.raises(MalformedResponseError) as info:
        check_response_has_keys({"pid": 1}, ["pid", "status", "frequencies"])
    assert "'status'" in info.value.message
    assert "'frequencies'" in info.value.message
    assert "'pid'" not in info.value.message.split("missing:")[1]


def test_check_response_has_keys_returns_the_body() -> None:
    assert check_response_has_keys(_response(b'{"a": 1, "b": 2}'), ["a"]) == {"a": 1, "b": 2}


@pytest.mark.parametrize("body", [b"<html>oops</html>", b"[1, 2]", b'"text"', b""])
def test_non_json_or_non_object_bodies_are_malformed(body: bytes) -> None:
    with pytest.raises(MalformedResponseError):
        check_response_has_keys(_response(body), ["pid"])


def test_original_errors_keep_their_messages() -> None:
    assert MalformedResponseError().message == (
        "Server response body does not contain all the expected keys"
    )
    assert JobPostServerError().message == "Server failed to post job to queue"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"detail": "d", "message": "m"}, "d"),
        ({"message": "m", "error": "e"}, "m"),
        ({"error": "e", "title": "t"}, "e"),
        ({"title": "t"}, "t"),
    ],
)
def test_error_detail_read_in_protocol_order(
    fake: responses.RequestsMock, fake_client: Client, body: dict[str, str], expected: str
) -> None:
    fake.get(f"{FAKE}/api/jobs/", json=body, status=400)
    with pytest.raises(QiboApiError) as info:
        fake_client.jobs()
    assert info.value.detail == expected
    assert info.value.status == 400
    assert info.value.method == "GET"
    assert info.value.url == f"{FAKE}/api/jobs/"


def test_non_json_error_body_still_gives_a_typed_error(
    fake: responses.RequestsMock, fake_client: Client
) -> None:
    fake.get(f"{FAKE}/api/jobs/", body="Internal Server Error", status=500)
    with pytest.raises(QiboApiError) as info:
        fake_client.jobs()
    assert info.value.status == 500
    assert "Internal Server Error" in str(info.value)


def test_api_error_is_picklable() -> None:
    error = JobNotFoundError(status=404, detail="no", method="GET", url=f"{FAKE}/api/jobs/1/")
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is JobNotFoundError
    assert (clone.status, clone.detail, clone.url, str(clone)) == (
        404,
        "no",
        f"{FAKE}/api/jobs/1/",
        str(error),
    )


def test_401_is_an_authentication_error(fake: responses.RequestsMock) -> None:
    fake.replace(responses.GET, f"{FAKE}/api/qibo_version/", json={"detail": "bad"}, status=401)
    with pytest.raises(AuthenticationError) as info:
        Client(FAKE, FAKE_TOKEN, progress=False)
    assert "QIBO_CLIENT_TOKEN" in str(info.value)


def test_404_on_a_job_is_job_not_found(fake: responses.RequestsMock, fake_client: Client) -> None:
    fake.get(f"{FAKE}/api/jobs/nope/", json={"detail": "Not found"}, status=404)
    with pytest.raises(JobNotFoundError):
        fake_client.get_job("nope")


def test_a_burst_of_503_is_retried(fake: responses.RequestsMock, fake_client: Client) -> None:
    busy = fake.get(f"{FAKE}/api/jobs/", json={"detail": "busy"}, status=503)
    fake.get(f"{FAKE}/api/jobs/", json={"detail": "busy"}, status=503)
    fake.get(f"{FAKE}/api/jobs/", json={"detail": "busy"}, status=503)
    fake.get(f"{FAKE}/api/jobs/", json=[])
    assert fake_client.jobs() == []
    assert busy.call_count == 1
    assert len([c for c in fake.calls if c.request.url == f"{FAKE}/api/jobs/"]) == 4


def test_429_that_outlives_the_retries_is_a_rate_limit_error(fake: responses.RequestsMock) -> None:
    client = Client(
        FAKE, FAKE_TOKEN, progress=False, retry=default_retry(total=2, backoff_factor=0)
    )
    fake.get(f"{FAKE}/api/jobs/", json={"detail": "slow down"}, status=429)
    with pytest.raises(RateLimitError) as info:
        client.jobs()
    assert info.value.detail == "slow down"
    assert len([c for c in fake.calls if c.request.url == f"{FAKE}/api/jobs/"]) == 3


def test_a_retried_submission_keeps_its_idempotency_key(
    fake: responses.RequestsMock, listing_client: Client
) -> None:
    """Only to a server that lists idempotency keys is a POST re-sent after a 5xx."""
    fake.post(f"{FAKE}/api/jobs/", json={"detail": "restarting"}, status=503)
    fake.post(f"{FAKE}/api/jobs/", json={"pid": "p1", "status": "queueing"})
    job = listing_client.submit(BELL_QASM, nshots=10)
    posts = [c.request for c in fake.calls if c.request.method == "POST"]
    assert job.pid == "p1"
    assert len(posts) == 2
    keys = {p.headers["Idempotency-Key"] for p in posts}
    assert len(keys) == 1
    assert next(iter(keys))
    assert json.loads(posts[1].body)["circuit"] == BELL_QASM


def test_each_submission_gets_its_own_key(
    fake: responses.RequestsMock, fake_client: Client
) -> None:
    fake.post(f"{FAKE}/api/jobs/", json={"pid": "p1"})
    fake.post(f"{FAKE}/api/jobs/", json={"pid": "p2"})
    jobs = fake_client.submit_many([BELL_QASM, BELL_QASM], nshots=5)
    posts = [c.request for c in fake.calls if c.request.method == "POST"]
    assert [j.pid for j in jobs] == ["p1", "p2"]
    assert posts[0].headers["Idempotency-Key"] != posts[1].headers["Idempotency-Key"]


def test_a_200_without_pid_is_job_post_server_error(
    fake: responses.RequestsMock, fake_client: Client
) -> None:
    fake.post(f"{FAKE}/api/jobs/", json={"detail": "quota exhausted"})
    with pytest.raises(JobPostServerError) as info:
        fake_client.submit(BELL_QASM)
    assert info.value.message == "quota exhausted"


def test_connection_refused_is_a_transport_error() -> None:
    session = ApiSession("http://127.0.0.1:9", FAKE_TOKEN, retry=default_retry(1, 0))
    with pytest.raises(TransportError) as info:
        session.call("GET", "/api/jobs/")
    assert FAKE_TOKEN not in str(info.value)


def test_headers_name_the_versions(fake: responses.RequestsMock, listing_client: Client) -> None:
    request = fake.calls[0].request
    assert request.headers["x-api-token"] == FAKE_TOKEN
    assert request.headers["x-qibo-client-version"]
    agent = request.headers["User-Agent"]
    assert "qibo-client/" in agent
    assert "qibo/" in agent
    assert "python/" in agent


def test_a_5xx_on_a_post_to_a_server_without_keys_is_not_re_sent(
    fake: responses.RequestsMock,
) -> None:
    fake.post(f"{FAKE}/api/jobs/", json={"detail": "restarting"}, status=503)
    fake.post(f"{FAKE}/api/jobs/", json={"pid": "p1"})
    client = Client(FAKE, FAKE_TOKEN, progress=False, retry=default_retry(backoff_factor=0))
    with pytest.raises(QiboApiError, match="may or may not") as caught:
        client.submit(BELL_QASM, nshots=10)
    assert caught.value.status == 503
    assert len([c for c in fake.calls if c.request.method == "POST"]) == 1


def test_a_post_answered_429_is_re_sent_anywhere(fake: responses.RequestsMock) -> None:
    """429 means refused, not queued: sending it again cannot make a second job."""
    fake.post(f"{FAKE}/api/jobs/", json={"detail": "slow down"}, status=429)
    fake.post(f"{FAKE}/api/jobs/", json={"pid": "p1"})
    client = Client(FAKE, FAKE_TOKEN, progress=False, retry=default_retry(backoff_factor=0))
    assert client.submit(BELL_QASM, nshots=10).pid == "p1"


def test_a_404_about_the_user_is_an_authentication_error(fake: responses.RequestsMock) -> None:
    """TII's service answers a wrong token with 404 "User not found, specify the correct token"."""
    detail = {"detail": "User not found, specify the correct token"}
    fake.get(f"{FAKE}/api/jobs/", json=detail, status=404)
    fake.get(f"{FAKE}/api/jobs/j1/", json=detail, status=404)
    client = Client(FAKE, FAKE_TOKEN, progress=False)
    with pytest.raises(AuthenticationError, match="Check the token"):
        client.jobs()
    with pytest.raises(AuthenticationError):
        client.get_job("j1")


def test_submission_sends_qasm_and_prefer_wait(
    fake: responses.RequestsMock, listing_client: Client
) -> None:
    fake.post(
        f"{FAKE}/api/jobs/",
        json={"pid": "p9"},
        match=[matchers.header_matcher({"Prefer": "wait=2.5"})],
    )
    listing_client.submit(BELL_QASM, nshots=7, device="sim", wait=2.5)
    body = json.loads(fake.calls[-1].request.body)
    assert body == {
        "circuit": BELL_QASM,
        "nshots": 7,
        "device": "sim",
        "project": "personal",
        "verbatim": False,
    }


def test_token_never_in_reprs_errors_or_logs(
    fake: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # includes urllib3's connection logging
    client = Client(FAKE, FAKE_TOKEN, progress=False, retry=default_retry(1, 0))
    fake.get(f"{FAKE}/api/jobs/x/", json=job_object("x", "queueing"))
    job = client.get_job("x")
    fake.get(f"{FAKE}/api/jobs/", json={"detail": "boom"}, status=500)
    with pytest.raises(QiboApiError) as info:
        client.jobs()
    texts = [repr(client), repr(client.api.session), repr(client.api), repr(job)]
    texts += [str(info.value), repr(info.value)]
    texts += [record.getMessage() for record in caplog.records]
    texts.append(str(pickle.loads(pickle.dumps(info.value)).__dict__))
    assert texts
    assert all(FAKE_TOKEN not in text for text in texts)
    assert client.token == FAKE_TOKEN


def test_urllib3_debug_log_has_no_token(caplog: pytest.LogCaptureFixture) -> None:
    """A real socket, so urllib3 logs its connection lines: they must not carry the token."""
    caplog.set_level(logging.DEBUG, logger="urllib3")
    session = ApiSession("http://127.0.0.1:9", FAKE_TOKEN, retry=default_retry(1, 0))
    with pytest.raises(TransportError):
        session.call("GET", "/api/jobs/")
    assert caplog.records
    assert all(FAKE_TOKEN not in record.getMessage() for record in caplog.records)


def test_a_redirect_to_another_host_does_not_carry_the_token(
    fake: responses.RequestsMock, fake_client: Client
) -> None:
    fake.get(f"{FAKE}/api/jobs/", status=302, headers={"Location": "http://elsewhere.test/x/"})
    fake.get("http://elsewhere.test/x/", json=[])
    assert fake_client.jobs() == []
    moved = fake.calls[-1].request
    assert moved.url == "http://elsewhere.test/x/"
    assert "x-api-token" not in moved.headers
    assert fake.calls[-2].request.headers["x-api-token"] == FAKE_TOKEN
