"""A token goes only to the server it was given for: the settings, the journal commands.

Two fault servers stand for two clusters; each records the headers it was sent, so a test can
see which token reached which server (a token is never asserted by printing it).
"""

from __future__ import annotations

import argparse
import socket
from collections.abc import Iterator

import pytest
from faults import FaultServer, json_reply

from qibo_client.cli import jobs as journal_cli
from qibo_client.config import TII_URL, ConfigurationError
from qibo_client.jobs import journal
from qibo_client.qibo_client import Client
from qibo_client.settings import resolve, same_server

TOKEN_A = "tok-server-A-SECRET"
TOKEN_B = "tok-server-B-SECRET"


@pytest.fixture
def other() -> Iterator[FaultServer]:
    """A second cluster, beside the ``faults`` one."""
    with FaultServer() as server:
        yield server


def run_cli(command: str, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog=f"qibo-client {command}")
    getattr(journal_cli, f"add_{command}_arguments")(parser)
    return int(getattr(journal_cli, f"{command}_main")(parser.parse_args(argv)))


def _tokens_seen(server: FaultServer) -> set[str]:
    return {r.headers.get("x-api-token", "") for r in server.requests} - {""}


def _lists(server: FaultServer, *pids: str) -> None:
    server.always("/api/jobs/", json_reply([{"pid": pid, "status": "success"} for pid in pids]))


def _closed_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def test_the_environment_token_goes_only_to_the_environment_server(
    faults: FaultServer, other: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QIBO_CLIENT_URL", faults.url)
    monkeypatch.setenv("QIBO_CLIENT_TOKEN", TOKEN_A)
    assert Client(progress=False).token == TOKEN_A
    with pytest.raises(ConfigurationError) as info:
        Client(other.url, progress=False)
    assert faults.url in str(info.value)
    assert TOKEN_A not in str(info.value)
    assert other.requests == []
    assert Client(other.url, TOKEN_B, progress=False).token == TOKEN_B


def test_without_an_environment_url_the_token_is_for_the_default_service(
    faults: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QIBO_CLIENT_TOKEN", TOKEN_A)
    assert resolve(default_url=TII_URL).token == TOKEN_A
    with pytest.raises(ConfigurationError):
        resolve(faults.url)
    assert faults.requests == []


def test_same_server_compares_origins() -> None:
    assert same_server("https://cloud.qibo.science", "HTTPS://cloud.qibo.science:443/")
    assert same_server("http://h:80/api", "http://h")
    assert not same_server("http://h", "https://h")
    assert not same_server("http://h:8000", "http://h:8001")
    assert not same_server("http://h.test", "http://h.test.evil")


def test_jobs_asks_each_server_with_its_own_token_only(
    faults: FaultServer,
    other: FaultServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _lists(faults, "a1")
    _lists(other, "b1")
    journal.record(faults.url, "a1", device="sim", project="personal", nshots=10)
    journal.record(other.url, "b1", device="sim", project="personal", nshots=10)
    monkeypatch.setenv("QIBO_CLIENT_URL", faults.url)
    monkeypatch.setenv("QIBO_CLIENT_TOKEN", TOKEN_A)
    monkeypatch.setenv("COLUMNS", "250")
    assert run_cli("jobs") == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if "1 " in line}
    assert _tokens_seen(faults) == {TOKEN_A}
    assert other.requests == []  # server B never saw server A's token, nor any request
    assert "success" in rows["a1"]
    assert "no token for this server" in rows["b1"]
    assert "deleted" not in rows["b1"]

    assert run_cli("jobs", "--url", other.url, "--token", TOKEN_B) == 0
    assert _tokens_seen(other) == {TOKEN_B}
    assert _tokens_seen(faults) == {TOKEN_A}
    assert "b1" in capsys.readouterr().out


def test_a_token_flag_without_url_is_for_the_environment_server(
    faults: FaultServer,
    other: FaultServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _lists(faults, "a1")
    journal.record(faults.url, "a1", device="sim", project="personal", nshots=10)
    journal.record(other.url, "b1", device="sim", project="personal", nshots=10)
    monkeypatch.setenv("QIBO_CLIENT_URL", faults.url)
    assert run_cli("jobs", "--token", TOKEN_A) == 0
    assert _tokens_seen(faults) == {TOKEN_A}
    assert other.requests == []
    assert run_cli("result", "b1", "--token", TOKEN_A) == 2
    assert other.requests == []
    assert "No token for" in capsys.readouterr().err


def test_unreachable_and_deleted_are_different_statuses(
    faults: FaultServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _lists(faults, "a1")
    journal.record(faults.url, "a1", device="sim", project="personal", nshots=10)
    journal.record(faults.url, "a2", device="sim", project="personal", nshots=10)
    gone = _closed_port()
    journal.record(gone, "z1", device="sim", project="personal", nshots=10)
    monkeypatch.setenv("COLUMNS", "250")
    assert run_cli("jobs", "--url", faults.url, "--token", TOKEN_A) == 0
    out = capsys.readouterr().out
    assert "deleted" in next(line for line in out.splitlines() if "a2" in line)
    monkeypatch.setenv("QIBO_CLIENT_TIMEOUT", "2")
    assert run_cli("jobs", "--url", gone, "--token", TOKEN_A) == 0
    captured = capsys.readouterr()
    row = next(line for line in captured.out.splitlines() if "z1" in line)
    assert "unreachable" in row
    assert "deleted" not in row
    assert TOKEN_A not in captured.out + captured.err
