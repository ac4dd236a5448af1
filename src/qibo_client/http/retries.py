"""The retry policy, stated once: one row per kind of request the client sends.

Whether a request may be sent again depends on one fact: would a second copy change anything if the
first one reached the server? Nothing else (the HTTP method, the caller's habits) decides it. Each
row of :data:`KINDS` says it for one kind of request, and under which server extension it becomes
true; :class:`~qibo_client.http.api.ServerApi` names the kind of each request it sends, and the
transport (:mod:`qibo_client.http.session`, :class:`qibo_client.http.deadline.BoundedRetry`) applies
the rules below to it. Adding a kind of request is adding a row.

What the transport does with a row, within the call's deadline (the client's ``timeout``):

- always, for every kind: a connection that was refused or never made is retried (nothing was
  sent). On a server that this session has already reached, refused connections are a restart, and
  they are retried until the deadline, not only :data:`~qibo_client.http.session.CONNECT_RETRIES`
  times; a 429 is retried (the server refused it unprocessed), after its ``Retry-After``;
- resendable (``idempotent``, or ``extension`` listed by the server): also a connection dropped
  after the request was sent, an answer cut off mid-body, and 502/503/504, after their
  ``Retry-After`` (0 means at once) when it fits in the time left;
- not resendable (a ``POST`` to a server that does not list ``idempotency``, such as TII's
  service): nothing else. A ``POST`` that may have reached the server is never sent twice: it ends
  with :class:`~qibo_client.config.SubmissionUncertainError` (dropped) or a ``QiboApiError``
  that says the job may have been queued (5xx).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from qibo_client.protocol import EXTENSION_IDEMPOTENCY, EXTENSION_TEMPLATES


@dataclass(frozen=True)
class RequestKind:
    """One kind of request and whether it may be sent again once it may have reached the server."""

    name: str
    method: str
    #: The path, as the protocol writes it (documentation; the methods build the real one).
    path: str
    #: Safe to send again on any server: a second copy changes nothing.
    idempotent: bool
    #: The extension under which it becomes safe to send again (None: no extension changes it),
    #: or the extension without which the request is never sent (``idempotent`` rows).
    extension: str | None
    #: Why, in a few words (the table in docs/guarantees.md says the same).
    why: str

    def resendable(self, listed: Callable[[str], bool]) -> bool:
        """May it be sent again after it may have reached a server for which ``listed(name)``
        says whether an extension is honoured?"""
        return self.idempotent or (self.extension is not None and listed(self.extension))


def _read(name: str, path: str, why: str = "a read changes nothing") -> RequestKind:
    return RequestKind(name, "GET", path, True, None, why)


VERSION = _read("version", "/api/qibo_version/")
JOB = _read("job", "/api/jobs/{pid}/", "a read; a held read (?wait=S) too")
DOWNLOAD = _read("download", "/api/jobs/{pid}/download/")
JOBS = _read("jobs", "/api/jobs/")
BATCH_GET = _read("batch-get", "/api/jobs/batch/?pids=...")
TEMPLATES = _read("templates", "/api/templates/")
ACCOUNTS_ME = _read("accounts-me", "/api/accounts/me/")
DISK_QUOTA = _read("disk-quota", "/api/disk_quota/")
PROJECT_QUOTAS = _read("project-quotas", "/api/projectquotas/")
DELETE = RequestKind(
    "delete",
    "DELETE",
    "/api/jobs/{pid}/",
    True,
    None,
    "the job ends deleted either way; a copy after the first took effect answers 404 "
    "(JobNotFoundError)",
)
BULK_DELETE = RequestKind(
    "bulk-delete",
    "DELETE",
    "/api/jobs/bulk_delete/",
    True,
    None,
    "no job left either way; a copy lists only what the first left",
)
SUBMIT = RequestKind(
    "submit",
    "POST",
    "/api/jobs/",
    False,
    EXTENSION_IDEMPOTENCY,
    "a second copy queues a second job, unless the server honours its Idempotency-Key",
)
SUBMIT_BATCH = RequestKind(
    "submit-batch",
    "POST",
    "/api/jobs/batch/",
    False,
    EXTENSION_IDEMPOTENCY,
    "as a submission: its key names every job of the batch",
)
TEMPLATE_PUT = RequestKind(
    "template-put",
    "PUT",
    "/api/templates/{id}/",
    True,
    EXTENSION_TEMPLATES,
    "content-addressed: the id is the SHA-256 of the body, a copy stores the same structure",
)

#: Every kind, in the order of the table in docs/guarantees.md.
KINDS: tuple[RequestKind, ...] = (
    VERSION,
    JOB,
    DOWNLOAD,
    JOBS,
    BATCH_GET,
    TEMPLATES,
    ACCOUNTS_ME,
    DISK_QUOTA,
    PROJECT_QUOTAS,
    DELETE,
    BULK_DELETE,
    SUBMIT,
    SUBMIT_BATCH,
    TEMPLATE_PUT,
)

#: Methods whose request is a resendable kind when a call names none (a user's own request).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


def table() -> str:
    """The policy as a Markdown table (docs/guarantees.md holds a copy; a test compares them)."""
    rows = [
        "| request | method and path | sent again after it may have arrived | why |",
        "|---|---|---|---|",
    ]
    for kind in KINDS:
        when = "always" if kind.idempotent else f"only where the server lists `{kind.extension}`"
        rows.append(f"| {kind.name} | `{kind.method} {kind.path}` | {when} | {kind.why} |")
    return "\n".join(rows)


__all__ = ["IDEMPOTENT_METHODS", "KINDS", "RequestKind", "table"]
