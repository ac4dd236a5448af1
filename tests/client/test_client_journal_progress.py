"""The journal of submissions, the two CLI commands that read it, and the progress switch."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import responses
from client_fakes import FAKE, FAKE_TOKEN, job_object

from qibo_client.cli import jobs as journal_cli
from qibo_client.http.session import default_retry
from qibo_client.jobs import journal
from qibo_client.jobs.progress import BatchProgress, WaitStatus, progress_enabled
from qibo_client.qibo_client import Client

QASM = "OPENQASM 2.0;"


def run_cli(command: str, *argv: str) -> int:
    """Run a journal command as ``qibo-client`` would (its own parser, its own main)."""
    parser = argparse.ArgumentParser(prog=f"qibo-client {command}")
    getattr(journal_cli, f"add_{command}_arguments")(parser)
    return getattr(journal_cli, f"{command}_main")(parser.parse_args(argv))


def test_submission_is_journalled_without_the_token(
    fake: responses.RequestsMock, fake_client: Client, journal_dir: Path
) -> None:
    fake.post(f"{FAKE}/api/jobs/", json={"pid": "j1", "status": "queueing"})
    fake_client.submit(QASM, nshots=12, device="sim", project="lab")
    text = (journal_dir / "jobs.jsonl").read_text()
    assert FAKE_TOKEN not in text
    entry = json.loads(text)
    assert entry["url"] == FAKE
    assert entry["pid"] == "j1"
    assert (entry["device"], entry["project"], entry["nshots"]) == ("sim", "lab", 12)
    assert entry["submitted"].endswith("Z")


def test_journal_can_be_switched_off(fake: responses.RequestsMock, journal_dir: Path) -> None:
    client = Client(FAKE, FAKE_TOKEN, progress=False, journal=False)
    fake.post(f"{FAKE}/api/jobs/", json={"pid": "j1"})
    client.submit(QASM)
    assert not (journal_dir / "jobs.jsonl").exists()


def test_damaged_journal_lines_are_skipped(journal_dir: Path) -> None:
    journal_dir.mkdir(parents=True)
    journal.record(FAKE, "a", device="sim", project="personal", nshots=1)
    with open(journal_dir / "jobs.jsonl", "a") as handle:
        handle.write("{not json\n")
    journal.record(FAKE, "b", device="sim", project="personal", nshots=2)
    assert [e["pid"] for e in journal.entries()] == ["a", "b"]
    assert journal.find("b")["nshots"] == 2
    assert journal.find("zzz") is None


def test_cli_result_prints_frequencies_as_json(
    fake: responses.RequestsMock, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.setenv("QIBO_CLIENT_URL", FAKE)  # the environment's token is for this server
    monkeypatch.setenv("QIBO_CLIENT_TOKEN", FAKE_TOKEN)
    journal.record(FAKE, "j1", device="sim", project="personal", nshots=10)
    fake.get(f"{FAKE}/api/jobs/j1/", json=job_object("j1", "success", frequencies={"0": 10}))
    assert run_cli("result", "j1") == 0
    assert json.loads(capsys.readouterr().out) == {"0": 10}


def test_cli_result_of_a_failed_job_exits_1(
    fake: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.get(f"{FAKE}/api/jobs/j2/", json=job_object("j2", "error", stderr="bad gate"))
    assert run_cli("result", "j2", "--url", FAKE, "--token", FAKE_TOKEN) == 1
    captured = capsys.readouterr()
    assert "bad gate" in captured.err
    assert FAKE_TOKEN not in captured.err + captured.out


# -- progress ------------------------------------------------------------------------------------


def test_progress_switches(monkeypatch: pytest.MonkeyPatch) -> None:
    assert progress_enabled(False) is False
    assert progress_enabled(True) is True
    monkeypatch.setenv("QIBO_CLIENT_PROGRESS", "0")
    assert progress_enabled(None) is False
    monkeypatch.setenv("QIBO_CLIENT_PROGRESS", "1")
    assert progress_enabled(None) is True
    monkeypatch.delenv("QIBO_CLIENT_PROGRESS")
    assert progress_enabled(None) is False  # pytest's stderr is not a terminal


def test_client_progress_off_by_env(fake: responses.RequestsMock, monkeypatch) -> None:
    monkeypatch.setenv("QIBO_CLIENT_PROGRESS", "off")
    assert Client(FAKE, FAKE_TOKEN).progress is False
    assert Client(FAKE, FAKE_TOKEN, progress=True).progress is True


def test_status_line_only_after_a_second(capsys: pytest.CaptureFixture[str]) -> None:
    job = {"pid": "j1", "status": "queueing", "queue_position": 3, "etd_seconds": 12}
    with WaitStatus(True) as line:
        line.update(job, elapsed=0.4)  # nothing yet: most jobs end before a second
        assert not line.shown
        line.update(job, elapsed=1.5)
        assert line.shown
    with WaitStatus(False) as off:
        off.update(job, elapsed=100.0)
        assert not off.shown


def test_batch_bar_hidden_for_fast_batches_and_shown_for_slow() -> None:
    with BatchProgress(True, 3) as fast:
        for _ in range(3):
            fast.advance(elapsed=0.1)
    assert not fast.shown
    with BatchProgress(True, 3) as slow:
        slow.advance(elapsed=2.0)
    assert slow.shown
    with BatchProgress(False, 3) as off:
        off.advance(elapsed=9.0)
    assert not off.shown


def test_fast_job_draws_nothing_even_with_progress_on(
    fake: responses.RequestsMock, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich would draw here if asked to
    client = Client(FAKE, FAKE_TOKEN, progress=True, retry=default_retry(1, 0))
    fake.post(f"{FAKE}/api/jobs/", json={"pid": "j1", "status": "queueing"})
    fake.get(f"{FAKE}/api/jobs/j1/", json=job_object("j1", "success", frequencies={"1": 3}))
    jobs = [client.submit(QASM, nshots=3)]
    assert client.wait_all(jobs)[0].value == "success"
    assert jobs[0].frequencies() == {"1": 3}
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out == ""


def test_the_qibo_client_command_dispatches_to_the_journal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from qibo_client import cli

    journal.record(FAKE, "pid-in-journal", device="sim", project="personal", nshots=3)
    assert cli.main(["jobs", "--offline"]) == 0
    assert "pid-in-journal" in capsys.readouterr().out


def test_a_live_display_never_changes_what_is_sent(fake: responses.RequestsMock) -> None:
    fake.post(f"{FAKE}/api/jobs/", json={"pid": "j1", "status": "running"})
    fake.get(f"{FAKE}/api/jobs/j1/", json=job_object("j1", "success", frequencies={"1": 3}))
    sent: dict[bool, list[tuple[str, str, str | None]]] = {}
    for progress in (True, False):
        start = len(fake.calls)
        with Client(FAKE, FAKE_TOKEN, progress=progress, check_versions=False) as client:
            client.submit(QASM, nshots=3, wait=10).wait(timeout=30)
        sent[progress] = [
            (c.request.method or "", c.request.url or "", c.request.headers.get("Prefer"))
            for c in fake.calls[start:]
        ]
    assert sent[True] == sent[False]
    assert (
        "POST",
        f"{FAKE}/api/jobs/",
        "wait=10",
    ) in sent[True]  # the whole asked hold, display or not
    assert any("wait=" in url for _, url, _ in sent[True])  # the job wait holds too


def test_progress_is_on_by_default_in_a_notebook(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import types

    class ZMQInteractiveShell:  # the class name Jupyter kernels use
        pass

    fake_ipython = types.ModuleType("IPython")
    fake_ipython.get_ipython = ZMQInteractiveShell  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", fake_ipython)
    assert progress_enabled(None) is True
    monkeypatch.setenv("QIBO_CLIENT_PROGRESS", "0")
    assert progress_enabled(None) is False
