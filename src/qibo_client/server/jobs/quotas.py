"""Project quotas: what each user may still spend on a project, enforced at submission.

A quota is a budget per (user, project): **shots** and **jobs** are spent when a job is accepted,
**seconds** (of run time) when it ends, all counted by the store's ledger (:class:`.store.Spent`;
deleting a job gives nothing back). A user's limits on a project are what an operator set
(``qibo-client serve users quota``), else the server's defaults (:class:`QuotaLimits`).

**A submission that would go over is refused whole with 403**, before anything is stored, and
the ``detail`` names the quota, what is left and what was asked: a batch is all or nothing
against its projects' budgets, as it is against everything else. 403 rather than 429: waiting
does not refill a budget (only an operator does), and 429 tells clients to come back later (ours
retries it after ``Retry-After``); 403 says "not allowed, whatever the timing". The per-user
limit of unfinished jobs (``max_queued_per_user``) stays a 429: that one passes by waiting.

Run time is known only once a job ended, so the seconds quota admits a job while any second is
left: the last job may end past the limit, and the next submission is refused.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from qibo_client.server.jobs.store import NewJob, Store

#: What the detail of every quota refusal starts with (clients tell it from a bad token's 403).
QUOTA_EXCEEDED = "quota exceeded"


@dataclass(frozen=True)
class QuotaLimits:
    """The server's default budget per (user, project), for users without a quota of their own,
    and the walltime a job may run."""

    seconds: float = 86_400.0
    shots: int = 1_000_000_000
    walltime_seconds: float = 3_600.0
    jobs: int = 1_000_000


@dataclass(frozen=True)
class Balance:
    """A user's limits on a project and what is left of each (never below zero)."""

    shots_max: int
    shots_left: int
    jobs_max: int
    jobs_left: int
    seconds_max: float
    seconds_left: float


def balance(store: Store, defaults: QuotaLimits, user_id: int, project: str) -> Balance:
    """The user's limits on ``project`` (their own, else ``defaults``) and what is left."""
    own = store.quota_of(user_id, project)
    spent = store.spent(user_id, project)
    shots = defaults.shots if own.shots is None else own.shots
    jobs = defaults.jobs if own.jobs is None else own.jobs
    seconds = defaults.seconds if own.seconds is None else own.seconds
    return Balance(
        shots,
        max(0, shots - spent.shots),
        jobs,
        max(0, jobs - spent.jobs),
        seconds,
        max(0.0, seconds - spent.seconds),
    )


def quota_problem(store: Store, defaults: QuotaLimits, jobs: Sequence[NewJob]) -> str | None:
    """Why accepting ``jobs`` (all of one user) would take a project over a quota, or None.

    The HTTP face turns the reason into the 403
    (:func:`qibo_client.server.api.checks.check_quotas`).
    """
    shots: Counter[str] = Counter()
    count: Counter[str] = Counter()
    for job in jobs:
        shots[job.project] += job.nshots
        count[job.project] += 1
    what = "this job" if len(jobs) == 1 else f"these {len(jobs)} jobs"
    for project in sorted(count):
        left = balance(store, defaults, jobs[0].user_id, project)
        where = f"{QUOTA_EXCEEDED} on project {project!r}"
        if left.seconds_left <= 0:
            return (
                f"{where}: its {left.seconds_max:g} s of run time are spent (0 s left); "
                "ask the server's operator for more"
            )
        if count[project] > left.jobs_left:
            return (
                f"{where}: {what} would take it over its {left.jobs_max} jobs "
                f"({left.jobs_left} left); nothing was queued"
            )
        if shots[project] > left.shots_left:
            return (
                f"{where}: {what} would use {shots[project]} shots, and it has "
                f"{left.shots_left} left of {left.shots_max}; nothing was queued"
            )
    return None


__all__ = ["QUOTA_EXCEEDED", "Balance", "QuotaLimits", "balance", "quota_problem"]
