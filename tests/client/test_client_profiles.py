"""The client against every server profile: ``default`` (our extensions, listed), ``tii`` (only
what TII's service is known to speak, lists nothing) and ``tii-2026`` (the same service as its
2026 clients read it: new version keys, counts only in the job object, no download).

What is checked is what goes on the wire (observed with a response hook on the client's session)
and what the user gets back: the same results either way.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from qibo import Circuit, gates

from qibo_client.config import (
    AuthenticationError,
    ConfigurationError,
    QiboApiError,
    SubmissionUncertainError,
    TransportError,
)
from qibo_client.http.api import ServerFeatures
from qibo_client.http.session import default_retry
from qibo_client.jobs import waiting
from qibo_client.protocol import EXTENSIONS_KEY, IDEMPOTENCY_HEADER, PREFER_HEADER
from qibo_client.qibo_client import Client
from qibo_client.settings import JobOptions

BELL_QASM = (
    'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg m[2];\nh q[0];\ncx q[0],q[1];\n'
    "measure q[0] -> m[0];\nmeasure q[1] -> m[1];\n"
)


#: The profiles that model TII's service: no extensions, the official shapes.
TII_PROFILES = ("tii", "tii-2026")


def bell() -> Circuit:
    circuit = Circuit(2)
    circuit.add(gates.H(0))
    circuit.add(gates.CNOT(0, 1))
    circuit.add(gates.M(0, register_name="a"))
    circuit.add(gates.M(1, register_name="b"))
    return circuit


def sent(client: Client) -> list[requests.PreparedRequest]:
    """Every request the client sends from now on (a hook on its public session)."""
    seen: list[requests.PreparedRequest] = []
    client.api.session.hooks["response"].append(lambda r, *a, **k: seen.append(r.request))
    return seen


@pytest.fixture
def profiled(profile_cluster: Any) -> Iterator[tuple[Client, str]]:
    with Client(profile_cluster.url, profile_cluster.token, progress=False) as client:
        yield client, profile_cluster.state.profile.name


def test_features_are_what_the_version_answer_lists(profiled: tuple[Client, str]) -> None:
    client, profile = profiled
    body = client.api.version()
    if profile in TII_PROFILES:
        assert EXTENSIONS_KEY not in body
        assert client.features == ServerFeatures(False, False, False, False, False, listed=True)
    else:
        assert set(body[EXTENSIONS_KEY]) >= {"qasm", "raw", "wait", "batch", "idempotency"}
        assert "initial_state" in body[EXTENSIONS_KEY]
        expected = ServerFeatures(
            *(True,) * 6, tags=True, seeds=True, collapse_outcomes=True, listed=True
        )
        assert client.features == expected


def test_circuit_format_follows_the_server(profiled: tuple[Client, str]) -> None:
    client, profile = profiled
    client.encoder.enabled = False  # whole circuits (templates: tests/client/test_templates.py)
    seen = sent(client)
    job = client.submit(bell(), nshots=200, wait=10)
    assert set(job.frequencies(timeout=30)) <= {"00", "11"}
    post = next(request for request in seen if request.method == "POST")
    circuit = json.loads(post.body or b"{}")["circuit"]
    if profile in TII_PROFILES:
        assert isinstance(circuit, dict)
        assert circuit["nqubits"] == 2
        assert PREFER_HEADER not in post.headers  # no holds asked of a server that lists none
    else:
        assert isinstance(circuit, str)
        assert circuit.lstrip().startswith(("OPENQASM", "//"))
        assert post.headers[PREFER_HEADER] == "wait=10"
    assert post.headers[IDEMPOTENCY_HEADER]  # sent everywhere; harmless where ignored


@pytest.mark.parametrize("circuit_format", ["auto", "raw"])
def test_an_x_basis_measurement_after_h_reads_all_zeros(
    profiled: tuple[Client, str], circuit_format: str
) -> None:
    """The from_dict trap: raw lists H and basis X; read back naively it is applied twice."""
    client, _ = profiled
    circuit = Circuit(1)
    circuit.add(gates.H(0))
    circuit.add(gates.M(0, basis=gates.X))
    options = JobOptions(circuit_format=circuit_format).with_nshots(300)
    assert client.submit(circuit, options=options).frequencies(timeout=30) == {"0": 300}


def test_qasm_forced_on_a_raw_only_server_is_a_clear_400(strict_cluster: Any) -> None:
    with Client(strict_cluster.url, strict_cluster.token, progress=False) as client:
        with pytest.raises(QiboApiError, match=r"circuit\.raw") as caught:
            client.submit(BELL_QASM, nshots=10)
        assert caught.value.status == 400
        forced = JobOptions(circuit_format="qasm").with_nshots(10)
        with pytest.raises(QiboApiError, match=r"circuit\.raw"):
            client.submit(bell(), options=forced)


def test_an_idempotency_key_counts_only_where_listed(profile_cluster: Any) -> None:
    token = profile_cluster.add_user(f"idem-{profile_cluster.state.profile.name}@example.org")
    session = requests.Session()
    session.headers.update({"x-api-token": token, IDEMPOTENCY_HEADER: "same-key"})
    body = {"circuit": bell().raw, "nshots": 10}
    pids = {session.post(f"{profile_cluster.url}/api/jobs/", json=body).json()["pid"] for _ in "ab"}
    assert len(pids) == (2 if profile_cluster.state.profile.name in TII_PROFILES else 1)


def test_a_wrong_token_is_an_authentication_error_that_hides_it(profile_cluster: Any) -> None:
    wrong = "tok-WRONG-0123456789"
    client = Client(profile_cluster.url, wrong, progress=False)
    with pytest.raises(AuthenticationError, match="Check the token") as caught:
        client.jobs()
    official = profile_cluster.state.profile.name in TII_PROFILES
    assert caught.value.status == (404 if official else 401)
    assert wrong not in str(caught.value)


def test_strict_job_objects_and_delete_have_the_official_shapes(strict_cluster: Any) -> None:
    with Client(strict_cluster.url, strict_cluster.token, progress=False) as client:
        job = client.submit(bell(), nshots=10)
        assert job.wait(timeout=30).value == "success"  # through postprocessing
        answer = client.api.get_job(job.pid)
        assert answer["status"] == "success"
        for key in ("projectquota", "transpiled_circuit", "qibolab_version", "result_path"):
            assert key in answer
        assert answer["projectquota"]["partition"]["name"] == "sim"
        # DELETE answers {"detail": ...}, as the official client's tests show.
        raw = client.api.session.call("DELETE", f"/api/jobs/{job.pid}/").json()
        assert raw == {"detail": f"Job {job.pid} deleted"}


def test_a_finished_job_is_first_shown_as_postprocessing(strict_cluster: Any) -> None:
    token = strict_cluster.add_user("post@example.org")
    session = requests.Session()
    session.headers["x-api-token"] = token
    pid = session.post(
        f"{strict_cluster.url}/api/jobs/", json={"circuit": bell().raw, "nshots": 10}
    ).json()["pid"]
    shown = []
    for _ in range(2000):  # bounded: a Bell job ends in milliseconds
        shown.append(session.get(f"{strict_cluster.url}/api/jobs/{pid}/").json()["status"])
        if shown[-1] == "success":
            break
    assert shown[-2:] == ["postprocessing", "success"]
    assert set(shown) <= {"queueing", "pending", "running", "postprocessing", "success"}


def test_quotas_are_numbers_with_the_official_fields(profiled: tuple[Client, str]) -> None:
    client, _ = profiled
    for quota in client.project_quotas():
        for key in ("seconds_left", "shots_left", "jobs_left", "seconds_max", "shots_max"):
            assert isinstance(quota[key], int | float), key
        assert {"name", "max_num_qubits", "hardware_type", "description", "status"} <= set(
            quota["partition"]
        )
    assert isinstance(client.disk_quota()["kbs_left"], int | float)


def test_job_result_is_the_qibo_result_with_named_registers(profiled: tuple[Client, str]) -> None:
    client, _ = profiled
    result = client.submit(bell(), nshots=100, wait=10).result(timeout=30)
    registers = result.frequencies(registers=True)
    assert set(registers) == {"a", "b"}
    assert registers["a"] == registers["b"]  # a Bell pair agrees in every shot
    assert sum(result.frequencies().values()) == 100


def test_results_come_from_the_job_object_never_the_download(
    profiled: tuple[Client, str],
) -> None:
    client, _ = profiled
    seen = sent(client)
    counts = client.submit(bell(), nshots=50, wait=10).frequencies(timeout=30)
    assert sum(counts.values()) == 50
    assert not [request for request in seen if "/download" in (request.url or "")]


class _Paced:
    """The waiting module's ``time``, unchanged but for noting each pause of a wait in ``log``."""

    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.monotonic = time.monotonic

    def sleep(self, seconds: float) -> None:
        self.log.append("pause")
        time.sleep(seconds)


