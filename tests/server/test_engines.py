"""Simulation engines (qibojit or numpy, per device, recorded per job) and the executor options."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from server_helpers import BELL, Api

from qibo_client.server import local_cluster
from qibo_client.server.circuits.qasm_parser import parse_qasm
from qibo_client.server.cli import main as serve
from qibo_client.server.devices import DEFAULT_DEVICES, SIM
from qibo_client.server.jobs import engines
from qibo_client.server.jobs.executors import DaskUnavailableError, require_dask
from qibo_client.server.jobs.runner import Outcome, Runner, Task
from qibo_client.server.jobs.store import Store


def test_each_job_runs_on_its_devices_engine_and_says_which() -> None:
    outcomes: list[Outcome] = []
    numpy_sim = replace(SIM, name="sim-numpy", engine=engines.NUMPY)

    async def scenario() -> None:
        done = asyncio.Event()

        def record(outcome: Outcome) -> None:
            outcomes.append(outcome)
            if len(outcomes) == 3:
                done.set()

        runner = Runner(1, record)
        await runner.start()
        try:
            for pid, device in [("a", SIM), ("b", numpy_sim), ("c", SIM)]:
                runner.submit(Task(pid, parse_qasm(BELL), 100, device, False))
            await asyncio.wait_for(done.wait(), 120)
        finally:
            runner.shutdown()

    asyncio.run(scenario())
    by_pid = {outcome.pid: outcome for outcome in outcomes}
    assert all(outcome.ok for outcome in outcomes)
    # One worker switches between engines from job to job.
    assert by_pid["a"].engine == by_pid["c"].engine == engines.resolve(engines.AUTO)
    assert by_pid["b"].engine == "numpy"


def test_the_job_object_names_its_engine(api: Api) -> None:
    session = api()
    job = session.post(
        f"{session.base_url}/api/jobs/",  # type: ignore[attr-defined]
        json={"circuit": BELL, "nshots": 10},
        headers={"Prefer": "wait=30"},
    ).json()
    assert job["status"] == "success"
    expected = "qibojit" if engines.qibojit_installed() else "numpy"
    assert job["engine"] == expected


@pytest.mark.skipif(
    not engines.gpu_available(), reason="no GPU here: sim-gpu needs qibojit, cupy and a CUDA device"
)
def test_the_gpu_device_runs_on_cupy() -> None:
    assert "sim-gpu" in DEFAULT_DEVICES.devices
    with local_cluster(workers=1) as cluster:
        from server_helpers import session_for

        session = session_for(cluster.url, cluster.token)
        job = session.post(
            f"{cluster.url}/api/jobs/",
            json={"circuit": BELL, "nshots": 100, "device": "sim-gpu"},
            headers={"Prefer": "wait=30"},
        ).json()
    assert job["status"] == "success"
    assert job["engine"] == "qibojit-cupy"
    assert set(job["frequencies"]) <= {"00", "11"}


def test_no_gpu_device_is_listed_without_a_gpu() -> None:
    assert ("sim-gpu" in DEFAULT_DEVICES.devices) == engines.gpu_available()


def test_threads_per_job_share_the_cores() -> None:
    assert engines.default_threads(2, cores=2) == 1
    assert engines.default_threads(1, cores=2) == 2
    assert engines.default_threads(4, cores=2) == 1
    assert engines.default_threads(3, cores=16) == 5


def test_an_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown simulation engine 'cuda'"):
        DEFAULT_DEVICES.with_engine("cuda")
    assert DEFAULT_DEVICES.with_engine("numpy").get("sim").engine == "numpy"
    assert DEFAULT_DEVICES.with_engine("numpy").get("hw5").engine == "numpy"


def test_an_older_database_gains_the_engine_column(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    Store(path).close()
    with sqlite3.connect(path) as db:
        db.execute("ALTER TABLE jobs DROP COLUMN engine")
    store = Store(path)
    store.close()
    with sqlite3.connect(path) as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(jobs)")}
    assert "engine" in columns


def test_without_distributed_the_dask_option_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(DaskUnavailableError, match=r'pip install "qibo-client\[dask\]"'):
        require_dask()
    with (
        pytest.raises(DaskUnavailableError, match="qibo-client"),
        local_cluster(dask="tcp://127.0.0.1:1"),
    ):
        pass
    db = tmp_path / "never.sqlite3"
    assert serve(["--dask", "tcp://127.0.0.1:1", "--db", str(db)]) == 2
    assert 'pip install "qibo-client[dask]"' in capsys.readouterr().err
    assert not db.exists()
