"""The typed errors of qibo-client: the one list of them (config and the package re-export it).

Every error the package raises on purpose derives from :class:`QiboClientError`, so a script can
catch "anything qibo-client says went wrong" in one clause and still tell the cases apart; each
also derives from the built-in a caller would expect, so ``except ValueError`` keeps working::

    QiboClientError
    ├── ConfigurationError (ValueError)       no token, no URL, a bad option
    ├── MalformedResponseError                the server broke the protocol
    │   ├── UnknownJobStatusError
    │   └── UnsafeResultError
    ├── JobPostServerError
    ├── TransportError (ConnectionError)      no answer at all
    │   ├── SubmissionUncertainError          a POST that may or may not have landed
    │   └── ServerUnreachableError
    ├── QiboApiError                          the server said no (status and body kept)
    │   ├── AuthenticationError
    │   ├── JobNotFoundError
    │   └── RateLimitError
    ├── JobFailedError
    ├── JobTimeoutError (TimeoutError)
    ├── IncompatibleVersionsError (AssertionError)
    └── UnsupportedCircuitError (ValueError)
    WaitInterrupted (KeyboardInterrupt)       Ctrl-C in a wait, never caught by ``except Exception``

The names ``MalformedResponseError`` and ``JobPostServerError`` come from the original qibo-client
API and keep their ``message`` attribute and default messages. Errors are picklable (they cross
process pools and Jupyter kernels) and never hold a token. Standard library only: the package
imports this module eagerly.
"""

from __future__ import annotations

from typing import Any


class QiboClientError(Exception):
    """Base of every error raised by qibo-client on purpose."""

    default_message = "qibo-client error"

    def __init__(self, message: str | None = None) -> None:
        self.message = message if message is not None else self.default_message
        super().__init__(self.message)

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuild from the keyword state, not from ``args``: subclasses take extra fields.
        return (_rebuild, (type(self), self.__dict__.copy()))

    def __str__(self) -> str:
        return self.message


def _rebuild(cls: type[QiboClientError], state: dict[str, Any]) -> QiboClientError:
    error = cls.__new__(cls)
    Exception.__init__(error, state.get("message"))
    error.__dict__.update(state)
    return error


class ConfigurationError(QiboClientError, ValueError):
    """The client cannot be set up as asked: no token, no URL, a bad option."""

    default_message = "qibo-client is not configured"


class MalformedResponseError(QiboClientError):
    """The server answered, but not with what the protocol promises (missing keys, not JSON)."""

    default_message = "Server response body does not contain all the expected keys"


class JobPostServerError(QiboClientError):
    """The server did not queue the job (it answered without a ``pid``)."""

    default_message = "Server failed to post job to queue"


class TransportError(QiboClientError, ConnectionError):
    """The server could not be reached, even after the configured retries."""

    default_message = "Could not reach the server"


class SubmissionUncertainError(TransportError):
    """A submission failed after it may have reached the server: the job may exist, or not.

    Raised instead of re-sending the POST to a server that does not honour idempotency keys,
    where a second POST could queue (and bill) the job twice.
    """

    default_message = (
        "The submission may or may not have reached the server. Look at your jobs "
        "(client.jobs(), or `qibo-client jobs`) before submitting it again."
    )


class ServerUnreachableError(TransportError):
    """No connection could be made (refused, no such host, connect timed out): nothing was sent.

    The message reads "cannot reach URL: is the server running?". Refused connections are retried
    only briefly (:data:`qibo_client.http.session.CONNECT_RETRIES`), so this arrives in about a
    second, not after a long silent wait.
    """

    default_message = "Cannot reach the server: is it running?"


class QiboApiError(QiboClientError):
    """The server answered with a non-2xx status.

    Carries what a user needs to act on it: ``status``, the server's ``detail``, and the ``method``
    and ``url`` of the request (never its headers, which hold the token).
    """

    default_message = "The server refused the request"

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int = 0,
        detail: str = "",
        method: str = "",
        url: str = "",
    ) -> None:
        self.status = status
        self.detail = detail
        self.method = method
        self.url = url
        if message is None:
            message = f"{method} {url} failed with HTTP {status}: {detail or 'no detail given'}"
        super().__init__(message)


class AuthenticationError(QiboApiError):
    """401: the token is missing, wrong or revoked."""


class JobNotFoundError(QiboApiError):
    """404 on a job: it does not exist, was deleted, or belongs to another user."""


