"""B10: how long a call takes to fail against a server that stalls, with ``timeout=3``.

Three hostile servers from the test suite's fault server (``tests/client/faults.py``, a real TCP
server on loopback): one that reads the request and never answers, one that drips a correct
answer one byte every 0.5 s, and one that answers 503 with ``Retry-After: 3600``. Each is asked
``GET /api/jobs/`` through ``ApiSession`` with the default retry policy and ``timeout=3``; the
figure is the median time until the typed error. Target: within 0.5 s of the 3 s deadline (a
fault the client can recognise at once, like an hour's ``Retry-After``, may end sooner). Before
the deadline existed these cost about 21 s, forever, and about 150 s. A note gives the same for a
wait: ``job.wait(timeout=3)`` on a job whose server stops answering.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from common import CaseResult, Context, median

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "client"))

from faults import FaultServer, drip, json_reply, silent

CASE = "B10"
WHAT = "faults"
DEADLINE = 3.0
MARGIN = 0.5
_FAULTS = {
    "never answers": lambda: silent(),
    "drips 1 B / 0.5 s": lambda: drip(json.dumps([{"pid": "p"}] * 20).encode(), interval=0.5),
    "503 Retry-After 3600": lambda: json_reply(
        {"detail": "maintenance"}, 503, {"Retry-After": "3600"}
    ),
}


def _time_to_error(play_factory: object) -> tuple[float, str]:
    from qibo_client.config import QiboClientError
    from qibo_client.transport import ApiSession

    with FaultServer(lifetime=60) as server:
        server.always("/api/jobs/", play_factory())  # type: ignore[operator]
        session = ApiSession(server.url, "bench-token", timeout=DEADLINE)
        start = time.perf_counter()
        try:
            session.call("GET", "/api/jobs/")
        except QiboClientError as error:
            return time.perf_counter() - start, type(error).__name__
        return time.perf_counter() - start, "no error"


def _wait_time_to_error() -> tuple[float, str]:
    """``job.wait(timeout=3)`` on a job whose server stops answering (client timeout 30 s)."""
    from qibo_client.config import QiboClientError
    from qibo_client.qibo_client import Client

    with FaultServer(lifetime=60) as server:
        server.queue("/api/jobs/w/", json_reply({"pid": "w", "status": "queueing"}))
        server.always("/api/jobs/w/", silent())
        job = Client(server.url, "bench-token", progress=False, journal=False).get_job("w")
        start = time.perf_counter()
        try:
            job.wait(timeout=DEADLINE)
        except QiboClientError as error:
            return time.perf_counter() - start, type(error).__name__
        return time.perf_counter() - start, "no error"


def run(ctx: Context) -> CaseResult:
    from qibo_client.waiting import ANSWER_GRACE

    rounds = 1 if ctx.quick else 3
    seconds: dict[str, list[float]] = {name: [] for name in _FAULTS}
    errors: dict[str, str] = {}
    waits: list[float] = []
    for _ in range(rounds):
        for name, factory in _FAULTS.items():
            took, error = _time_to_error(factory)
            seconds[name].append(took)
            errors[name] = error
        took, errors["wait"] = _wait_time_to_error()
        waits.append(took)
    medians = {name: median(values) for name, values in seconds.items()}
    worst = max(max(values) for values in seconds.values())
    return CaseResult(
        CASE,
        WHAT,
        figure="; ".join(f"{name}: {medians[name]:.2f} s ({errors[name]})" for name in _FAULTS)
        + f" (median of {rounds}, timeout={DEADLINE:g})",
        target=f"every error within {DEADLINE:g} s + {MARGIN:g} s",
        met=worst <= DEADLINE + MARGIN and all(e != "no error" for e in errors.values()),
        data={"seconds": seconds, "errors": errors, "deadline": DEADLINE, "wait_seconds": waits},
        notes=[
            f"job.wait(timeout=3), server silent: {median(waits):.2f} s ({errors['wait']}; its "
            f"last hold may bring the answer up to {ANSWER_GRACE:g} s late)"
        ],
    )
