"""B4: a large result (20 qubits, 1,000,000 shots): bytes on the wire, client peak RSS, time.

Each measurement is a fresh interpreter running ``b4_client.py`` (so that the peak RSS is this
job's alone): the plugin against our server, and the local numpy backend for the time ratio.
"Beyond the counts themselves": the client's peak RSS growth during the job minus the size of
the counts as the client hands them over, ``result.frequencies()`` as a Python dict of
bitstring -> count (dict table + key strings + non-cached ints, see ``deep_size``).
Target: under 200 MB beyond the counts.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from common import CaseResult, Context

CASE = "B4"
WHAT = "large result"
TARGET_MB = 200.0
SCRIPT = Path(__file__).with_name("b4_client.py")


def _measure(ctx: Context, mode: str, nqubits: int, nshots: int) -> dict[str, Any]:
    env = dict(os.environ, QIBO_CLIENT_TOKEN=ctx.token)
    args = [sys.executable, str(SCRIPT), mode, "--nqubits", str(nqubits), "--nshots", str(nshots)]
    done = subprocess.run(
        [*args, "--url", ctx.url], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"b4_client.py {mode} failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run(ctx: Context) -> CaseResult:
    nqubits, nshots = (16, 100_000) if ctx.quick else (20, 1_000_000)
    rounds = 1 if ctx.quick else 3
    plugin, local = [], []
    for _ in range(rounds):
        plugin.append(_measure(ctx, "plugin", nqubits, nshots))
        local.append(_measure(ctx, "numpy", nqubits, nshots))

    def med(runs: list[dict[str, Any]], key: str) -> float:
        return float(statistics.median(run[key] for run in runs))

    growth = [run["peak_rss_mb"] - run["baseline_rss_mb"] for run in plugin]
    beyond = [g - run["counts_mb"] for g, run in zip(growth, plugin, strict=True)]
    worst = max(beyond)
    wire_mb = plugin[0]["job_get_bytes"] / 2**20
    time_ratio = med(plugin, "seconds_to_result") / med(local, "seconds_to_result")
    local_growth = statistics.median(r["peak_rss_mb"] - r["baseline_rss_mb"] for r in local)
    figure = (
        f"{nqubits} qubits x {nshots:,} shots, {plugin[0]['distinct_outcomes']:,} outcomes: "
        f"job GET {wire_mb:.1f} MB on the wire ({plugin[0]['content_encoding']}); client RSS "
        f"+{statistics.median(growth):.0f} MB, of which counts {med(plugin, 'counts_mb'):.0f} MB "
        f"-> {statistics.median(beyond):.0f} MB beyond (worst {worst:.0f}); "
        f"time to result {med(plugin, 'seconds_to_result'):.2f} s = {time_ratio:.2f}x numpy "
        f"(numpy RSS +{local_growth:.0f} MB)"
    )
    return CaseResult(
        CASE,
        WHAT,
        figure=figure + f" (median of {rounds})",
        target="client peak RSS < 200 MB beyond the counts",
        met=worst < TARGET_MB,
        data={
            "nqubits": nqubits,
            "nshots": nshots,
            "plugin": plugin,
            "numpy": local,
            "beyond_counts_mb": beyond,
            "time_ratio_vs_numpy": time_ratio,
        },
    )
