"""Server profiles: our full protocol (``default``), or TII's service as it is known (``tii``).

Users install qibo-client to run on TII's cluster, which we cannot test against. The ``tii``
profile is our best model of it, taken from the official client 0.2.4's code and its tests' JSON
schemas, so that our client's suite can run against something that speaks only the base protocol:

- the version answer lists no ``extensions`` (what the real service sends);
- circuits only as qibo's ``circuit.raw`` (a JSON object or its text); OpenQASM text is a 400;
- ``Prefer: wait`` and ``?wait=`` are ignored, the batch and template paths do not exist,
  ``Idempotency-Key`` and ``seed`` are ignored (two identical POSTs queue two jobs);
- a missing or wrong token is a 404 ``{"detail": "User not found, specify the correct token"}``
  (as the official client's tests show), not a 401;
- a job passes through ``pending`` (next in line) and ``postprocessing`` (the first read after
  it ended) on its way to ``success`` or ``error``;
- the job object has the official schema's fields (``projectquota`` with its partition,
  ``transpiled_circuit``, ``qibolab_version``, ``result_path`` as text) and names its queue
  position and wait ``job_queue_position`` and ``seconds_to_job_start``, the other names the
  official client reads; DELETE answers ``{"detail": "Job <pid> deleted"}``.

Every difference we know of between this model and the real service is listed in
``docs/protocol.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

from qibo_client.protocol import (
    EXTENSION_BATCH,
    EXTENSION_IDEMPOTENCY,
    EXTENSION_INITIAL_STATE,
    EXTENSION_QASM,
    EXTENSION_RAW,
    EXTENSION_SEED,
    EXTENSION_TEMPLATES,
    EXTENSION_WAIT,
)

#: The detail TII's service answers a wrong token with (HTTP 404).
USER_NOT_FOUND = "User not found, specify the correct token"


@dataclass(frozen=True)
class Profile:
    """What a server of this profile speaks."""

    name: str
    #: Listed in the version answer; None: no ``extensions`` key at all (base protocol).
    extensions: tuple[str, ...] | None
    #: Honours ``Prefer: wait`` and ``?wait=``.
    holds: bool = True
    #: Has ``/api/jobs/batch/``.
    batches: bool = True
    #: Honours ``Idempotency-Key``.
    idempotency: bool = True
    #: Takes OpenQASM text (raw is always taken).
    qasm: bool = True
    #: Honours an explicit ``seed``.
    seeds: bool = True
    #: Keeps circuit templates (``/api/templates/``) and runs jobs that name them.
    templates: bool = True
    #: The real service's shapes: 404 for a bad token, official job objects and DELETE
    #: answers, ``pending`` and ``postprocessing`` statuses.
    official_shapes: bool = False


DEFAULT = Profile(
    "default",
    extensions=(
        EXTENSION_QASM,
        EXTENSION_RAW,
        EXTENSION_WAIT,
        EXTENSION_BATCH,
        EXTENSION_IDEMPOTENCY,
        EXTENSION_SEED,
        EXTENSION_INITIAL_STATE,
        EXTENSION_TEMPLATES,
    ),
)
TII = Profile(
    "tii",
    extensions=None,
    holds=False,
    batches=False,
    idempotency=False,
    qasm=False,
    seeds=False,
    templates=False,
    official_shapes=True,
)
PROFILES = {profile.name: profile for profile in (DEFAULT, TII)}


def profile_named(name: str | Profile) -> Profile:
    """The profile called ``name`` (a Profile passes through); ValueError lists the names."""
    if isinstance(name, Profile):
        return name
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(
            f"unknown server profile {name!r}; choose one of {', '.join(PROFILES)}"
        ) from None


__all__ = ["DEFAULT", "PROFILES", "TII", "USER_NOT_FOUND", "Profile", "profile_named"]