class RateLimitError(QiboApiError):
    """429 that outlived the retries: the server asks to slow down."""


class QuotaExceededError(QiboApiError):
    """403 whose detail says a project quota would be exceeded: nothing was queued, and waiting
    will not help (ask the server's operator for more, or use another project)."""


class JobFailedError(QiboClientError):
    """The job reached the ``error`` state; ``reason`` is the server's ``stderr``."""

    def __init__(self, message: str | None = None, *, pid: str = "", reason: str = "") -> None:
        self.pid = pid
        self.reason = reason
        if message is None:
            message = f"Job {pid} failed on the server: {reason or 'no reason given'}"
        super().__init__(message)


class JobTimeoutError(QiboClientError, TimeoutError):
    """A wait ended before the job did. The job keeps running and stays retrievable by ``pid``."""

    def __init__(self, message: str | None = None, *, pid: str = "", timeout: float = 0.0) -> None:
        self.pid = pid
        self.timeout = timeout
        if message is None:
            message = (
                f"Job {pid} did not finish within {timeout:g} s; it is still on the server. "
                f"Resume with client.get_job({pid!r}).wait() or `qibo-client result {pid}`."
            )
        super().__init__(message)


class WaitInterrupted(KeyboardInterrupt):
    """Ctrl-C during a wait: the job(s) still run on the server; the message says how to go on.

    A ``KeyboardInterrupt`` (not a :class:`QiboClientError`): a script's ``except Exception``
    must not swallow the user's Ctrl-C. Raised ``from None``, so what shows is this message, not
    a traceback through the HTTP stack that happened to be running.
    """

    def __init__(self, pids: list[str] | tuple[str, ...] = (), *, submitting: bool = False) -> None:
        self.pids = [str(pid) for pid in pids]
        self.submitting = submitting
        self.message = _interrupted_message(self.pids, submitting)
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_interrupt, (type(self), self.pids, self.submitting))


def _rebuild_interrupt(
    cls: type[WaitInterrupted], pids: list[str], submitting: bool
) -> WaitInterrupted:
    return cls(pids, submitting=submitting)


def _interrupted_message(pids: list[str], submitting: bool) -> str:
    if submitting:
        return (
            "Interrupted while submitting: the job(s) may or may not be on the server. Look at "
            "client.jobs() (or `qibo-client jobs`) before submitting again."
        )
    if not pids:
        return "Interrupted."
    if len(pids) == 1:
        pid = pids[0]
        return (
            f"Interrupted while waiting for job {pid}; it still runs on the server. Pick it up "
            f"with client.get_job({pid!r}) or `qibo-client result {pid}`, or cancel it with "
            f"client.delete_job({pid!r})."
        )
    shown = ", ".join(pids[:10]) + (f", ... ({len(pids)} in all)" if len(pids) > 10 else "")
    return (
        f"Interrupted while waiting for {len(pids)} jobs: {shown}. They still run on the server "
        "(an interrupted wait cancels nothing). Pick one up with client.get_job(pid) or "
        "`qibo-client result PID`, or cancel it with client.delete_job(pid)."
    )


class UnknownJobStatusError(MalformedResponseError):
    """The server reported a status this client does not know; waiting on it could be forever."""


class IncompatibleVersionsError(QiboClientError, AssertionError):
    """Local and server qibo cannot work together (the original API raised AssertionError)."""

    default_message = "Local qibo version is incompatible with the server's"


class UnsupportedCircuitError(QiboClientError, ValueError):
    """The circuit (or what was asked of its result) cannot travel to the cluster unchanged."""

    default_message = "This circuit cannot be run on the remote cluster"


class UnsafeResultError(MalformedResponseError):
    """A downloaded result archive tried something a result file must not do (path escape, code)."""


__all__ = [
    "AuthenticationError",
    "ConfigurationError",
    "IncompatibleVersionsError",
    "JobFailedError",
    "JobNotFoundError",
    "JobPostServerError",
    "JobTimeoutError",
    "MalformedResponseError",
    "QiboApiError",
    "QiboClientError",
    "QuotaExceededError",
    "RateLimitError",
    "ServerUnreachableError",
    "SubmissionUncertainError",
    "TransportError",
    "UnknownJobStatusError",
    "UnsafeResultError",
    "UnsupportedCircuitError",
    "WaitInterrupted",
]
