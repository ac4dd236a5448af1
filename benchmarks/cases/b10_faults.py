"""B10: how long a call takes to fail against a server that stalls, with ``timeout=3``.

Three hostile servers from the test suite's fault server (``tests/client/faults.py``, a real TCP
server on loopback): one that reads the request and never answers, one that drips a correct
answer one byte every 0.5 s, and one that answers 503 with ``Retry-After: 3600``. Each is asked
``GET /api/jobs/`` through ``ApiSession`` with the default retry policy and ``timeout=3``; the
figure is the median time until the typed error. Target: within 0.5 s of the 3 s deadline (a
fault the client can recognise at once, like an hour's ``Retry-After``, may end sooner). Before
the deadline existed these cost about 21 s, forever, and about 150 s. A note gives the same for a
wait: ``job.wait(timeout=3)`` on a job whose server stops answering.

The mix (:func:`_mix`): :data:`MIX_JOBS` known-answer jobs (``--quick``: :data:`MIX_JOBS_QUICK`)
through a fault proxy in front of a real server (``faults.py`` with ``upstream``), templates on,
as a variational loop sends them: most are one parametrised shape with new angles (a template),
some are one-off circuits without parameters (sent whole). Every request but the version check
meets, at random (seeded), a drop before it reaches the server, a drop after (the answer lost),
503 with ``Retry-After: 0``, or a delay, each with probability :data:`FAULT_RATE`; every
:data:`RESTART_EVERY` jobs the proxy refuses connections for :data:`RESTART_SECONDS` (a restart).
The figure: how many came back with the right counts, and how many jobs the server holds beyond
one per job (duplicates). Target: all right, none twice.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from common import CaseResult, Context, median

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "client"))

import random
import threading

from faults import (
    FaultServer,
    Play,
    busy,
    drip,
    drop_after,
    drop_before,
    forward,
    json_reply,
    silent,
)

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
    from qibo_client.http.session import ApiSession

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


MIX_JOBS = 200
MIX_JOBS_QUICK = 40
#: Chance of each fault per request (so about 40% of requests meet one).
FAULT_RATE = 0.1
RESTART_EVERY = 50
RESTART_SECONDS = 0.5
NSHOTS = 20
SEED = 18


def _mixed(upstream: str, rng: random.Random, counts: dict[str, int]) -> Play:
    """A play that picks a fault per request (or none) and plays it."""
    lock = threading.Lock()
    plays = {
        "drop-before": drop_before(),
        "drop-after": drop_after(upstream),
        "busy": busy("0"),
        "delay": _delayed(forward(upstream)),
    }
    clean = forward(upstream)

    def play(connection: object, request: object, stopping: threading.Event) -> None:
        with lock:
            draw = rng.random()
        index = int(draw / FAULT_RATE)
        name = list(plays)[index] if index < len(plays) else "none"
        with lock:
            counts[name] = counts.get(name, 0) + 1
        plays.get(name, clean)(connection, request, stopping)  # type: ignore[arg-type]

    return play


def _delayed(play: Play, seconds: float = 0.2) -> Play:
    def delayed(connection: object, request: object, stopping: threading.Event) -> None:
        if not stopping.wait(seconds):
            play(connection, request, stopping)  # type: ignore[arg-type]

    return delayed


def _circuit(index: int, rng: random.Random) -> tuple[object, str]:
    """A known-answer circuit and its one outcome: RX(pi) or RX(0) per qubit (parametrised), or
    X gates (no parameters) for every fifth job."""
    from qibo import Circuit, gates

    bits = [rng.randrange(2) for _ in range(3)]
    circuit = Circuit(3)
    for qubit, bit in enumerate(bits):
        if index % 5 == 4:
            if bit:
                circuit.add(gates.X(qubit))
        else:
            circuit.add(gates.RX(qubit, theta=3.141592653589793 * bit))
    circuit.add(gates.M(0, 1, 2))
    return circuit, "".join(map(str, bits))


def _mix(jobs: int) -> dict[str, object]:
    """``jobs`` known-answer jobs through the fault mix: right, wrong, errors, duplicates."""
    from qibo_client.config import QiboClientError
    from qibo_client.qibo_client import Client
    from qibo_client.server import local_cluster

    rng = random.Random(SEED)
    faults: dict[str, int] = {}
    right, errors = 0, []
    start = time.perf_counter()
    with local_cluster(workers=2) as cluster, FaultServer(3600, cluster.url) as proxy:
        proxy.always("/api/qibo_version/", forward(cluster.url))
        proxy.otherwise(_mixed(cluster.url, rng, faults))
        client = Client(proxy.url, cluster.token, progress=False, journal=False)
        for index in range(jobs):
            if index and index % RESTART_EVERY == 0:
                proxy.go_down()
                threading.Timer(RESTART_SECONDS, proxy.come_back).start()
            circuit, answer = _circuit(index, rng)
            try:
                counts = client.submit(circuit, NSHOTS, wait=10).frequencies()
                right += counts == {answer: NSHOTS}
            except QiboClientError as error:
                errors.append(f"{type(error).__name__}: {str(error)[:160]}")
        direct = Client(cluster.url, cluster.token, progress=False, journal=False)
        on_server = len(direct.api.list_jobs())
        templates = len(direct.api.list_templates()["templates"])
    return {
        "jobs": jobs,
        "right": right,
        "duplicates": on_server - jobs,
        "errors": errors,
        "faults": faults,
        "templates": templates,
        "seconds": time.perf_counter() - start,
    }


def run(ctx: Context) -> CaseResult:
    from qibo_client.jobs.waiting import ANSWER_GRACE

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
    mix = _mix(MIX_JOBS_QUICK if ctx.quick else MIX_JOBS)
    mixed_ok = mix["right"] == mix["jobs"] and mix["duplicates"] == 0
    medians = {name: median(values) for name, values in seconds.items()}
    worst = max(max(values) for values in seconds.values())
    return CaseResult(
        CASE,
        WHAT,
        figure="; ".join(f"{name}: {medians[name]:.2f} s ({errors[name]})" for name in _FAULTS)
        + f" (median of {rounds}, timeout={DEADLINE:g}); fault mix: {mix['right']} of "
        f"{mix['jobs']} jobs right, {mix['duplicates']} duplicates",
        target=f"every error within {DEADLINE:g} s + {MARGIN:g} s; the mix all right, none twice",
        met=worst <= DEADLINE + MARGIN
        and all(e != "no error" for e in errors.values())
        and mixed_ok,
        data={
            "seconds": seconds,
            "errors": errors,
            "deadline": DEADLINE,
            "wait_seconds": waits,
            "mix": mix,
        },
        notes=[
            f"job.wait(timeout=3), server silent: {median(waits):.2f} s ({errors['wait']}; its "
            f"last hold may bring the answer up to {ANSWER_GRACE:g} s late)",
            f"fault mix ({FAULT_RATE:.0%} each of drop before, drop after, 503 Retry-After: 0, "
            f"delay; a restart every {RESTART_EVERY} jobs; templates on): faults met "
            f"{mix['faults']}, {mix['templates']} template(s), {mix['seconds']:.1f} s, "
            f"errors: {mix['errors'][:3] or 'none'}",
        ],
    )
