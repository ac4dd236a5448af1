"""What reading a job's body costs on the hot path (a Bell POST), alone and inside a whole POST.

    PYTHONPATH=src python benchmarks/body_check.py

Prints two medians (``timeit.repeat``): the body step alone (parse the JSON, validate it
shape) on a Bell QASM body and on a Bell ``circuit.raw`` body, and a whole ``POST /api/jobs/``
through the app in process (FastAPI's TestClient, a runner that ends each job at once: token,
body, device and circuit checks, one INSERT, the answer). The second is the figure that matters;
the first says how much of it the body step is. Not collected by pytest, not run by ``run.py``.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import timeit
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from qibo_client.protocol import TOKEN_HEADER
from qibo_client.server.accounts import AccountSpec
from qibo_client.server.api.app import create_app
from qibo_client.server.api.checks import job_of, parse_body
from qibo_client.server.jobs.runner import Outcome, Runner, Task
from qibo_client.server.state import ServerConfig

TOKEN = "bench-token-0123456789abcdef"
BELL_QASM = (
    'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg m[2];\n'
    "h q[0];\ncx q[0],q[1];\nmeasure q[0] -> m[0];\nmeasure q[1] -> m[1];\n"
)


def bell_raw() -> dict[str, Any]:
    """qibo's ``circuit.raw`` of the Bell circuit (what the official client posts)."""
    from qibo import Circuit, gates

    circuit = Circuit(2)
    circuit.add([gates.H(0), gates.CNOT(0, 1), gates.M(0, 1)])
    return dict(circuit.raw)


class EndAtOnce(Runner):
    """Ends each job as it is submitted, so the user's queue never fills."""

    def __init__(self, workers: int, on_outcome: Callable[[Outcome], None]) -> None:
        super().__init__(0, on_outcome)
        self.record = on_outcome

    def submit(self, task: Task, owner: Hashable = None) -> None:
        self.record(Outcome(task.pid, ok=True, frequencies_json="{}", runtime=0.0))


def median_us(func: Callable[[], object], number: int) -> float:
    return statistics.median(timeit.repeat(func, number=number, repeat=15)) / number * 1e6


def body_step(body: bytes) -> None:
    job_of(parse_body(body))


def main() -> None:
    bodies = {
        "qasm": json.dumps({"circuit": BELL_QASM, "nshots": 1000}).encode(),
        "raw": json.dumps({"circuit": bell_raw(), "nshots": 1000}).encode(),
    }
    for name, body in bodies.items():
        print(f"body step, Bell {name}: {median_us(lambda b=body: body_step(b), 20_000):.2f} us")
    with tempfile.TemporaryDirectory() as folder:
        accounts = [AccountSpec("bench@example.org", TOKEN, frozenset({"personal"}))]
        config = ServerConfig(db_path=Path(folder) / "bench.sqlite3", workers=0, accounts=accounts)
        app = create_app(config, runner=EndAtOnce)
        with TestClient(app, headers={TOKEN_HEADER: TOKEN}) as client:
            for name, body in bodies.items():

                def post(b: bytes = body) -> None:
                    answer = client.post("/api/jobs/", content=b)
                    assert answer.status_code == 200, answer.text

                print(f"whole POST, Bell {name}: {median_us(post, 200):.0f} us")


if __name__ == "__main__":
    main()
