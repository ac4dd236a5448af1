"""The official qibo-client 0.2.4, in its own venv (qibo 0.3.2), against our server's two profiles.

The venv is the benchmarks' (``benchmarks/official/env.py``), built once from the package registry
into a cache under the temporary directory (or ``$QIBO_CLIENT_OFFICIAL_VENV``) and reused by later
sessions (the ``official_python`` fixture). Its users call ``print_quota_info()`` and
``run_circuit(...).result()``; both must work, and the result must carry the circuit's own
registers and measured qubits.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from server_helpers import clean_env, run_in_venv

SCRIPT = """
import json, logging, os
from qibo import Circuit, gates
import qibo, qibo_client
logging.disable(logging.WARNING)
qibo.set_backend("numpy")
client = qibo_client.Client(os.environ["OFFICIAL_TOKEN"], os.environ["OFFICIAL_URL"])
client.print_quota_info()
client.print_job_info()
circuit = Circuit(3)
circuit.add(gates.H(0))
circuit.add(gates.CNOT(0, 2))
circuit.add(gates.M(2, register_name="late"))
circuit.add(gates.M(0, 1, register_name="pair"))
job = client.run_circuit(circuit, device="sim", nshots=200)
result = job.result(verbose=False)
print(json.dumps({
    "frequencies": dict(result.frequencies()),
    "registers": {k: dict(v) for k, v in result.frequencies(registers=True).items()},
    "qubits": [list(m.target_qubits) for m in result.measurements],
}))
client.delete_job(job.pid)  # DELETE's answer differs by profile; the call must not fail
"""


@pytest.mark.slow
@pytest.mark.parametrize("profile", ["default", "tii"])
def test_official_client_reads_quotas_and_results_with_registers(
    official_python: Path, profile: str, cluster: Any, strict_cluster: Any, tmp_path: Path
) -> None:
    server = cluster if profile == "default" else strict_cluster
    env = clean_env(
        OFFICIAL_URL=server.url,
        OFFICIAL_TOKEN=server.add_user(f"official-{profile}@example.org"),
        RESULTS_BASE_FOLDER=str(tmp_path),
    )
    out, _log = run_in_venv(official_python, SCRIPT, env)
    assert sum(out["frequencies"].values()) == 200
    assert set(out["frequencies"]) == {"000", "110"}  # bits: late (q2), then pair (q0, q1)
    assert set(out["registers"]) == {"late", "pair"}
    assert set(out["registers"]["pair"]) == {"00", "10"}
    assert out["qubits"] == [[2], [0, 1]]
