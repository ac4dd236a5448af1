"""B1: latency of one small job, submission to counts in hand.

Bell jobs with 1000 shots, one after another, three ways: ``circuit(nshots=1000)`` through our
plugin, the same on the local numpy backend, and the official client's ``run_circuit`` +
``result()`` in its own venv. Each sample ends when ``frequencies()`` has the counts (the numpy
backend samples lazily, so stopping earlier would flatter it).
Targets: our median minus numpy's median at most 5 ms; at least 50x faster than the official one.
"""

from __future__ import annotations

import statistics
import time

import circuits
from common import CaseResult, Context, median, ms, summary

CASE = "B1"
WHAT = "latency"
OVERHEAD_TARGET_S = 0.005
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
    data = {"count": count, "nshots": NSHOTS, "plugin": summary(ours), "numpy": summary(local)}
    figure = f"plugin {ms(median(ours))} vs numpy {ms(median(local))}: +{ms(overhead)}"
    notes = []
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
        target="plugin - numpy <= 5 ms; >= 50x faster than official",
        met=met,
        data=data,
        notes=notes,
    )
