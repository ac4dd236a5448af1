"""B1: latency of one small job, submission to counts in hand.

Bell jobs with 1000 shots, one after another, three ways: ``circuit(nshots=1000)`` through our
plugin, the same on the local numpy backend, and the official client's ``run_circuit`` +
``result()`` in its own venv. Each sample ends when ``frequencies()`` has the counts (the numpy
backend samples lazily, so stopping earlier would flatter it).
Targets: our median minus numpy's median at most ``OVERHEAD_TARGET_S`` (issue 21: 1.0 ms); at
least 50x faster than the official one.

Also what tiny jobs cost everyone else (the server's fast lane runs them on its event loop):
the latency of job status reads (GET of a finished job, one at a time) alone, then while another
process streams Bell jobs (held POSTs, one after another) at the server: p50 and p99 of each.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time

import circuits
from common import CaseResult, Context, median, ms, serving, summary

CASE = "B1"
WHAT = "latency"
OVERHEAD_TARGET_S = 0.001
OFFICIAL_TARGET = 50.0
NSHOTS = 1000
#: The official client sleeps 0.5 s between looks unless its first look finds the job done, so
#: its per-job times are bimodal; a job slower than this waited at least one poll.
POLL_SLEEP_S = 0.4


def _bell_times(count: int, warmup: int) -> list[float]:
    """Per-job seconds on the current global backend, after ``warmup`` unrecorded jobs."""
    circuit = circuits.bell()
    times = []
    for index in range(warmup + count):
        start = time.perf_counter()
        counts = circuit(nshots=NSHOTS).frequencies()
        elapsed = time.perf_counter() - start
        assert sum(counts.values()) == NSHOTS, counts
        if index >= warmup:
            times.append(elapsed)
    return times


#: Status reads measured alone and again under the stream of tiny jobs.
STATUS_READS = 400
#: The streamer: Bell jobs, each a POST held until it ends, until its stdin closes.
STREAMER = """
import json, sys, threading, requests
url, token, bell = sys.argv[1], sys.argv[2], sys.argv[3]
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
session = requests.Session()
session.headers["x-api-token"] = token
body = {"circuit": bell, "nshots": 1000, "device": "sim"}
jobs = 0
print("streaming", flush=True)
while not stop.is_set():
    answer = session.post(url + "/api/jobs/", json=body, headers={"Prefer": "wait=10"})
    assert answer.json()["status"] == "success", answer.text
    jobs += 1
print(json.dumps({"jobs": jobs}), flush=True)
"""
BELL_QASM = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
creg m[2];
h q[0];
cx q[0],q[1];
measure q[0] -> m[0];
measure q[1] -> m[1];
"""


def _status_reads(url: str, token: str, pid: str, count: int) -> list[float]:
    import requests

    session = requests.Session()
    session.headers["x-api-token"] = token
    times = []
    for _ in range(count):
        start = time.perf_counter()
        answer = session.get(f"{url}/api/jobs/{pid}/")
        times.append(time.perf_counter() - start)
        assert answer.status_code == 200, answer.text
    return times


def _p99(times: list[float]) -> float:
    return statistics.quantiles(times, n=100)[98]


def status_reads_under_stream(url: str, token: str, count: int) -> dict[str, float]:
    """p50/p99 of status reads alone and while another process streams Bell jobs."""
    import requests

    session = requests.Session()
    session.headers["x-api-token"] = token
    body = {"circuit": BELL_QASM, "nshots": NSHOTS, "device": "sim"}
    pid = session.post(f"{url}/api/jobs/", json=body, headers={"Prefer": "wait=10"}).json()
    pid = pid["pid"]
    alone = _status_reads(url, token, pid, count)
    streamer = subprocess.Popen(
        [sys.executable, "-c", STREAMER, url, token, BELL_QASM],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert streamer.stdin is not None
    assert streamer.stdout is not None
    assert streamer.stdout.readline().strip() == "streaming"
    start = time.perf_counter()
    busy = _status_reads(url, token, pid, count)
    seconds = time.perf_counter() - start
    streamer.stdin.close()
    jobs = json.loads(streamer.stdout.readline())["jobs"]
    streamer.wait(timeout=30)
    return {
        "alone_p50": median(alone),
        "alone_p99": _p99(alone),
        "stream_p50": median(busy),
        "stream_p99": _p99(busy),
        "stream_jobs_per_s": jobs / seconds,
    }


def run(ctx: Context) -> CaseResult:
    import qibo

    count = 20 if ctx.quick else 200
    qibo.set_backend("numpy")
    local = _bell_times(count, warmup=5)
    qibo.set_backend("qibo-client", url=ctx.url, token=ctx.token)
    try:
        ours = _bell_times(count, warmup=5)
    finally:
        qibo.set_backend("numpy")
    overhead = median(ours) - median(local)
    data: dict[str, object] = {"count": count, "nshots": NSHOTS}
    data.update(plugin=summary(ours), numpy=summary(local))
    figure = f"plugin {ms(median(ours))} vs numpy {ms(median(local))}: +{ms(overhead)}"
    reads = 100 if ctx.quick else STATUS_READS
    lane = data["status_reads"] = status_reads_under_stream(ctx.url, ctx.token, reads)
    with serving(ctx.workers, "--no-fast-lane") as (url, token):
        pool = data["status_reads_no_lane"] = status_reads_under_stream(url, token, reads)
    notes = [
        f"status reads p50/p99, alone -> while another process streams Bell jobs: with the "
        f"lane {ms(lane['alone_p50'])}/{ms(lane['alone_p99'])} -> "
        f"{ms(lane['stream_p50'])}/{ms(lane['stream_p99'])} at "
        f"{lane['stream_jobs_per_s']:.0f} jobs/s; without (a server beside it) "
        f"{ms(pool['alone_p50'])}/{ms(pool['alone_p99'])} -> "
        f"{ms(pool['stream_p50'])}/{ms(pool['stream_p99'])} at "
        f"{pool['stream_jobs_per_s']:.0f} jobs/s"
    ]
    met: bool | None = overhead <= OVERHEAD_TARGET_S
    if ctx.official.available:
        official = ctx.official.run("latency", ctx.url, ctx.token, count=count, nshots=NSHOTS)
        assert official["all_counts_complete"], "the official client lost shots"
        speedup = median(official["times"]) / median(ours)
        slow = sum(t > POLL_SLEEP_S for t in official["times"]) / len(official["times"])
        data["official"] = summary(official["times"])
        data["official_share_waiting_a_poll"] = slow
        # informative only (the target is on medians): mean times, i.e. jobs per second
        data["speedup_vs_official_mean"] = statistics.mean(official["times"]) / statistics.mean(
            ours
        )
        data["speedup_vs_official"] = speedup
        figure += (
            f"; official {ms(median(official['times']))} -> {speedup:.0f}x faster "
            f"({slow:.0%} of official jobs slept a 0.5 s poll)"
        )
        met = bool(met and speedup >= OFFICIAL_TARGET)
    else:
        notes.append(f"official client unavailable: {ctx.official.reason}")
    return CaseResult(
        CASE,
        WHAT,
        figure=f"{figure} (medians of {count})",
        target=f"plugin - numpy <= {ms(OVERHEAD_TARGET_S)}; >= 50x faster than official",
        met=met,
        data=data,
        notes=notes,
    )
