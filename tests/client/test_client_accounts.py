"""Saved accounts: the file (0600, one token per URL, one default), the commands, the order.

Against the session's real cluster: ``qibo-client login`` checks the token with one request and
saves it only when the server accepts it; then ``Client()`` and ``set_backend("qibo-client")`` with
no arguments run jobs there. A token is never printed, and a saved token only goes to its own URL.
"""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from qibo_client import accounts
from qibo_client.cli import main
from qibo_client.cli.accounts import login
from qibo_client.config import AuthenticationError, ConfigurationError, TransportError
from qibo_client.qibo_client import Client
from qibo_client.server import LocalCluster
from qibo_client.settings import resolve


def _login_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], token: str, *argv: str
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(token + "\n"))
    code = main(["login", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_file_is_private_from_its_creation(tmp_path: Path) -> None:
    path = tmp_path / "new" / "accounts.json"
    old_umask = os.umask(0)  # the most permissive umask: the mode must not depend on it
    try:
        accounts.save("https://example.org/", "secret-token-1", path=path)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["accounts.json"]  # no staging file left


def test_one_token_per_url_and_one_default(tmp_path: Path) -> None:
    path = tmp_path / "accounts.json"
    accounts.save("https://A.example.org/", "token-a", path=path)
    accounts.save("http://127.0.0.1:8000", "token-b", make_default=False, path=path)
    accounts.save("https://a.example.org", "token-a2", make_default=False, path=path)
    saved = accounts.read(path)
    assert saved.default == "https://a.example.org"  # the first saved stays the default
    assert saved.accounts["https://a.example.org"]["token"] == "token-a2"  # replaced, not added
    assert len(saved.accounts) == 2
    assert accounts.remove(path=path) == "https://a.example.org"  # the default
    assert accounts.read(path).default == "http://127.0.0.1:8000"  # the only one left
    assert accounts.remove("https://a.example.org", path=path) is None


def test_a_damaged_file_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "accounts.json"
    path.write_text("{not json")
    with pytest.raises(ConfigurationError, match="damaged"):
        accounts.read(path)


def test_a_damaged_file_is_no_source_for_clients(caplog: pytest.LogCaptureFixture) -> None:
    import qibo

    accounts.accounts_path().parent.mkdir(parents=True, exist_ok=True)
    accounts.accounts_path().write_text("[1, 2")
    assert resolve("http://127.0.0.1:1", "arg-token").token == "arg-token"
    assert qibo.list_available_backends("qibo-client")["qibo-client"] is False
    assert "damaged" in caplog.text


def test_a_saved_account_makes_the_backend_available() -> None:
    import qibo

    assert qibo.list_available_backends("qibo-client")["qibo-client"] is False
    accounts.save("http://127.0.0.1:1", "saved-token")
    assert qibo.list_available_backends("qibo-client")["qibo-client"] is True


def test_a_saved_token_goes_only_to_its_own_url() -> None:
    accounts.save("http://127.0.0.1:1", "saved-token")
    assert resolve().url == "http://127.0.0.1:1"  # the default account, with no argument
    assert resolve().token == "saved-token"
    with pytest.raises(ConfigurationError, match=r"No token for http://127\.0\.0\.1:2"):
        resolve("http://127.0.0.1:2")
    assert resolve("http://127.0.0.1:2", "arg-token").token == "arg-token"


def test_arguments_then_environment_then_saved(monkeypatch: pytest.MonkeyPatch) -> None:
    accounts.save("http://127.0.0.1:1", "saved-token")
    monkeypatch.setenv("QIBO_CLIENT_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("QIBO_CLIENT_TOKEN", "env-token")
    assert resolve().token == "env-token"
    assert resolve(token="arg-token").token == "arg-token"
    monkeypatch.delenv("QIBO_CLIENT_TOKEN")
    assert resolve().token == "saved-token"  # saved for the environment's URL
    monkeypatch.setenv("QIBO_CLIENT_URL", "http://127.0.0.1:3")
    assert resolve("http://127.0.0.1:1").url == "http://127.0.0.1:1"


def test_login_then_client_and_backend_without_arguments(
    cluster: LocalCluster, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import qibo
    from qibo import Circuit, gates

    code, out, err = _login_cli(monkeypatch, capsys, cluster.token, "--url", cluster.url + "/")
    assert code == 0, err
    assert f"Logged in to {cluster.url}" in out
    assert cluster.token not in out + err
    saved = json.loads(accounts.accounts_path().read_text())
    assert saved["default"] == cluster.url

    with Client(progress=False, journal=False) as client:
        assert client.url == cluster.url
        assert client.jobs() is not None
    circuit = Circuit(2)
    circuit.add(gates.H(0))
    circuit.add(gates.CNOT(0, 1))
    circuit.add(gates.M(0, 1))
    try:
        qibo.set_backend("qibo-client")
        assert set(circuit(nshots=100).frequencies()) <= {"00", "11"}
    finally:
        qibo.set_backend("numpy")

    assert main(["accounts"]) == 0
    listing = capsys.readouterr().out
    assert f"* {cluster.url}" in listing
    assert cluster.token not in listing
    assert main(["logout"]) == 0
    assert accounts.read().accounts == {}


def test_login_refused_saves_nothing(cluster: LocalCluster) -> None:
    with pytest.raises(AuthenticationError):
        login(cluster.url, lambda url: "not-a-valid-token")
    assert not accounts.accounts_path().exists()


def test_login_to_nothing_saves_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(TransportError):
        login("http://127.0.0.1:9", lambda url: "a-token")
    code, _, err = _login_cli(monkeypatch, capsys, "a-token", "--url", "127.0.0.1:8000")
    assert code == 1
    assert "must start with http:// or https://" in err
    assert not accounts.accounts_path().exists()


def test_login_in_a_real_process_reads_the_token_from_stdin(cluster: LocalCluster) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "qibo_client.cli", "login", "--url", cluster.url],
        input=cluster.token + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert cluster.token not in run.stdout + run.stderr
    assert accounts.read().accounts[cluster.url]["token"] == cluster.token
