"""``qibo-client serve`` as a user runs it: a real process, the token printed once, accounts."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from qibo_client.server import local_cluster

READY = "Uvicorn running on"  # logged once the socket listens


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(
    db: Path, *extra: str, env: dict[str, str] | None = None
) -> Iterator[tuple[str, list[str], subprocess.Popen[str]]]:
    """Run ``qibo-client -v serve`` until it reports startup; yield its URL and stderr so far."""
    port = free_port()
    code = "import sys; from qibo_client.cli import main; sys.exit(main(sys.argv[1:]))"
    argv = ["-v", "serve", "--db", str(db), "--port", str(port), "--workers", "0", *extra]
    process = subprocess.Popen(
        [sys.executable, "-c", code, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert process.stderr is not None
    log: list[str] = []
    try:
        for line in process.stderr:  # blocks on the pipe: no sleeping, no polling
            log.append(line)
            if READY in line:
                break
        assert any(READY in line for line in log), "".join(log)
        yield f"http://127.0.0.1:{port}", log, process
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_serve_prints_the_token_once(tmp_path: Path) -> None:
    db = tmp_path / "serve.sqlite3"
    with serve(db) as (url, log, process):
        assert process.stdout is not None
        printed = [process.stdout.readline() for _ in range(3)]
        token = printed[2].strip()
        assert "shown only this once" in printed[1]
        answer = requests.get(f"{url}/api/jobs/", headers={"x-api-token": token})
        assert answer.status_code == 200
        assert answer.json() == []
        assert all(token not in line for line in log)

    with serve(db) as (url, log, process):
        assert any("not shown again" in line for line in log)
        # A normal start is news, not a warning: its lines are logged at INFO.
        assert any("INFO qibo_client.server: serving on" in line for line in log)
        assert not any(" WARNING " in line for line in log)
        answer = requests.get(f"{url}/api/jobs/", headers={"x-api-token": token})
        assert answer.status_code == 200
    assert process.stdout is not None
    assert process.stdout.read() == ""  # nothing printed the second time


def test_serve_with_an_accounts_file(tmp_path: Path) -> None:
    accounts = tmp_path / "accounts.json"
    token = "ada-token-0123456789abcdef"
    accounts.write_text(json.dumps({"users": [{"email": "ada@example.org", "token": token}]}))
    env = {"QIBO_SERVER_ACCOUNTS": str(accounts)}
    with serve(tmp_path / "accounts.sqlite3", env=env) as (url, _log, process):
        headers = {"x-api-token": token}
        [quota] = requests.get(f"{url}/api/disk_quota/", headers=headers).json()
        assert quota["user"]["email"] == "ada@example.org"
    assert process.stdout is not None
    assert process.stdout.read() == ""


def test_local_cluster_accounts_and_projects() -> None:
    accounts = {
        "users": [{"email": "bob@example.org", "token": "bob-token-0123456789", "projects": ["x"]}]
    }
    with local_cluster(workers=0, accounts=accounts) as cluster:
        headers = {"x-api-token": "bob-token-0123456789"}
        quotas = requests.get(f"{cluster.url}/api/projectquotas/", headers=headers).json()
        assert {q["project"] for q in quotas} == {"personal", "x"}
        assert "bob-token" not in repr(cluster)


def test_server_package_and_cli_import_nothing_heavy() -> None:
    code = (
        "import sys, qibo_client.server, qibo_client.server.cli; "
        "print(sorted(m for m in ('fastapi', 'uvicorn', 'qibo', 'numpy') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "[]"
