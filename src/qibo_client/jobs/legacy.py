"""The original API's free functions, re-exported where old scripts import them.

``wait_for_response_to_get_request`` polls any URL with the package's one wait policy
(:mod:`qibo_client.jobs.waiting`) and reads statuses with :class:`~qibo_client.jobs.job.JobStatus`,
so it knows exactly the protocol's statuses and terminal set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from qibo_client.errors import JobTimeoutError, MalformedResponseError, UnknownJobStatusError
from qibo_client.http.api import ServerFeatures
from qibo_client.http.replies import loads
from qibo_client.http.session import ApiSession
from qibo_client.jobs.job import JobStatus
from qibo_client.jobs.waiting import Deadline, Step, wait_until
from qibo_client.settings import token_for

if TYPE_CHECKING:  # pragma: no cover
    import requests

#: The body old servers sent while a job ran.
STILL_RUNNING_TEXT = b"Job still in progress"


class VersionChecked(Protocol):
    """What :func:`check_client_server_qibo_versions` needs of its argument: a ``Client`` (typed
    by what it does, so that this module, which ``qibo_client.qibo_client`` imports, never
    imports it back)."""

    def check_client_server_qibo_versions(self) -> None: ...


def check_client_server_qibo_versions(client: VersionChecked) -> None:
    """Function form of :meth:`Client.check_client_server_qibo_versions`."""
    client.check_client_server_qibo_versions()


def wait_for_response_to_get_request(
    url: str,
    *,
    token: str | None = None,
    timeout: float | None = None,
    session: ApiSession | None = None,
) -> requests.Response:
    """GET ``url`` until the job behind it is finished; return that final response.

    A JSON body with a non-terminal ``status`` (or the old plain-text "Job still in progress")
    means "not yet": polling follows the protocol's schedule (``POLL_START`` growing to
    ``POLL_MAX``; an arbitrary URL is never asked to hold). An unknown status is an error;
    past ``timeout`` :class:`JobTimeoutError`.
    """
    own = session is None
    if session is None:
        session = ApiSession(url, token or token_for(url) or "")
    answer: list[requests.Response] = []

    def step(hold: float) -> Step:
        response = session.call("GET", url)
        answer[:] = [response]
        return Step(done=not _still_running(response))

    def late() -> JobTimeoutError:
        return JobTimeoutError(f"{url} was not finished within {timeout:g} s", timeout=timeout or 0)

    try:
        wait_until(step, Deadline(timeout), ServerFeatures(holds=False, listed=True), late)
    finally:
        if own:
            session.close()
    return answer[0]


def _still_running(response: requests.Response) -> bool:
    if response.content.strip() == STILL_RUNNING_TEXT:
        return True
    try:
        body = loads(response.content)
    except MalformedResponseError:
        return False
    if isinstance(body, dict) and "status" in body:
        try:
            return not JobStatus.parse(body["status"]).is_terminal
        except UnknownJobStatusError:
            raise UnknownJobStatusError(
                f"{response.url} reports unknown job status {body['status']!r}"
            ) from None
    return False


__all__ = ["check_client_server_qibo_versions", "wait_for_response_to_get_request"]
