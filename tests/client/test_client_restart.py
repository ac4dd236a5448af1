"""Held ``run_circuit`` calls, templates on, through a ``kill -9`` and restart of a real server.

The server is ``qibo-client serve`` in a process of its own, on a fixed port and database. It
first runs no jobs (``--workers 0``), so every call is held with its job queued when the server is
killed; it comes back on the same port and database with a worker. Each call must then return its
known counts, and the server must hold exactly one job per call: the dropped held request is sent
again with its ``Idempotency-Key`` once the server listens again, and the job and its template
were in the server's store.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests
from qibo import Circuit, gates

from qibo_client.qibo_client import Client

TOKEN = "restart-test-token-0123456789"
CALLS = 4
NSHOTS = 50
#: Bound of every wait on the server (start, jobs queued, stop): generous for a loaded machine.
WAIT_BOUND = 60.0
SRC = Path(__file__).resolve().parents[2] / "src"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Served:
    """``qibo-client serve`` on ``port`` and ``db``, started and killed by this test only."""

    def __init__(self, tmp_path: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = tmp_path / "served.sqlite3"
        self.accounts = tmp_path / "accounts.json"
        self.accounts.write_text(json.dumps({"users": [{"email": "r@x.org", "token": TOKEN}]}))
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, workers: int) -> None:
        command = [sys.executable, "-m", "qibo_client.cli", "serve", "--port", str(self.port)]
        command += ["--db", str(self.db), "--accounts", str(self.accounts)]
        command += ["--workers", str(workers), "--engine", "numpy"]
        env = {**os.environ, "PYTHONPATH": str(SRC)}
        self.process = subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its workers in its own group, killed with it
        )
        end = time.monotonic() + WAIT_BOUND
        while time.monotonic() < end:
            assert self.process.poll() is None, "the server exited at start"
            try:
                requests.get(f"{self.url}/api/qibo_version/", timeout=1)
                return
            except requests.ConnectionError:
                threading.Event().wait(0.1)  # a bounded poll of a process we cannot observe
        pytest.fail(f"the server did not listen within {WAIT_BOUND} s")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, sig)
        self.process.wait(timeout=WAIT_BOUND)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    server = Served(tmp_path)
    try:
        yield server
    finally:
        server.kill(signal.SIGTERM)


def flips(pattern: int, angle: float = np.pi) -> Circuit:
    """RX(pi) on the qubits of ``pattern``: a known answer, and parameters (a template)."""
    circuit = Circuit(3)
    for qubit in range(3):
        circuit.add(gates.RX(qubit, theta=angle if pattern >> qubit & 1 else 0.0))
    circuit.add(gates.M(0, 1, 2))
    return circuit


def expected(pattern: int) -> np.ndarray:
    dense = np.zeros(8, dtype=np.int64)
    dense[int("".join(str(pattern >> q & 1) for q in range(3)), 2)] = NSHOTS
    return dense


def _jobs(url: str) -> list[Any]:
    answer = requests.get(f"{url}/api/jobs/", headers={"x-api-token": TOKEN}, timeout=5)
    answer.raise_for_status()
    return list(answer.json())


def test_held_run_circuit_calls_survive_a_kill_and_restart_with_templates_on(
    served: Served,
) -> None:
    served.start(workers=0)
    client = Client(served.url, TOKEN, progress=False, journal=False, timeout=60)
    assert client.encoder.active
    patterns = [1, 2, 5, 7][:CALLS]
    with ThreadPoolExecutor(CALLS) as pool:
        calls: list[Future[Any]] = [
            pool.submit(client.run_circuit, flips(p), NSHOTS, timeout=3 * WAIT_BOUND)
            for p in patterns
        ]
        end = time.monotonic() + WAIT_BOUND
        while len(_jobs(served.url)) < CALLS and time.monotonic() < end:
            assert not any(call.done() for call in calls), [c.exception() for c in calls]
            threading.Event().wait(0.05)  # bounded poll of the server's store
        assert len(_jobs(served.url)) == CALLS  # every call held, its job queued
        served.kill()
        served.start(workers=1)
        results = [call.result(timeout=3 * WAIT_BOUND) for call in calls]
    for pattern, dense in zip(patterns, results, strict=True):
        np.testing.assert_array_equal(dense, expected(pattern))
    assert len(_jobs(served.url)) == CALLS  # no job twice
    listing = client.api.list_templates()["templates"]
    assert len(listing) == 1  # one structure, sent once, kept across the restart
