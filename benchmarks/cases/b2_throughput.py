"""B2: throughput of a batch, against what the server's workers can execute.

500 random 5-qubit depth-10 circuits (1000 shots each) go through the plugin's
``backend.execute_circuits``, which submits them all and then waits for them together. The
server's own execution time is the sum of the jobs' ``runtime`` fields (seconds each worker spent
on the job) divided by the number of workers: the wall time of a perfect client that kept every
worker busy. Target: that ideal / our measured wall time at least ``TARGET`` (issue 21: 60%).

Side by side: the local numpy backend's ``execute_circuits`` on the same circuits, and the
official client running them one by one in a loop (fewer circuits: its per-job wait makes 500 take
minutes; the comparison is per circuit).
"""

from __future__ import annotations

import time

import circuits
from common import CaseResult, Context, ms

CASE = "B2"
WHAT = "throughput"
TARGET = 0.60
NSHOTS = 1000


def _runtimes(client: object, before: set[str]) -> list[float]:
    """The ``runtime`` of every job this case created (the ones not listed before it)."""
    runtimes = []
    for entry in client.jobs():  # type: ignore[attr-defined]
        pid = str(entry["pid"])
        if pid in before:
            continue
        job = client.get_job(pid)  # type: ignore[attr-defined]
        runtime = job.data.get("runtime")
        assert isinstance(runtime, (int, float)), f"job {pid} has no runtime: {job.data}"
        runtimes.append(float(runtime))
    return runtimes


def run(ctx: Context) -> CaseResult:
    import qibo

    count = 50 if ctx.quick else 500
    batch = circuits.batch(count)

    qibo.set_backend("numpy")
    start = time.perf_counter()
    local = qibo.get_backend().execute_circuits(batch, nshots=NSHOTS)
    local_wall = time.perf_counter() - start
    assert all(sum(r.frequencies().values()) == NSHOTS for r in local)

    # The default settings (templates on): each of the distinct structures comes once in the
    # batch, so the client sends it whole (qibo_client.jobs.encoding), no PUT before the POST.
    qibo.set_backend("qibo-client", url=ctx.url, token=ctx.token)
    try:
        backend = qibo.get_backend()
        client = backend.client
        before = {str(entry["pid"]) for entry in client.jobs()}
        start = time.perf_counter()
        results = backend.execute_circuits(batch, nshots=NSHOTS)
        wall = time.perf_counter() - start
        assert all(sum(r.frequencies().values()) == NSHOTS for r in results)
        runtimes = _runtimes(client, before)
    finally:
        qibo.set_backend("numpy")
    assert len(runtimes) == count, f"expected {count} new jobs, found {len(runtimes)}"
    ideal = sum(runtimes) / ctx.workers
    ratio = ideal / wall
    data = {
        "count": count,
        "nshots": NSHOTS,
        "plugin_wall": wall,
        "per_circuit": wall / count,
        "server_runtime_sum": sum(runtimes),
        "ideal_wall": ideal,
        "efficiency": ratio,
        "numpy_wall": local_wall,
    }
    figure = (
        f"{count} circuits: {ms(wall / count)}/circuit, {ratio:.0%} of the workers' capacity "
        f"(ideal {ideal:.2f} s vs {wall:.2f} s wall); numpy {ms(local_wall / count)}/circuit"
    )
    notes = []
    if ctx.official.available:
        n_official = 20 if ctx.quick else 100
        official = ctx.official.run(
            "throughput", ctx.url, ctx.token, count=n_official, nshots=NSHOTS
        )
        assert official["all_counts_complete"], "the official client lost shots"
        per = official["wall"] / n_official
        data["official_count"] = n_official
        data["official_per_circuit"] = per
        data["speedup_vs_official"] = per / (wall / count)
        figure += f"; official loop {ms(per)}/circuit -> {per / (wall / count):.0f}x"
    else:
        notes.append(f"official client unavailable: {ctx.official.reason}")
    return CaseResult(
        CASE,
        WHAT,
        figure=figure,
        target=f">= {TARGET:.0%} of what the workers can execute",
        met=ratio >= TARGET,
        data=data,
        notes=notes,
    )
