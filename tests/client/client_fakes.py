"""Shared values and builders of the client tests."""

from __future__ import annotations

from qibo_client.versions import qibo_version

FAKE = "http://fake.qibo.test"
FAKE_TOKEN = "tok-SECRET-1234567890"
#: A server running the installed qibo (no exact version pinned in tests).
#: It lists no extensions: a client that reads it speaks the base protocol (like TII's service).
VERSIONS = {"server_qibo_version": qibo_version(), "minimum_client_qibo_version": "0.3.0"}
#: The version answer of a server of ours without batches: it lists what it honours.
LISTING = {**VERSIONS, "extensions": ["qasm", "raw", "wait", "idempotency"]}


def job_object(pid: str, status: str, **fields: object) -> dict[str, object]:
    """A job object as the protocol describes it."""
    body: dict[str, object] = {
        "pid": pid,
        "status": status,
        "user": {"email": "a@b.c"},
        "device": "sim",
        "project": "personal",
        "nshots": 10,
        "queue_position": 0,
        "etd_seconds": 0,
        "frequencies": None,
        "stdout": "",
        "stderr": "",
    }
    body.update(fields)
    return body
