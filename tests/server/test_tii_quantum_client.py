"""TII's own client ``tii-quantum`` 0.1.2, unchanged, in its own venv, against our server.

It reads the 2026 generation of the protocol: the version keys ``minimum_qibo_version`` and
``minimum_client_version``, the counts in the job object (``frequencies``, rebuilt with qibo's
``MeasurementOutcomes.from_frequencies``), ``GET /api/accounts/me/`` and the disk quota as one
object. Its users call what the script below calls, in that order; every step must work on the
``default`` profile (which speaks both generations) and on ``tii-2026``.

Its rebuilt result knows only the measured bits, in measurement order: the circuit's register
names do not survive ``from_frequencies`` (one register, the bits of all measurements).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from server_helpers import clean_env, run_in_venv

SCRIPT = """
import json, os
from qibo import Circuit, gates
import qibo, tii_quantum
from tii_quantum.exceptions import ApiError
qibo.set_backend("numpy")
client = tii_quantum.Client(os.environ["TQ_TOKEN"], os.environ["TQ_URL"])
client.check_client_server_qibo_versions()
bell = Circuit(2)
bell.add(gates.H(0))
bell.add(gates.CNOT(0, 1))
bell.add(gates.M(0, 1))
bell_job = client.run_circuit(bell, device="sim", nshots=100)
bell_result = bell_job.result(wait=0.05, verbose=False)
named = Circuit(3)
named.add(gates.H(0))
named.add(gates.CNOT(0, 2))
named.add(gates.M(2, register_name="late"))
named.add(gates.M(0, 1, register_name="pair"))
job = client.run_circuit(named, device="sim", nshots=200)
result = job.result(wait=0.05, verbose=False)
again = client.get_job(job.pid)
client.print_job_info()
client.print_quota_info()
client.delete_job(bell_job.pid)
try:
    client.get_job(bell_job.pid)
    deleted_status = None
except ApiError as error:
    deleted_status = error.status
print(json.dumps({
    "bell": dict(bell_result.frequencies()),
    "frequencies": dict(result.frequencies()),
    "registers": [dict(counts) for counts in result.frequencies(registers=True).values()],
    "qubits": [list(m.target_qubits) for m in result.measurements],
    "pid": job.pid,
    "again_status": again.refresh().name,
    "again": again.frequencies,
    "deleted_status": deleted_status,
}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("profile", ["default", "tii-2026"])
def test_tii_quantum_runs_every_step_on_our_server(
    tii_quantum_python: Path, profile: str, request: pytest.FixtureRequest
) -> None:
    server: Any = request.getfixturevalue(
        "cluster" if profile == "default" else "strict_2026_cluster"
    )
    email = f"tii-quantum-{profile}@example.org"
    env = clean_env(
        TQ_URL=server.url,
        TQ_TOKEN=server.add_user(email),
        QIBO_API_ERRORS_AUTO="0",  # a failure shows its traceback, not tii-quantum's banner
    )
    out, log = run_in_venv(tii_quantum_python, SCRIPT, env)
    assert set(out["bell"]) <= {"00", "11"}
    assert sum(out["bell"].values()) == 100
    # Bits in measurement order: late (q2), then pair (q0, q1); H(0) CNOT(0, 2) ties q0 and q2.
    assert set(out["frequencies"]) == {"000", "110"}
    assert sum(out["frequencies"].values()) == 200
    assert out["registers"] == [out["frequencies"]]
    assert out["qubits"] == [[0, 1, 2]]
    assert out["again_status"] == "SUCCESS"
    assert out["again"] == out["frequencies"]  # get_job reads the same counts
    assert out["deleted_status"] == 404
    # print_*_info log their tables
    assert log.count(f"User: {email}") == 2  # the job table (accounts/me) and the quota
    assert out["pid"] in log
    assert "Disk quota left [KBs]" in log
    assert "hw5" in log  # a device of the project quotas
