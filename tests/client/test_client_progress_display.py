"""What the status line says, and how it reaches a Jupyter notebook (a real kernel, no ipywidgets).

The line must be honest: a time left only while the server's estimate runs, never "about 0 s
left"; a short pid; and in a notebook a plain line updated in place, without rich's ipywidgets
warning and without an empty output.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from qibo_client.jobs.progress import Estimate, describe

PID = "0123456789ab-cdef-0123-4567-89abcdef0123"


def test_the_line_shows_a_short_pid_and_no_spent_estimate() -> None:
    job = {"pid": PID, "status": "running", "etd_seconds": 0.05}
    line = describe(job, 68.4, None)
    assert line == "job 01234567: running, 68 s elapsed"
    assert "left" not in describe(job, 3.0, 0.4)  # under a second: nothing, not "about 0 s"
    assert "about 12 s left" in describe(job, 3.0, 12.2)


def test_an_estimate_counts_down_and_runs_out() -> None:
    estimate = Estimate()
    job = {"status": "queueing", "queue_position": 2, "etd_seconds": 10.0}
    estimate.update(job, now=100.0)
    assert estimate.left(104.0) == pytest.approx(6.0)
    estimate.update(dict(job), now=105.0)  # the same news again: the count goes on
    assert estimate.left(106.0) == pytest.approx(4.0)
    assert estimate.left(111.0) is None  # run out: no number rather than a wrong one
    estimate.update({**job, "status": "running", "queue_position": None}, now=111.0)
    assert estimate.left(112.0) == pytest.approx(9.0)  # news: a fresh estimate
    estimate.update({"status": "running", "etd_seconds": None, "queue_position": 1}, now=113.0)
    assert estimate.left(113.5) is None


CELL = """\
import os
os.environ.pop("QIBO_CLIENT_PROGRESS", None)
from qibo_client import Client, JobTimeoutError
from qibo_client.server import local_cluster

BELL = "\\n".join([
    'OPENQASM 2.0;', 'include "qelib1.inc";', 'qreg q[2];', 'creg m[2];', 'h q[0];',
    'cx q[0],q[1];', 'measure q[0] -> m[0];', 'measure q[1] -> m[1];', '',
])
with local_cluster(workers=0) as cluster:
    client = Client(cluster.url, cluster.token, journal=False)
    job = client.submit(BELL, nshots=10)
    try:
        job.wait(timeout=2.5)
    except JobTimeoutError:
        pass
print("pid", job.pid[:8])
"""

#: The embedded server with real workers, from a kernel (whose main module is ipykernel's).
WORKERS_CELL = """\
with local_cluster(workers=1) as cluster:
    client = Client(cluster.url, cluster.token, journal=False, progress=False)
    print("counts", sorted(client.submit(BELL, nshots=50).frequencies()))
"""


def test_a_notebook_gets_a_plain_line_and_runs_workers(tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    kernels = tmp_path / "kernels" / "qibo-client-test"
    kernels.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "qibo-client test",
        "language": "python",
    }
    (kernels / "kernel.json").write_text(json.dumps(spec))
    os.environ["JUPYTER_PATH"] = str(tmp_path)  # this interpreter's kernel, not a user's python3
    try:
        cells = [nbformat.v4.new_code_cell(CELL), nbformat.v4.new_code_cell(WORKERS_CELL)]
        notebook = nbformat.v4.new_notebook(cells=cells)
        nbclient.NotebookClient(notebook, timeout=120, kernel_name="qibo-client-test").execute()
    finally:
        del os.environ["JUPYTER_PATH"]
    outputs = notebook.cells[0].outputs
    streams = "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream")
    assert "ipywidgets" not in streams
    pid = next(line.split()[1] for line in streams.splitlines() if line.startswith("pid "))
    shown = [o["data"]["text/plain"] for o in outputs if o["output_type"] == "display_data"]
    assert len(shown) == 1  # one line, updated in place
    assert shown[0].startswith(f"job {pid}: queueing, position 1 in queue")
    assert shown[0].endswith(" s elapsed")
    ran = "".join(o.get("text", "") for o in notebook.cells[1].outputs if "text" in o)
    assert "counts ['00', '11']" in ran
