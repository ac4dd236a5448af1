"""Timed stages: jobs that live on the server as long as they do on TII's service.

On the reference server a small circuit ends in milliseconds, so a client's wait is never
exercised as it is on TII's service, where even a Bell job is seen ``queueing``, ``pending``,
``running`` and ``postprocessing`` for a while before ``success``. With
``ServerConfig.stage_seconds`` (``local_cluster(stage_seconds=...)``, for benchmarks and tests)
above 0, a job shows each of :data:`STAGES` for at least that long, counted from its creation:
the status shown is the earlier of the job's real progress and the stage its age has reached.
A job that really takes longer shows its real status; it never ends sooner than it really does.

With the default 0 none of this runs (the server checks the setting once per answer).
"""

from __future__ import annotations

from datetime import UTC, datetime

from qibo_client.protocol import Status

#: The stages a job shows in turn before its end, each for ``stage_seconds``.
STAGES: tuple[str, ...] = (
    Status.QUEUEING.value,
    Status.PENDING.value,
    Status.RUNNING.value,
    Status.POSTPROCESSING.value,
)
_RANK = {stage: index for index, stage in enumerate(STAGES)}
#: Added to a held wait for the stages to pass: the answer it brings must show the end, and
#: ``created_at`` (wall clock, milliseconds) and the event loop's clock are not the same clock.
SETTLE_SECONDS = 0.002


def age(created_at: str) -> float:
    """Seconds since a job's creation (its ``created_at``, ISO 8601 with a time zone)."""
    return (datetime.now(UTC) - datetime.fromisoformat(created_at)).total_seconds()


def staged(status: str, created_at: str, stage_seconds: float) -> str:
    """``status``, held back to the stage that a job created at ``created_at`` has reached."""
    reached = int(age(created_at) // stage_seconds)
    if reached >= len(STAGES):
        return status
    return STAGES[min(reached, _RANK.get(status, len(STAGES)))]


def time_left(created_at: str, stage_seconds: float) -> float:
    """Seconds until a job created at ``created_at`` has passed all its stages (0: it has)."""
    return max(0.0, len(STAGES) * stage_seconds - age(created_at))


__all__ = ["SETTLE_SECONDS", "STAGES", "age", "staged", "time_left"]
