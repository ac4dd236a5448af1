"""The client's shape: data flows one way, so the lower modules never load ``Client``."""

from __future__ import annotations

import subprocess
import sys

import pytest

LOWER = [
    "qibo_client.http.api",
    "qibo_client.jobs.batch",
    "qibo_client.jobs.job",
    "qibo_client.jobs.waiting",
    "qibo_client.settings",
    "qibo_client.jobs.legacy",
]


@pytest.mark.parametrize("module", LOWER)
def test_lower_modules_do_not_import_the_client(module: str) -> None:
    code = (
        f"import sys, {module}; "
        "sys.exit('qibo_client.qibo_client' in sys.modules or 'qibo_client.server' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr or f"{module} loads the Client or the server"


def test_the_original_names_stay_where_they_were() -> None:
    from qibo_client import config, protocol, qibo_client, tii
    from qibo_client.jobs import job

    assert config.TERMINAL_STATUSES == protocol.TERMINAL_STATUSES
    assert {"Client", "check_response_has_keys", "wait_for_response_to_get_request"} <= set(
        dir(qibo_client)
    )
    assert callable(qibo_client.check_client_server_qibo_versions)
    assert job.JobStatus.SUCCESS.is_terminal
    assert not job.JobStatus.RUNNING.is_terminal
    assert callable(tii.TII)
