"""Many jobs at once: submission in batches and one wait for all, with one progress bar.

On a server with the batch extension (``POST``/``GET /api/jobs/batch/``) a whole batch, results
included, can be one round trip, which is what a variational loop pays per step. A server without
it (an older one of ours, TII's service) answers 404 or 405 the first time; that is learnt in
:class:`~qibo_client.http.api.ServerFeatures`, and the caller sends one request per job instead. The
model is Braket's ``aws_quantum_task_batch.py``: the batch owns its jobs' submission and wait,
each job stays a plain :class:`~qibo_client.jobs.job.Job`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from qibo_client.errors import (
    JobTimeoutError,
    MalformedResponseError,
    QiboApiError,
    WaitInterrupted,
)
from qibo_client.http.api import ServerApi
from qibo_client.jobs.job import Job, JobStatus
from qibo_client.jobs.progress import BatchProgress
from qibo_client.jobs.waiting import Deadline, Step, now, wait_until
from qibo_client.protocol import EXTENSION_SEED, EXTENSION_TAGS, MAX_BATCH_GET, MAX_BATCH_JOBS
from qibo_client.settings import JobOptions

logger = logging.getLogger("qibo_client.jobs.batch")

#: What a server without the batch extension answers on its path.
NO_BATCH_STATUSES = frozenset({404, 405})


def _plain_send(request: Callable[[], Any], bodies: Sequence[dict[str, Any]]) -> Any:
    return request()


def _share_parameters(bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Template jobs with the same values as an earlier one say ``"parameters_of": k`` instead:
    the measurement groups of one evaluation carry their values once (docs/protocol.md)."""
    first: dict[str, int] = {}
    for index, body in enumerate(bodies):
        values = body.get("parameters")
        if "template" in body and isinstance(values, str):
            if values in first:
                bodies[index] = {k: v for k, v in body.items() if k != "parameters"}
                bodies[index]["parameters_of"] = first[values]
            else:
                first[values] = index
    return bodies


def submit_batches(
    api: ServerApi,
    circuits: Sequence[dict[str, Any]],
    nbits: Sequence[int | None],
    options: JobOptions,
    *,
    hold: float = 0.0,
    progress: bool = False,
    record: Callable[[str], None] = lambda pid: None,
    send: Callable[[Callable[[], Any], Sequence[dict[str, Any]]], Any] = _plain_send,
) -> list[Job]:
    """Queue ``circuits`` (each job's circuit fields) by batch POSTs of up to 1000 jobs.

    Returns their Jobs, in order. Fewer Jobs than circuits come back only when the server lacks
    the extension (then the rest is the caller's to send one by one). Only the last POST is held
    by ``hold``: the queue runs in order, so the earlier ones are done by then or nearly.
    ``record(pid)`` is called per job; ``send(request, bodies)`` sends each POST (the encoder's,
    which sends forgotten templates again).
    """
    jobs: list[Job] = []
    features = api.features
    common = options.fields(
        labels=features.honours(EXTENSION_TAGS), seed=features.honours(EXTENSION_SEED)
    )
    while len(jobs) < len(circuits) and api.features.batches is not False:
        end = min(len(circuits), len(jobs) + MAX_BATCH_JOBS)
        bodies = _share_parameters([{**fields, **common} for fields in circuits[len(jobs) : end]])
        held = hold if end == len(circuits) else 0.0
        try:
            body = send(lambda: api.submit_batch(bodies, hold=held), bodies)  # noqa: B023
        except KeyboardInterrupt:
            raise WaitInterrupted([job.pid for job in jobs], submitting=True) from None
        except QiboApiError as error:
            if error.status not in NO_BATCH_STATUSES or api.features.batches:
                raise
            logger.debug("Server at %s has no batch endpoint; one POST per job", api.url)
            api.features.learn_batches(False)
            break
        api.features.learn_batches(True)
        jobs += _jobs_of(api, body, nbits[len(jobs) : end], options.nshots, progress, record)
    return jobs


def _jobs_of(
    api: ServerApi,
    body: Any,
    nbits: Sequence[int | None],
    nshots: int | None,
    progress: bool,
    record: Callable[[str], None],
) -> list[Job]:
    """The Jobs of one batch answer: pids, and job objects or statuses when the server held it."""
    pids = body.get("pids") if isinstance(body, dict) else None
    if not isinstance(pids, list) or len(pids) != len(nbits) or not all(pids):
        raise MalformedResponseError(
            f"The server answered a batch of {len(nbits)} jobs without as many pids"
        )
    objects = _per_job(body, "jobs", len(pids))
    statuses = _per_job(body, "statuses", len(pids))
    jobs = []
    submitted_at = now()
    for index, (pid, bits) in enumerate(zip(pids, nbits, strict=True)):
        pid = str(pid)
        record(pid)
        data = None
        if objects is not None:
            data = objects[index]
            if not isinstance(data, dict) or str(data.get("pid")) != pid:
                raise MalformedResponseError(f"The batch answer's jobs[{index}] is not {pid}")
        elif statuses is not None:
            data = {"pid": pid, "status": statuses[index]}
        jobs.append(
            Job(
                api,
                pid,
                data,
                nbits=bits,
                nshots=nshots,
                progress=progress,
                submitted_at=submitted_at,
            )
        )
    logger.debug("Submitted %d jobs to %s in one batch", len(jobs), api.url)
    return jobs


