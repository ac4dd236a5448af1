"""B5: what ``import qibo_client`` costs on top of ``import qibo`` (target: at most 30 ms).

Each sample is a fresh interpreter that times its own imports with ``perf_counter``, so the
interpreter's start-up and exit do not add their noise. The kinds of process are interleaved
(qibo then qibo_client, qibo_client alone, qibo then the backend module) so that machine load hits
all of them alike.
"""

from __future__ import annotations

import json
import subprocess
import sys

from common import CaseResult, Context, median, ms, summary

CASE = "B5"
WHAT = "import"
TARGET_S = 0.030

_PROBES = {
    "qibo_then_client": "import qibo\nmark()\nimport qibo_client",
    "client_alone": "import qibo_client",
    # what qibo.set_backend('qibo-client') pulls in besides qibo itself (no network until a job)
    "qibo_then_backend": "import qibo\nmark()\nimport qibo_client.backend",
}

_TEMPLATE = """
import json, time
marks = [time.perf_counter()]
def mark():
    marks.append(time.perf_counter())
{body}
mark()
print(json.dumps([b - a for a, b in zip(marks, marks[1:])]))
"""


def _sample(body: str) -> list[float]:
    code = _TEMPLATE.format(body=body)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    spans: list[float] = json.loads(done.stdout.strip().splitlines()[-1])
    return spans


def run(ctx: Context) -> CaseResult:
    rounds = 7 if ctx.quick else 15
    samples: dict[str, list[list[float]]] = {name: [] for name in _PROBES}
    for _ in range(rounds):
        for name, body in _PROBES.items():
            samples[name].append(_sample(body))
    qibo_alone = [s[0] for s in samples["qibo_then_client"]]
    beyond = [s[1] for s in samples["qibo_then_client"]]
    alone = [s[0] for s in samples["client_alone"]]
    backend = [s[1] for s in samples["qibo_then_backend"]]
    cost = median(beyond)
    return CaseResult(
        CASE,
        WHAT,
        figure=(
            f"import qibo_client after qibo: {ms(cost)} (median of {rounds}); alone "
            f"{ms(median(alone))}; qibo itself {ms(median(qibo_alone))}; "
            f"+ backend module {ms(median(backend))}"
        ),
        target="<= 30 ms beyond import qibo",
        met=cost <= TARGET_S,
        data={
            "import_qibo": summary(qibo_alone),
            "import_qibo_client_after_qibo": summary(beyond),
            "import_qibo_client_alone": summary(alone),
            "import_qibo_client_backend_after_qibo": summary(backend),
        },
    )
