"""Ctrl-C during a wait: a short message with the pid(s) and the ways on, no HTTP traceback.

The interrupt is raised where a real one lands: from the wait's observer (between requests), from
a response hook (inside requests, the traceback the user used to see), or as a real SIGINT sent to
a subprocess that waits on a job that never finishes. No sleeps: each test interrupts on an event.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import traceback
from pathlib import Path
from typing import Any

import pytest
from faults import VERSIONS, FaultServer, json_reply

from qibo_client.config import WaitInterrupted
from qibo_client.qibo_client import Client

TOKEN = "tok-interrupts-SECRET"
BELL_QASM = (
    'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg m[2];\nh q[0];\ncx q[0],q[1];\n'
    "measure q[0] -> m[0];\nmeasure q[1] -> m[1];\n"
)


def _queued(faults: FaultServer, *pids: str) -> None:
    for pid in pids:
        faults.always(f"/api/jobs/{pid}/", json_reply({"pid": pid, "status": "queueing"}))


def _client(faults: FaultServer) -> Client:
    return Client(faults.url, TOKEN, progress=False, timeout=5, journal=False)


def _interrupt_on_get(client: Client, path_part: str, after: int = 1) -> None:
    """Raise KeyboardInterrupt inside requests, on the ``after``-th GET whose URL has the part."""
    seen = []

    def hook(response: Any, *args: Any, **kwargs: Any) -> None:
        if response.request.method == "GET" and path_part in response.request.url:
            seen.append(response.request.url)
            if len(seen) >= after:
                raise KeyboardInterrupt

    client.api.session.hooks["response"].append(hook)


def _no_http_stack(error: BaseException) -> None:
    text = "".join(traceback.format_exception(error))
    assert "urllib3" not in text
    assert f"{os.sep}requests{os.sep}" not in text
    assert error.__cause__ is None
    assert error.__suppress_context__


class _Interrupting:
    enabled = False

    def update(self, job: dict[str, Any], elapsed: float) -> None:
        raise KeyboardInterrupt


def test_ctrl_c_between_requests_names_the_job_and_the_ways_on(faults: FaultServer) -> None:
    _queued(faults, "p1")
    job = _client(faults).get_job("p1")
    with pytest.raises(WaitInterrupted) as info:
        job.wait(observer=_Interrupting())
    message = str(info.value)
    assert info.value.pids == ["p1"]
    assert "still runs on the server" in message
    assert "client.get_job('p1')" in message
    assert "qibo-client result p1" in message
    assert "client.delete_job('p1')" in message
    assert isinstance(info.value, KeyboardInterrupt)
    _no_http_stack(info.value)


def test_ctrl_c_inside_a_request_shows_no_http_traceback(faults: FaultServer) -> None:
    _queued(faults, "p1")
    client = _client(faults)
    job = client.get_job("p1")
    _interrupt_on_get(client, "/api/jobs/p1/")
    with pytest.raises(WaitInterrupted) as info:
        job.wait()
    assert info.value.pids == ["p1"]
    _no_http_stack(info.value)


def test_ctrl_c_in_a_batch_wait_names_every_unfinished_job_and_cancels_none(
    faults: FaultServer,
) -> None:
    _queued(faults, "p1", "p2")
    faults.always("/api/jobs/p3/", json_reply({"pid": "p3", "status": "success"}))
    queued = [{"pid": pid, "status": "queueing"} for pid in ("p1", "p2")]
    faults.always("/api/jobs/batch/", json_reply({"jobs": queued}))
    faults.always("/api/qibo_version/", json_reply({**VERSIONS, "extensions": ["batch"]}))
    client = _client(faults)
    jobs = [client.get_job(pid) for pid in ("p1", "p2", "p3")]
    _interrupt_on_get(client, "/api/jobs/batch/", after=2)
    with pytest.raises(WaitInterrupted) as info:
        client.wait_all(jobs)
    assert info.value.pids == ["p1", "p2"]
    assert "p1, p2" in str(info.value)
    assert not [r for r in faults.requests if r.method == "DELETE"]
    _no_http_stack(info.value)


def test_ctrl_c_in_run_circuit_names_the_submitted_job(faults: FaultServer) -> None:
    faults.always("/api/jobs/", json_reply({"pid": "p4", "status": "queueing", "nshots": 10}))
    _queued(faults, "p4")
    client = _client(faults)
    _interrupt_on_get(client, "/api/jobs/p4/")
    with pytest.raises(WaitInterrupted) as info:
        client.run_circuit(BELL_QASM, nshots=10)
    assert info.value.pids == ["p4"]


def test_ctrl_c_during_a_submission_says_the_job_may_exist(faults: FaultServer) -> None:
    faults.always("/api/jobs/", json_reply({"pid": "p5", "status": "queueing"}))
    client = _client(faults)

    def hook(response: Any, *args: Any, **kwargs: Any) -> None:
        if response.request.method == "POST":
            raise KeyboardInterrupt

    client.api.session.hooks["response"].append(hook)
    with pytest.raises(WaitInterrupted) as info:
        client.run_circuit(BELL_QASM, nshots=10)
    assert info.value.pids == []
    assert "may or may not" in str(info.value)
    assert "qibo-client jobs" in str(info.value)


_WAITER = """
import sys
from qibo_client.qibo_client import Client

class Marker:
    enabled = False
    told = False
    def update(self, job, elapsed):
        if not self.told:
            print("waiting", flush=True)
            self.told = True

client = Client(sys.argv[1], "tok-sigint", progress=False, timeout=5, journal=False)
client.get_job("p9").wait(observer=Marker())
"""


def test_a_real_sigint_ends_the_wait_with_the_message_only(
    faults: FaultServer, tmp_path: Path
) -> None:
    _queued(faults, "p9")
    script = tmp_path / "waiter.py"
    script.write_text(textwrap.dedent(_WAITER))
    src = Path(__file__).resolve().parents[2] / "src"
    env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    process = subprocess.Popen(
        [sys.executable, str(script), faults.url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "waiting"  # the wait is under way
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode != 0
    assert "WaitInterrupted" in stderr
    assert "p9" in stderr
    assert "still runs on the server" in stderr
    assert "urllib3" not in stderr
    assert f"{os.sep}requests{os.sep}" not in stderr