def wait_all(
    api: ServerApi, jobs: Sequence[Job], timeout: float | None = None, *, progress: bool = False
) -> list[JobStatus]:
    """Wait for every job, with one progress bar; raises JobTimeoutError past ``timeout``.

    On a server with the batch extension, one ``GET /api/jobs/batch/`` per 150 unfinished jobs
    and per server-side hold; otherwise one wait per job. One deadline covers it all.

    Ctrl-C raises :class:`WaitInterrupted` naming every unfinished job, and cancels none of them.
    Ctrl-C stops the wait, not the work: the jobs may be nearly done and their results are paid
    for; cancelling them costs one request each, which a second Ctrl-C would cut half-way,
    leaving some cancelled and some not; and it is what a single job's wait does. The message
    says how to cancel them (``client.delete_job(pid)``) for whoever wants that.
    """
    try:
        return _wait_all(api, jobs, timeout, progress)
    except KeyboardInterrupt:
        raise WaitInterrupted([job.pid for job in jobs if not job.is_final]) from None


def _wait_all(
    api: ServerApi, jobs: Sequence[Job], timeout: float | None, progress: bool
) -> list[JobStatus]:
    deadline = Deadline(timeout)
    with BatchProgress(progress, len(jobs)) as bar:
        pending = []
        for job in jobs:
            if job.is_final:
                bar.advance()
            else:
                pending.append(job)
        if pending and api.features.batches is not False:
            pending = _wait_batched(api, pending, deadline, bar)
        for job in pending:
            job.wait(deadline.remaining() if timeout is not None else None, observer=bar)
            bar.advance()
    return [job.status() for job in jobs]  # all final: no request


def _wait_batched(
    api: ServerApi, pending: list[Job], deadline: Deadline, bar: BatchProgress
) -> list[Job]:
    """Batch GETs until every job is final -> []; the jobs left if the server lacks them."""
    left = list(pending)
    unsupported = False

    def step(hold: float) -> Step:
        nonlocal left, unsupported
        news = False
        for first in range(0, len(left), MAX_BATCH_GET):
            chunk = left[first : first + MAX_BATCH_GET]
            try:
                answer = _get_batch(api, chunk, hold)
            except QiboApiError as error:
                unnamed = not any(job.pid in (error.detail or "") for job in chunk)
                if error.status in NO_BATCH_STATUSES and unnamed and not api.features.batches:
                    logger.debug("Server at %s has no batch GET; one wait per job", api.url)
                    api.features.learn_batches(False)
                    unsupported = True
                    return Step(done=True)
                raise
            api.features.learn_batches(True)
            for job, data in zip(chunk, answer, strict=True):
                before = job.data.get("status")
                if job.receive(data).is_terminal:
                    bar.advance()
                else:
                    bar.update(job.data, deadline.elapsed())
                news = news or (before is not None and job.data.get("status") != before)
            hold = 0.0  # later chunks: the first one's hold has passed already
        left = [job for job in left if not job.is_final]
        return Step(done=not left, news=news)

    def late() -> JobTimeoutError:
        return _batch_timeout(left, float(deadline.timeout or 0.0))

    births = [job.submitted_at for job in pending if job.submitted_at is not None]
    since = min(births) if len(births) == len(pending) else None  # the oldest, if all known
    wait_until(step, deadline, api.features, late, since=since)
    return [job for job in left if not job.is_final] if unsupported else []


def _get_batch(api: ServerApi, jobs: list[Job], hold: float) -> list[dict[str, Any]]:
    body = api.get_batch([job.pid for job in jobs], hold=hold)
    objects = _per_job(body, "jobs", len(jobs))
    if objects is None:
        raise MalformedResponseError(f"The batch answer has no 'jobs' for {len(jobs)} pids")
    for job, data in zip(jobs, objects, strict=True):
        if not isinstance(data, dict) or str(data.get("pid")) != job.pid:
            raise MalformedResponseError("The batch answer does not follow the asked pids")
    return objects


def _per_job(body: Any, name: str, count: int) -> list[Any] | None:
    """``body[name]`` if it is a list of ``count`` items; None if absent; else malformed."""
    value = body.get(name) if isinstance(body, dict) else None
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != count:
        raise MalformedResponseError(f"The batch answer's {name!r} is not a list of {count}")
    return value


def _batch_timeout(jobs: list[Job], timeout: float) -> JobTimeoutError:
    shown = ", ".join(job.pid for job in jobs[:10]) + (", ..." if len(jobs) > 10 else "")
    return JobTimeoutError(
        f"{len(jobs)} job(s) did not finish within {timeout:g} s: {shown}. They are still on "
        "the server: resume with client.wait_all(jobs) or client.get_job(pid).wait().",
        pid=jobs[0].pid if jobs else "",
        timeout=timeout,
    )


__all__ = ["NO_BATCH_STATUSES", "submit_batches", "wait_all"]
