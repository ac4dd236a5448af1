"""How qibo finds and configures the plugin, fresh results between runs, batches, and the demo."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections import Counter
from importlib.metadata import entry_points
from typing import Any

import numpy as np
import pytest
import qibo
from backend_helpers import assert_counts_match, exact_distribution
from qibo import Circuit, gates

import qibo_client
from qibo_client.backend import MetaBackend, RemoteTIIBackend
from qibo_client.cli import demo
from qibo_client.config import ConfigurationError, MalformedResponseError
from qibo_client.results.outcomes import RemoteMeasurementOutcomes


def test_entry_point_is_published() -> None:
    (found,) = [ep for ep in entry_points(group="qibo.backends") if ep.name == "qibo-client"]
    assert found.load() is qibo_client.MetaBackend is MetaBackend


def test_list_available_says_whether_a_token_is_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert qibo.list_available_backends("qibo-client")["qibo-client"] is False
    monkeypatch.setenv("QIBO_CLIENT_TOKEN", "some-token")
    assert qibo.list_available_backends("qibo-client")["qibo-client"] is True


def test_load_takes_platform_as_device_and_environment_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QIBO_CLIENT_TOKEN", "env-token")
    monkeypatch.setenv("QIBO_CLIENT_URL", "http://cluster.example/")
    backend = MetaBackend.load(platform=None)
    assert (backend.name, backend.platform, backend.url) == (
        "qibo-client",
        "sim",
        "http://cluster.example",
    )
    assert MetaBackend.load(platform="hw5").platform == "hw5"
    assert MetaBackend.load(device="hw5", project="lab", verbatim=True, timeout=5).verbatim
    # qibo must not transpile locally: the server transpiles for its device.
    assert backend.qubits is None
    assert backend.natives is None


def test_load_refuses_bad_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="QIBO_CLIENT_TOKEN"):
        MetaBackend.load(url="http://cluster.example")
    with pytest.raises(ConfigurationError, match="disagree"):
        MetaBackend.load(token="t", device="sim", platform="hw5")
    with pytest.raises(ConfigurationError, match=r"Unknown option.*shots"):
        MetaBackend.load(token="t", shots=10)


def test_qibo_backend_environment_variables_select_the_plugin(cluster: Any, tmp_path: Any) -> None:
    program = (
        "import qibo\n"
        "from qibo import Circuit, gates\n"
        "c = Circuit(2); c.add(gates.X(1)); c.add(gates.M(0, 1))\n"
        "b = qibo.get_backend()\n"
        "print(b.name, b.platform, dict(c(nshots=7).frequencies()))\n"
    )
    env = dict(
        os.environ,
        QIBO_BACKEND="qibo-client",
        QIBO_PLATFORM="sim",
        QIBO_CLIENT_URL=cluster.url,
        QIBO_CLIENT_TOKEN=cluster.token,
    )
    done = subprocess.run(
        [sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "qibo-client sim {'01': 7}"


def test_rerun_after_set_parameters_gives_fresh_results(remote: RemoteTIIBackend) -> None:
    circuit = Circuit(1)
    circuit.add(gates.RX(0, theta=0.0))
    circuit.add(gates.M(0))
    first = circuit(nshots=20)
    assert first.samples().tolist() == [[0]] * 20  # samples cached on the gate...

    circuit.set_parameters([np.pi])
    second = circuit(nshots=20)

    assert second.frequencies() == Counter({"1": 20})  # ...are not served again
    assert second.samples().tolist() == [[1]] * 20
    assert circuit.measurements[0].result.frequencies() == Counter({"1": 20})
    assert first.frequencies() == Counter({"0": 20})  # an old result keeps its own counts


def test_execute_circuits_runs_a_batch_with_the_device_default(remote: RemoteTIIBackend) -> None:
    circuits = []
    for flips in ((), (0,), (0, 1)):
        circuit = Circuit(2)
        circuit.add(gates.X(q) for q in flips)
        circuit.add(gates.M(0, 1))
        circuits.append(circuit)

    results = remote.execute_circuits(circuits)

    assert [dict(r.frequencies()) for r in results] == [
        {"00": 1000},  # nshots=None: the sim device's default of 1000 shots
        {"10": 1000},
        {"11": 1000},
    ]
    assert all(c._final_state is r for c, r in zip(circuits, results, strict=True))


def test_large_results_stay_counts_until_samples_are_asked() -> None:
    """20 measured qubits, 100,000 distinct outcomes: no nshots x 20 array unless asked."""
    rng = np.random.default_rng(7)
    values = rng.choice(2**20, size=100_000, replace=False)
    counts = {
        f"{v:020b}": int(c) for v, c in zip(values, rng.integers(1, 20, 100_000), strict=True)
    }
    circuit = Circuit(20)
    circuit.add(gates.M(*range(10), register_name="low"))
    circuit.add(gates.M(*range(10, 20), register_name="high"))

    result = RemoteMeasurementOutcomes(circuit.measurements, counts, qibo.get_backend(), 20)

    assert result.frequencies() == Counter(counts)
    assert result.nshots == sum(counts.values())
    assert not result.has_samples()
    low = Counter()
    for key, count in counts.items():
        low[key[:10]] += count
    assert result.frequencies(registers=True)["low"] == low
    assert result.probabilities(list(range(10))).sum() == pytest.approx(1.0)
    assert not result.has_samples()


@pytest.mark.parametrize(
    "counts", [{"0": 3}, {"0a": 3}, {"01": -1}, {"0é": 2}], ids=["short", "letter", "neg", "utf8"]
)
def test_malformed_counts_are_refused(counts: dict[str, int]) -> None:
    circuit = Circuit(2)
    circuit.add(gates.M(0, 1))
    with pytest.raises(MalformedResponseError):
        RemoteMeasurementOutcomes(circuit.measurements, counts, qibo.get_backend())


def test_demo_prints_the_three_results(
    cluster: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # rich would wrap the table's cells at 80 columns
    parser = argparse.ArgumentParser()
    demo.add_arguments(parser)
    args = parser.parse_args(["--quick", "--url", cluster.url, f"--token={cluster.token}"])

    assert demo.main(args) == 0

    out = capsys.readouterr().out
    for expected in ("Bell pair", "00: ", "11: ", "5-qubit QFT", "outcomes seen", "VQE (shots)"):
        assert expected in out, out
    assert "-1.414" in out  # the exact ground energy, printed for comparison
    away = re.search(r"exact -1\.414: (\d+\.\d+) away .*?; (\d+) evaluations", out)
    assert away is not None, out
    assert float(away.group(1)) < 0.03  # close (seeded: the same every run), and says how close
    assert int(away.group(2)) > 12  # the evaluations made, not the iteration budget
    assert qibo.get_backend().name == "numpy"  # the demo leaves qibo as it found a fresh one


def test_the_demo_leaves_the_users_journal_alone(
    tmp_path: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QIBO_CLIENT_CACHE_DIR", str(tmp_path))
    parser = argparse.ArgumentParser()
    demo.add_arguments(parser)
    assert demo.main(parser.parse_args(["--quick"])) == 0  # its own embedded cluster
    assert "VQE (shots)" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []  # no journal entries for a server that is gone
    assert os.environ["QIBO_CLIENT_CACHE_DIR"] == str(tmp_path)


def test_platform_selects_the_cluster_device(cluster: Any) -> None:
    """On ``hw5`` the server transpiles to its native gates and line connectivity itself."""

    def ghz_ends() -> Circuit:
        circuit = Circuit(3)
        circuit.add(gates.H(0))
        circuit.add(gates.CNOT(0, 2))  # not a neighbour pair on the line: the server routes
        circuit.add(gates.M(2, 0))
        return circuit

    qibo.set_backend("qibo-client", url=cluster.url, token=cluster.token, platform="hw5")
    try:
        assert qibo.get_backend().platform == "hw5"
        counts = ghz_ends()(nshots=400).frequencies()
    finally:
        qibo.set_backend("numpy")
    assert_counts_match(counts, exact_distribution(ghz_ends))


def test_to_dict_rebuilds_the_exact_counts_with_qibo_alone() -> None:
    """``result.dump`` goes through ``to_dict``: qibo's own class must get the same counts back."""
    from qibo.result import MeasurementOutcomes

    circuit = Circuit(3)
    circuit.add(gates.M(2, 0, register_name="a"))
    circuit.add(gates.M(1, register_name="b"))
    counts = {"101": 3, "010": 5, "111": 2}
    result = RemoteMeasurementOutcomes(circuit.measurements, counts, qibo.get_backend(), 3)

    rebuilt = MeasurementOutcomes.from_dict(result.to_dict())

    assert rebuilt.frequencies() == Counter(counts)
    assert rebuilt.frequencies(registers=True) == result.frequencies(registers=True)
