"""qibolab platforms as devices (extra ``[hardware]``), on qibolab's built-in ``dummy`` platform.

The dummy platform has five qubits coupled (0,2), (1,2), (2,3), (2,4), CZ and iSWAP on every pair
and CNOT only from 2 to 3; its shots are random numbers by design, with no physics in them. So these
tests check the plumbing (the listing, the submission checks, transpilation, wire names, shapes,
registers, counts that sum to ``nshots``, the queue), never a distribution.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import re
import signal
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests
from server_helpers import clean_env, run_in_venv, session_for

from qibo_client.server import LocalCluster, local_cluster
from qibo_client.server.circuits.raw_circuit import program_from_raw
from qibo_client.server.devices import Device
from qibo_client.server.jobs.runner import Outcome, Task
from qibo_client.server.platforms import (
    HardwareExtraMissingError,
    PlatformError,
    platform_devices,
    require_qibolab,
)

needs_qibolab = pytest.mark.skipif(
    importlib.util.find_spec("qibolab") is None,
    reason="qibolab is not installed: pip install '.[hardware]' (qibolab>=0.2.17,<0.3)",
)

#: What qibolab's ``dummy`` platform is (qibolab 0.2.17).
DUMMY_PAIRS = [[0, 2], [1, 2], [2, 3], [2, 4]]


def raw(nqubits: int, *gates: Any, wire_names: list[Any] | None = None) -> dict[str, Any]:
    """``circuit.raw`` of a qibo circuit made of ``gates`` (qibo imported here, not at the top)."""
    from qibo import Circuit

    circuit = Circuit(nqubits, wire_names=wire_names)
    for gate in gates:
        circuit.add(gate)
    result: dict[str, Any] = (
        json.loads(circuit.raw) if isinstance(circuit.raw, str) else circuit.raw
    )
    return result


@pytest.fixture
def signals_kept() -> Iterator[None]:
    """A qibolab ``Platform`` made in this process takes SIGTERM and SIGINT: give them back."""
    kept = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}
    yield
    for number, handler in kept.items():
        signal.signal(number, handler)


@pytest.fixture(scope="module")
def dummy() -> Device:
    (device,) = platform_devices("dummy")
    return device


@pytest.fixture(scope="module")
def lab() -> Iterator[LocalCluster]:
    with local_cluster(qibolab=["dummy"]) as cluster:
        yield cluster


def submit(cluster: LocalCluster, body: dict[str, Any], wait: int = 60) -> requests.Response:
    session = session_for(cluster.url, cluster.token)
    return session.post(f"{cluster.url}/api/jobs/", json=body, headers={"Prefer": f"wait={wait}"})


# -- without the extra --------------------------------------------------------------------------


def test_without_the_extra_the_option_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from qibo_client.server.cli import main

    monkeypatch.setitem(sys.modules, "qibolab", None)  # find_spec answers None: not installed
    with pytest.raises(HardwareExtraMissingError, match=r"\[hardware\]"):
        require_qibolab()
    with pytest.raises(HardwareExtraMissingError, match="qibolab is not installed"):
        platform_devices(["dummy"])
    assert main(["--qibolab", "dummy", "--db", str(tmp_path / "db.sqlite3")]) == 2
    assert 'pip install ".[server,hardware]"' in capsys.readouterr().err


# -- the device, as read from the platform ------------------------------------------------------


@needs_qibolab
def test_an_unknown_platform_says_where_platforms_are_looked_for(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("QIBOLAB_PLATFORMS", str(tmp_path))
    with pytest.raises(PlatformError, match=r"'no-such-chip'.*\$QIBOLAB_PLATFORMS"):
        platform_devices("no-such-chip")


@needs_qibolab
def test_the_device_is_what_qibolab_backend_says_the_platform_is(
    dummy: Device, signals_kept: None
) -> None:
    from qibolab import create_platform
    from qibolab.backend import QibolabBackend

    backend = QibolabBackend(create_platform("dummy"))
    assert dummy.qubit_names == tuple(backend.qubits)
    assert dummy.natives == frozenset(backend.natives)
    assert dummy.couplings() == sorted(backend.connectivity)
    assert dummy.hardware_type == "hardware"
    assert dummy.max_qubits == 5


@needs_qibolab
def test_the_platform_is_listed_with_its_qubits_couplings_and_natives(lab: LocalCluster) -> None:
    session = session_for(lab.url, lab.token)
    quotas = session.get(f"{lab.url}/api/projectquotas/").json()
    (partition,) = [q["partition"] for q in quotas if q["partition"]["name"] == "dummy"]
    assert partition["hardware_type"] == "hardware"
    assert partition["max_num_qubits"] == 5
    assert partition["qubits"] == [0, 1, 2, 3, 4]
    assert partition["connectivity"] == DUMMY_PAIRS
    assert {"GPI2", "RZ", "CZ", "M"} <= set(partition["natives"])
    assert "H" not in partition["natives"]


# -- submission checks --------------------------------------------------------------------------


def verbatim_refusals() -> list[Any]:
    from qibo import gates

    return [
        (raw(1, gates.H(0), gates.M(0)), r"gate 0 \(H on qubits \[0\]\) is not native"),
        (raw(2, gates.CZ(0, 1), gates.M(0, 1)), r"CZ on qubits \[0, 1\]\) couples qubits that"),
        (
            raw(2, gates.CNOT(0, 1), gates.M(0, 1), wire_names=[0, 2]),
            r"CNOT on qubits \[0, 2\]\) is not calibrated on the pair \[0, 2\]",
        ),
        (
            raw(2, gates.CNOT(0, 1), gates.M(0, 1), wire_names=[3, 2]),
            r"CNOT on qubits \[3, 2\]\) is not calibrated on the pair \[3, 2\], in that order",
        ),
        (raw(1, gates.M(0), wire_names=["q7"]), r"wire name 'q7' is not a qubit of device"),
    ]


@needs_qibolab
@pytest.mark.parametrize(
    "case", range(5), ids=["gate", "pair", "uncalibrated", "direction", "wire-name"]
)
def test_verbatim_refuses_what_the_platform_cannot_run_naming_it(
    lab: LocalCluster, case: int
) -> None:
    circuit, reason = verbatim_refusals()[case]
    answer = submit(lab, {"circuit": circuit, "device": "dummy", "nshots": 10, "verbatim": True})
    assert answer.status_code == 400
    assert re.search(reason, answer.json()["detail"]), answer.json()["detail"]


# -- running ------------------------------------------------------------------------------------


@needs_qibolab
def test_a_program_through_the_plugin_comes_back_well_formed(lab: LocalCluster) -> None:
    import qibo
    from qibo import Circuit, gates

    circuit = Circuit(3, wire_names=[2, 3, 4])
    circuit.add(gates.H(0))
    circuit.add(gates.CNOT(0, 1))
    circuit.add(gates.M(2, register_name="late"))
    circuit.add(gates.M(0, 1, register_name="pair"))
    qibo.set_backend("qibo-client", url=lab.url, token=lab.token, platform="dummy")
    try:
        result = circuit(nshots=300)
    finally:
        qibo.set_backend("numpy")
    frequencies = result.frequencies(binary=True)
    assert sum(frequencies.values()) == 300
    assert {len(key) for key in frequencies} == {3}
    registers = result.frequencies(registers=True)
    assert list(registers) == ["late", "pair"]
    assert sum(registers["late"].values()) == sum(registers["pair"].values()) == 300
    assert {len(key) for key in registers["pair"]} == {2}
    assert result.samples().shape == (300, 3)


@needs_qibolab
def test_a_verbatim_job_runs_on_the_qubits_its_wire_names_name(lab: LocalCluster) -> None:
    # CNOT is calibrated from 2 to 3 alone: if the names were lost on the way, qibolab would look
    # for a CNOT on (0, 1), which the platform does not couple, and the job would fail.
    from qibo import gates

    circuit = raw(2, gates.GPI2(0, 0.3), gates.CNOT(0, 1), gates.M(0, 1), wire_names=[2, 3])
    answer = submit(lab, {"circuit": circuit, "device": "dummy", "nshots": 50, "verbatim": True})
    assert answer.status_code == 200, answer.text
    job = answer.json()
    assert job["status"] == "success", job["stderr"]
    assert job["engine"] == "qibolab"
    assert sum(job["frequencies"].values()) == 50
    assert {len(key) for key in job["frequencies"]} == {2}


@needs_qibolab
def test_a_transpiled_circuit_uses_the_natives_and_couplings_of_every_pair(
    dummy: Device,
) -> None:
    from qibo import gates

    from qibo_client.server.jobs.platform_worker import platform_circuit

    program = program_from_raw(
        raw(3, gates.H(0), gates.CNOT(0, 1), gates.CNOT(1, 2), gates.M(0, 1, 2))
    )
    circuit = platform_circuit(Task("t", program, 10, dummy, False))
    used = {type(gate).__name__ for gate in circuit.queue}
    assert used <= (dummy.transpile_natives() or set())
    assert "CNOT" not in used  # calibrated on one pair, one way: the router may not rely on it
    names = circuit.wire_names
    pairs = {
        tuple(sorted(names[q] for q in gate.qubits))
        for gate in circuit.queue
        if len(gate.qubits) == 2
    }
    assert pairs
    assert pairs <= {tuple(pair) for pair in DUMMY_PAIRS}


def test_wire_names_are_the_platform_qubit_names() -> None:
    # A platform whose qubits have names of their own (as real chips' often do); no qibolab needed.
    chip = Device(
        name="chip",
        description="three named qubits",
        max_qubits=3,
        max_shots=100,
        hardware_type="hardware",
        natives=frozenset({"GPI2", "RZ", "CZ", "M"}),
        edges=frozenset({(0, 1), (1, 2)}),
        max_density_qubits=0,
        qubit_names=("A1", "A2", "B1"),
    )
    program = program_from_raw(raw(2, *_cz_and_measure(), wire_names=["B1", "A2"]))
    checked = chip.check_program(program, verbatim=True)
    assert checked.wire_names == (2, 1)
    assert [chip.qubit_name(q) for q in checked.wire_names] == ["B1", "A2"]
    with pytest.raises(ValueError, match="its qubits are A1, A2, B1"):
        chip.check_program(program_from_raw(raw(1, *_measure(), wire_names=["C9"])))
    with pytest.raises(ValueError, match=r"couplings: \[\('A1', 'A2'\), \('A2', 'B1'\)\]"):
        chip.check_program(
            program_from_raw(raw(2, *_cz_and_measure(), wire_names=["A1", "B1"])), verbatim=True
        )


def _cz_and_measure() -> list[Any]:
    from qibo import gates

    return [gates.CZ(0, 1), gates.M(0, 1)]


def _measure() -> list[Any]:
    from qibo import gates

    return [gates.M(0)]


@needs_qibolab
def test_a_failure_on_the_platform_ends_the_job_with_qibolabs_message(
    dummy: Device, signals_kept: None
) -> None:
    # A device that wrongly claims CNOT on every pair lets the job reach the platform, which has
    # no CNOT calibrated on (0, 2): the job fails there, with what qibolab said.
    from qibo import gates

    from qibo_client.server.jobs.platform_worker import run_on_platform

    claims_too_much = replace(dummy, pair_natives=None)
    program = claims_too_much.check_program(
        program_from_raw(raw(2, gates.CNOT(0, 1), gates.M(0, 1), wire_names=[0, 2])), verbatim=True
    )
    outcome = run_on_platform(Task("t", program, 10, claims_too_much, True))
    assert not outcome.ok
    assert outcome.engine == "qibolab"
    assert "CNOT" in outcome.stderr
    assert outcome.frequencies_json is None


# -- one job at a time, queue, cancel, restart, crash -------------------------------------------


@needs_qibolab
def test_platform_jobs_queue_apart_cancel_and_survive_a_restart(tmp_path: Path) -> None:
    from qibo import gates

    db = tmp_path / "lab.sqlite3"
    body = {"circuit": raw(1, gates.GPI2(0, 0.1), gates.M(0)), "device": "dummy", "nshots": 20}
    with local_cluster(qibolab="dummy", workers=0, db_path=db) as cluster:
        session = session_for(cluster.url, cluster.token)
        jobs = f"{cluster.url}/api/jobs/"
        pids = [session.post(jobs, json=body).json()["pid"] for _ in range(3)]
        simulated = session.post(jobs, json={**body, "device": "sim"}).json()["pid"]
        positions = [session.get(f"{jobs}{pid}/").json()["queue_position"] for pid in pids]
        assert positions == [1, 2, 3]  # a queue of its own: the simulator's job is not in it
        assert session.get(f"{jobs}{simulated}/").json()["queue_position"] == 1
        assert session.delete(f"{jobs}{pids[0]}/").status_code == 200
        assert session.get(f"{jobs}{pids[1]}/").json()["queue_position"] == 1
    with local_cluster(qibolab="dummy", workers=2, db_path=db) as cluster:  # same user, new token
        group: Any = cluster.state.runner
        assert group.runner_for("dummy") is not group.main
        assert group.runner_for("dummy").workers == 1  # one job at a time, whatever the pool
        session = session_for(cluster.url, cluster.token)
        for pid in pids[1:]:
            job = session.get(f"{cluster.url}/api/jobs/{pid}/", params={"wait": 30}).json()
            assert job["status"] == "success", job["stderr"]
            assert job["engine"] == "qibolab"
            assert sum(job["frequencies"].values()) == 20


class Crasher:
    """A program whose worker dies while building it, as when a driver takes the process down."""

    nqubits = 1

    def to_circuit(self) -> None:
        os._exit(3)


@needs_qibolab
@pytest.mark.slow
def test_a_job_that_kills_the_platform_worker_twice_ends_in_error(dummy: Device) -> None:
    from qibo import gates

    from qibo_client.server.jobs.runner_group import platform_runner

    outcomes: list[Outcome] = []
    good = dummy.check_program(program_from_raw(raw(1, gates.GPI2(0, 0.1), gates.M(0))))

    async def scenario() -> None:
        both = asyncio.Event()

        def record(outcome: Outcome) -> None:
            outcomes.append(outcome)
            if len(outcomes) == 2:
                both.set()

        runner = platform_runner(1, record)
        await runner.start()
        try:
            runner.submit(Task("crash", Crasher(), 10, dummy, False))
            runner.submit(Task("good", good, 10, dummy, False))
            await asyncio.wait_for(both.wait(), 180)
        finally:
            runner.shutdown()

    asyncio.run(scenario())
    by_pid = {outcome.pid: outcome for outcome in outcomes}
    assert not by_pid["crash"].ok
    assert "died" in by_pid["crash"].stderr
    assert by_pid["good"].ok
    assert by_pid["good"].engine == "qibolab"


# -- TII's own client ---------------------------------------------------------------------------

TII_SCRIPT = """
import json, os
from qibo import Circuit, gates
import qibo, tii_quantum
qibo.set_backend("numpy")
client = tii_quantum.Client(os.environ["TQ_TOKEN"], os.environ["TQ_URL"])
circuit = Circuit(2)
circuit.add(gates.H(0))
circuit.add(gates.CNOT(0, 1))
circuit.add(gates.M(0, 1))
job = client.run_circuit(circuit, device="dummy", nshots=100)
result = job.result(wait=0.05, verbose=False)
print(json.dumps({"frequencies": dict(result.frequencies())}))
"""


@needs_qibolab
@pytest.mark.slow
def test_tii_quantum_runs_a_circuit_on_the_platform(
    tii_quantum_python: Path, lab: LocalCluster
) -> None:
    env = clean_env(
        TQ_URL=lab.url,
        TQ_TOKEN=lab.add_user("tii-quantum-lab@example.org"),
        QIBO_API_ERRORS_AUTO="0",
    )
    out, _log = run_in_venv(tii_quantum_python, TII_SCRIPT, env)
    frequencies = out["frequencies"]
    assert sum(frequencies.values()) == 100
    assert {len(key) for key in frequencies} == {2}
