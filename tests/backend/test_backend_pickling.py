"""Results and the backend pickle with their server's URL and options, never with the token.

qibo's ``Backend.__reduce__`` rebuilds a backend with no arguments, which made every pickled
result unreadable (or pointed it at TII's service). An unpickled backend finds its token the
usual way, for its own URL, only when it next connects. Results cross ``multiprocessing``
(spawn) and joblib intact.
"""

from __future__ import annotations

import multiprocessing
import pickle
from typing import Any

import pytest
import qibo
from backend_helpers import read_in_another_process
from qibo import Circuit, gates

from qibo_client.backend import RemoteTIIBackend
from qibo_client.config import ConfigurationError


def _registers() -> Circuit:
    circuit = Circuit(3)
    circuit.add(gates.H(0))
    circuit.add(gates.CNOT(0, 2))
    circuit.add(gates.M(2, register_name="b"))
    circuit.add(gates.M(0, 1, register_name="a"))
    return circuit


def _expected(result: Any) -> tuple[dict[str, int], dict[str, dict[str, int]], str]:
    return read_in_another_process(result)


def test_a_result_pickles_without_the_token(remote: RemoteTIIBackend, cluster: Any) -> None:
    result = _registers()(nshots=50)
    samples = result.samples()  # drawn now, so the copy must carry the same ones
    data = pickle.dumps(result)
    assert cluster.token.encode() not in data
    copy = pickle.loads(data)
    assert read_in_another_process(copy) == _expected(result)
    assert (copy.backend.url, copy.backend.device_name, copy.backend.options) == (
        remote.url,
        remote.device_name,
        remote.options,
    )
    assert (copy.samples() == samples).all()


def test_an_unpickled_backend_asks_for_its_token_only_when_it_connects(
    remote: RemoteTIIBackend, cluster: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = pickle.loads(pickle.dumps(remote))
    assert copy.url == cluster.url
    with pytest.raises(ConfigurationError, match=f"No token for {cluster.url}"):
        copy.client  # noqa: B018 - the first connection is where the token is needed
    monkeypatch.setenv("QIBO_CLIENT_URL", cluster.url)
    monkeypatch.setenv("QIBO_CLIENT_TOKEN", cluster.token)
    circuit = Circuit(1)
    circuit.add(gates.X(0))
    circuit.add(gates.M(0))
    assert dict(copy.execute_circuit(circuit, nshots=7).frequencies()) == {"1": 7}


def test_the_environments_token_never_goes_to_another_server(
    remote: RemoteTIIBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QIBO_CLIENT_TOKEN", "meant-for-tii")  # QIBO_CLIENT_URL unset: TII's
    copy = pickle.loads(pickle.dumps(remote))
    with pytest.raises(ConfigurationError, match="is sent to no other server"):
        copy.client  # noqa: B018


def test_results_cross_spawned_processes(remote: RemoteTIIBackend) -> None:
    result = _registers()(nshots=40)
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        read = pool.apply(read_in_another_process, (result,))
    assert read == _expected(result)


def test_results_cross_joblib(remote: RemoteTIIBackend) -> None:
    joblib = pytest.importorskip("joblib")
    results = [_registers()(nshots=n) for n in (10, 20)]
    read = joblib.Parallel(n_jobs=2)(
        joblib.delayed(read_in_another_process)(result) for result in results
    )
    assert read == [_expected(result) for result in results]
    assert qibo.get_backend() is remote  # nothing in the parent changed
