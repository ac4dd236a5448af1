"""The ``qibo-client`` command as a person reads it: 80 columns, pipes, --json, every default."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from qibo_client import cli
from qibo_client.jobs import journal
from qibo_client.server import LocalCluster

SERVER = "http://127.0.0.1:9"  # nobody listens: the journal's jobs are listed offline


def _record(count: int) -> list[str]:
    pids = [f"{index:08d}-0000-4000-8000-000000000000" for index in range(count)]
    for pid in pids:
        journal.record(SERVER, pid, device="sim", project="personal", nshots=1000)
    return pids


def test_jobs_fits_80_columns_and_keeps_pids_whole(capsys: pytest.CaptureFixture[str]) -> None:
    pids = _record(25)
    assert cli.main(["jobs", "--offline"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert lines[0] == SERVER
    shown = [line.split()[0] for line in lines[2:]]
    assert shown == pids[-20:]  # whole pids, one per line, newest 20
    assert "5 older job(s) not shown (--limit 20); --limit 0 shows all" in captured.err
    assert "│" not in captured.out  # plain columns, no box drawing through a pipe


def test_jobs_json_and_no_limit(capsys: pytest.CaptureFixture[str]) -> None:
    pids = _record(25)
    assert cli.main(["jobs", "--offline", "--json", "--limit", "0"]) == 0
    captured = capsys.readouterr()
    listed = json.loads(captured.out)
    assert [entry["pid"] for entry in listed] == pids
    assert {entry["status"] for entry in listed} == {"-"}
    assert captured.err == ""


def test_devices_lists_devices_and_quotas(
    cluster: LocalCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["devices", "--url", cluster.url, f"--token={cluster.token}"]) == 0
    out = capsys.readouterr().out
    assert cluster.token not in out
    rows = {line.split()[0]: line.split() for line in out.splitlines()[2:] if line[:1] != " "}
    assert rows["sim"][1] == "personal"
    assert rows["hw5"][2] == "5"  # qubits
    assert "MiB left" in out
    assert cli.main(["devices", "--url", cluster.url, f"--token={cluster.token}", "--json"]) == 0
    described = json.loads(capsys.readouterr().out)
    assert {q["partition"]["name"] for q in described["devices"]} >= {"sim", "hw5"}


def test_devices_without_a_token_says_how_to_get_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["devices", "--url", "http://127.0.0.1:9"]) == 1
    assert "qibo-client login" in capsys.readouterr().err


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_help_shows_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "300")  # no wrapping inside a default
    commands = _subparsers(cli.build_parser())
    assert set(cli.COMMANDS) == set(commands)
    for name, parser in commands.items():
        text = parser.format_help()
        for action in parser._actions:
            if action.default in (None, False, argparse.SUPPRESS) or not action.option_strings:
                continue
            shown = f"(default: {action.default})" in text
            assert shown or "default" in (action.help or ""), (name, action.dest)


def test_help_runs_without_the_server_extra_loaded() -> None:
    code = (
        "import sys; from qibo_client.cli import main\n"
        "try:\n    main(['serve', '--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('fastapi', 'uvicorn', 'qibo') if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "(default: 8000)" in run.stdout
    assert run.stdout.strip().endswith("[]")