@pytest.mark.parametrize("profile", TII_PROFILES)
def test_a_fresh_job_is_first_polled_after_a_pause_never_at_once(
    profile: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a server that does not hold, a wait begun at the submission pauses before every GET
    (its first ``POLL_START`` after the POST): no look at once, which almost never finds a
    fresh job done and would cost every job one request more."""
    server: Any = request.getfixturevalue(
        {"tii": "strict_cluster"}.get(profile, "strict_2026_cluster")
    )
    log: list[str] = []
    monkeypatch.setattr(waiting, "time", _Paced(log))
    with Client(server.url, server.token, progress=False) as client:
        client.api.session.hooks["response"].append(lambda r, *a, **k: log.append(r.request.method))
        counts = client.submit(bell(), nshots=50).frequencies(timeout=30)
    assert sum(counts.values()) == 50
    assert log[:2] == ["POST", "pause"]
    assert log.count("GET") == log.count("pause") >= 1  # each GET after a pause of the schedule
    assert len(log) == 2 * log.count("GET") + 1  # the requests of this job: one POST, the GETs


# -- the official call order -------------------------------------------------------------------


def test_client_in_the_official_order_is_understood(cluster: Any) -> None:
    with Client(cluster.token, cluster.url, progress=False) as client:  # Client(token, url)
        assert client.url == cluster.url
        assert client.token == cluster.token


def test_a_url_that_is_none_is_refused_without_showing_it() -> None:
    with pytest.raises(ConfigurationError, match="http") as caught:
        Client("tok-SECRET-not-a-url", "also-SECRET-not-a-url", progress=False)
    assert "SECRET" not in str(caught.value)


# -- a POST cut after it reached the server ------------------------------------------------------


class CuttingProxy:
    """A loopback proxy that forwards each request and its answer, except that it cuts the
    connection instead of answering a POST: the server got it, the client never hears."""

    def __init__(self, upstream: str) -> None:
        host, port = upstream.removeprefix("http://").split(":")
        self.upstream = (host, int(port))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.posts = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> CuttingProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() below
        self.listener.close()
        self.thread.join(timeout=5)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    @staticmethod
    def _read_message(sock: socket.socket) -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
        return head + b"\r\n\r\n" + body

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            for _ in range(100):  # keep-alive: one request after another, bounded
                request = self._read_message(conn)
                if not request:
                    return
                with socket.create_connection(self.upstream) as upstream:
                    upstream.sendall(request)
                    answer = self._read_message(upstream)
                if request.startswith(b"POST"):
                    self.posts += 1
                    return  # the server has the job; the client gets a cut connection
                conn.sendall(answer)


def test_a_cut_post_never_makes_two_jobs(profile_cluster: Any) -> None:
    profile = profile_cluster.state.profile.name
    token = profile_cluster.add_user(f"cut-{profile}@example.org")
    with CuttingProxy(profile_cluster.url) as proxy:
        client = Client(
            proxy.url, token, progress=False, retry=default_retry(total=2, backoff_factor=0)
        )
        expected = SubmissionUncertainError if profile in TII_PROFILES else TransportError
        with pytest.raises(expected) as caught:
            client.submit(bell(), nshots=10)
        posts = proxy.posts
    if profile in TII_PROFILES:
        assert posts == 1  # never re-sent to a server without idempotency keys
        assert "may or may not" in str(caught.value)
        assert "jobs" in str(caught.value)
    else:
        assert posts == 3  # re-sent with the same key: the server replays the first job
    with Client(profile_cluster.url, token, progress=False) as direct:
        assert len(direct.jobs()) == 1


def test_a_refused_connection_is_not_an_uncertain_submission() -> None:
    with socket.socket() as probe:  # a free port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = Client(
        f"http://127.0.0.1:{port}",
        "tok",
        progress=False,
        check_versions=False,
        retry=default_retry(total=1, backoff_factor=0),
    )
    with pytest.raises(TransportError) as caught:
        client.submit(BELL_QASM, nshots=10)
    assert not isinstance(caught.value, SubmissionUncertainError)


def test_raw_export_survives_a_server_that_reads_it_with_from_dict() -> None:
    """qibo's own reader applies an X basis twice on plain ``circuit.raw``; not on ours."""
    import numpy as np
    from qibo.backends import NumpyBackend

    from qibo_client.circuits.export import to_raw

    circuit = Circuit(2)
    circuit.add(gates.H(0))
    circuit.add(gates.M(0, basis=gates.X))
    circuit.add(gates.RX(1, theta=np.pi / 2))
    circuit.add(gates.M(1, basis=gates.Y, register_name="y"))
    backend = NumpyBackend()
    np.random.seed(7)
    ours = Circuit.from_dict(json.loads(json.dumps(to_raw(circuit))))
    counts = backend.execute_circuit(ours, nshots=400).frequencies(registers=True)
    assert counts["register0"] == {"0": 400}
    assert set(counts["y"]) == {"1"}  # RX(pi/2)|0> is the -1 eigenstate of Y
    trap = Circuit(1)
    trap.add(gates.H(0))
    trap.add(gates.M(0, basis=gates.X))
    naive = Circuit.from_dict(trap.raw)
    assert set(backend.execute_circuit(naive, nshots=400).frequencies()) == {"0", "1"}
