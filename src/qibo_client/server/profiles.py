"""Server profiles: our full protocol (``default``), or TII's service as it is known (``tii``,
``tii-2026``).

Users install qibo-client to run on TII's cluster, which we cannot test against. The ``tii``
profile is our best model of it, taken from the official client 0.2.4's code and its tests' JSON
schemas, so that our client's suite can run against something that speaks only the base protocol:

- the version answer lists no ``extensions`` (what the real service sends);
- circuits only as qibo's ``circuit.raw`` (a JSON object or its text); OpenQASM text is a 400;
- ``Prefer: wait`` and ``?wait=`` are ignored, the batch and template paths do not exist,
  ``Idempotency-Key``, ``seed``, ``name`` and ``tags`` are ignored (two identical POSTs queue
  two jobs);
- a missing or wrong token is a 404 ``{"detail": "User not found, specify the correct token"}``
  (as the official client's tests show), not a 401;
- a job passes through ``pending`` (next in line) and ``postprocessing`` (the first read after
  it ended) on its way to ``success`` or ``error``;
- the job object has the official schema's fields (``projectquota`` with its partition,
  ``transpiled_circuit``, ``qibolab_version``, ``result_path`` as text) and names its queue
  position and wait ``job_queue_position`` and ``seconds_to_job_start``, the other names the
  official client reads; DELETE answers ``{"detail": "Job <pid> deleted"}``.

The ``tii-2026`` profile is the service as TII's current client ``tii-quantum`` 0.1.2 and the
official client's unreleased v0.3.0 branch read it (``PROTOCOL.md``, "The 2026 service"): the
shapes of ``tii`` above, and moreover

- the version answer has only ``server_qibo_version``, ``minimum_qibo_version`` and
  ``minimum_client_version`` (no ``minimum_client_qibo_version``, no ``extensions``);
- the counts come only in the job object (``frequencies``): ``/api/jobs/{pid}/download/`` answers
  404 and ``result_path`` is empty;
- ``GET /api/disk_quota/`` is always one object, never the 0.2 generation's list;
- an ``initial_state`` field is ignored, like every other extension of ours.

Every profile serves ``GET /api/accounts/me/``, and ``default`` and ``tii`` answer the version
check with both generations' keys, so that either generation of client works with them.
Every difference we know of between these models and the real service is listed in
``docs/protocol.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from qibo_client.protocol import (
    EXTENSION_BATCH,
    EXTENSION_IDEMPOTENCY,
    EXTENSION_INITIAL_STATE,
    EXTENSION_QASM,
    EXTENSION_RAW,
    EXTENSION_SEED,
    EXTENSION_TAGS,
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
    #: Takes an ``initial_state`` field (a state vector) with a raw circuit.
    initial_states: bool = True
    #: Keeps a job's ``name`` and ``tags``, shows them and filters ``GET /api/jobs/?tag=``.
    tags: bool = True
    #: The real service's shapes: 404 for a bad token, official job objects and DELETE
    #: answers, ``pending`` and ``postprocessing`` statuses.
    official_shapes: bool = False
    #: Serves ``/api/jobs/{pid}/download/`` (the 0.2 generation); without it, the counts are
    #: only in the job object.
    downloads: bool = True
    #: The version answer carries the 0.2 generation's ``minimum_client_qibo_version``.
    legacy_version_key: bool = True
    #: ``GET /api/disk_quota/`` is always one object; otherwise the list, or the object for a
    #: request that names itself ``tii-quantum`` (its header).
    quota_object: bool = False


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
        EXTENSION_TAGS,
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
    tags=False,
    official_shapes=True,
)
TII_2026 = replace(
    TII,
    name="tii-2026",
    initial_states=False,
    downloads=False,
    legacy_version_key=False,
    quota_object=True,
)
PROFILES = {profile.name: profile for profile in (DEFAULT, TII, TII_2026)}


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


__all__ = [
    "DEFAULT",
    "PROFILES",
    "TII",
    "TII_2026",
    "USER_NOT_FOUND",
    "Profile",
    "profile_named",
]
