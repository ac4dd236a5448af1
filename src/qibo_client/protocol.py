"""Facts of the wire protocol, written once for both the client and the reference server.

Every number or name a client and a server must agree on lives here: job statuses and which of them
are final, API paths, header names, limits and defaults. Both sides import this module, so the two
cannot drift apart (a server that holds requests 30 s and a client that expects 10 would waste the
difference on every wait). It imports nothing but the standard library: the server's hot path and
``import qibo_client`` both load it.

The protocol itself is described for people in ``docs/protocol.md``.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import sys
from array import array
from collections.abc import Sequence
from typing import Any, Final
from urllib.parse import quote

from qibo_client.errors import UnknownJobStatusError

# -- job statuses ------------------------------------------------------------------------------


class Status(str, enum.Enum):  # noqa: UP042 - StrEnum would change str(status), public since 0.1
    """A job's status as the protocol spells it (compared case-insensitively by clients)."""

    QUEUEING = "queueing"
    PENDING = "pending"
    RUNNING = "running"
    POSTPROCESSING = "postprocessing"
    SUCCESS = "success"
    ERROR = "error"

    @property
    def is_terminal(self) -> bool:
        """True for ``success`` and ``error`` (:data:`TERMINAL_STATUSES`): the job cannot change."""
        return self.value in TERMINAL_STATUSES

    @classmethod
    def parse(cls, value: Any) -> Status:
        """Read a status case-insensitively; an unknown one is an error, never "keep waiting"."""
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            raise UnknownJobStatusError(
                f"The server reported job status {value!r}, which this client does not know "
                f"(known: {', '.join(s.value for s in cls)}). Upgrade qibo-client, or look at "
                "the job with client.get_job(pid)."
            ) from None


#: The only final statuses: a job in any other status may still change.
TERMINAL_STATUSES: Final = frozenset({Status.SUCCESS.value, Status.ERROR.value})


def sql_terminal_list() -> str:
    """``('error', 'success')``: the terminal set as an SQL literal list, for the server's store."""
    return "(" + ", ".join(f"'{status}'" for status in sorted(TERMINAL_STATUSES)) + ")"


#: Where a job object may carry its queue position (ours, then the name the official client also
#: reads), and its time estimate (ours: until the end; the other: until the start).
QUEUE_POSITION_KEYS: Final = ("queue_position", "job_queue_position")
ESTIMATE_KEYS: Final = ("etd_seconds", "seconds_to_job_start")


def first_of(job: object, keys: tuple[str, ...]) -> object:
    """The first of ``keys`` a job object has a non-null value for, or None."""
    if not isinstance(job, dict):
        return None
    return next((job[key] for key in keys if job.get(key) is not None), None)


# -- paths -------------------------------------------------------------------------------------

VERSION_PATH: Final = "/api/qibo_version/"
#: What very old servers answered there instead: only their qibo, which had to match exactly.
OLD_QIBO_VERSION_KEY: Final = "qibo_version"
JOBS_PATH: Final = "/api/jobs/"
BULK_DELETE_PATH: Final = "/api/jobs/bulk_delete/"
DISK_QUOTA_PATH: Final = "/api/disk_quota/"
PROJECT_QUOTAS_PATH: Final = "/api/projectquotas/"
#: The 2026 service: who the token belongs to, ``{"email"}``.
ACCOUNTS_ME_PATH: Final = "/api/accounts/me/"
#: The batch extension (our servers only).
BATCH_PATH: Final = "/api/jobs/batch/"
#: The templates extension (our servers only): ``PUT`` one at ``template_path(id)``, list them here.
TEMPLATES_PATH: Final = "/api/templates/"


def job_path(pid: str, suffix: str = "") -> str:
    """``/api/jobs/{pid}/{suffix}``; the pid is quoted, so a typed pid cannot reach other paths."""
    return f"{JOBS_PATH}{quote(str(pid), safe='')}/{suffix}"


def template_path(template_id: str) -> str:
    """``/api/templates/{id}/``; the id is quoted like a pid."""
    return f"{TEMPLATES_PATH}{quote(str(template_id), safe='')}/"


# -- templates (an extension) ----------------------------------------------------------------

#: How a job naming a template the server does not have (never sent, or evicted) is refused:
#: HTTP 409 whose ``detail`` starts with this code; the client sends the structure again, once.
UNKNOWN_TEMPLATE: Final = "unknown_template"
#: The ``format`` of a template structure this protocol describes.
TEMPLATE_FORMAT: Final = "qibo-client-template/1"


def template_id_of(structure: bytes) -> str:
    """A template's id: the lower-case hex SHA-256 of its structure's bytes (64 digits)."""
    return hashlib.sha256(structure).hexdigest()


def pack_parameters(values: Sequence[float]) -> str:
    """A template job's values as the protocol's compact form: base64 of little-endian float64.

    Exact (no decimal round trip), 10.7 characters a value instead of JSON's 18-20, and encoded
    in microseconds (``json.dumps`` of 282 floats takes 0.1-0.3 ms).
    """
    packed = array("d", values)
    if sys.byteorder != "little":  # pragma: no cover - big-endian machines
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode("ascii")


def unpack_parameters(text: str) -> list[float]:
    """The values of :func:`pack_parameters`; ValueError if ``text`` is not such a string."""
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:
        raise ValueError("'parameters' as text must be base64 of float64 values") from None
    if len(raw) % 8:
        raise ValueError("'parameters' as text must be base64 of whole float64 values")
    values = array("d")
    values.frombytes(raw)
    if sys.byteorder != "little":  # pragma: no cover - big-endian machines
        values.byteswap()
    return values.tolist()


#: Most parameters one template may have, and most templates a server keeps per user (LRU).
MAX_TEMPLATE_PARAMETERS: Final = 100_000
DEFAULT_TEMPLATES_PER_USER: Final = 64

# -- headers -----------------------------------------------------------------------------------

TOKEN_HEADER: Final = "x-api-token"  # noqa: S105 - a header's name, not a token
CLIENT_VERSION_HEADER: Final = "x-qibo-client-version"
#: What TII's own client ``tii-quantum`` sends instead (its version); a server answers it in the
#: 2026 shapes (``GET /api/disk_quota/`` as one object).
TII_QUANTUM_VERSION_HEADER: Final = "x-tii-quantum-version"
IDEMPOTENCY_HEADER: Final = "Idempotency-Key"
PREFER_HEADER: Final = "Prefer"

# -- limits ------------------------------------------------------------------------------------

#: Longest a server holds a request for ``Prefer: wait=S`` or ``?wait=S``, in seconds.
MAX_WAIT_SECONDS: Final = 30.0
#: The poll schedule for a server that does not hold requests (TII's service): a first look at
#: once, then pauses of ``POLL_START`` seconds growing ``POLL_GROWTH`` times each up to
#: ``POLL_MAX``. Polls fall at 0, 0.05, 0.12, 0.22, 0.36, 0.55, 0.82, 1.19 s, ...: a job that ends
#: 0.2 s after submission is seen at 0.22 s, and any job living past the sixth poll is seen within
#: 1.5x its life (the requests' own time aside). A wait begun right after its job's submission
#: counts from the submission and skips the look at 0 (a fresh job is almost never done): its
#: first poll is ``POLL_START`` after it. A job of 5 minutes costs ``POLL_REQUESTS_5_MIN`` polls
#: (one fewer when just submitted) against the official client's 151 at its fixed
#: ``OFFICIAL_POLL_SECONDS``: a cap above that pace is what keeps long jobs as polite.
#: ``tests/client/test_client_waiting.py`` checks all three figures.
POLL_START: Final = 0.05
POLL_GROWTH: Final = 1.4
POLL_MAX: Final = 3.0
#: The official clients' fixed pause between polls (qibo-client 0.2.4 and tii-quantum 0.1.2).
OFFICIAL_POLL_SECONDS: Final = 2.0
#: Polls (the first look included) of a job that lasts 300 s under the schedule above.
POLL_REQUESTS_5_MIN: Final = 111
#: Most jobs one batch POST may carry (and one batch GET may ask about, on the server's side).
MAX_BATCH_JOBS: Final = 1000
#: Most pids a client puts in one batch GET: 36-character pids keep the URL under 8 kB.
MAX_BATCH_GET: Final = 150
#: Longest ``Idempotency-Key`` a server accepts.
MAX_IDEMPOTENCY_KEY: Final = 200
#: Lowest qibo a client may run: ``MeasurementOutcomes(nqubits=)`` exists from 0.3.2 on.
MIN_CLIENT_QIBO: Final = "0.3.2"

# -- the version answer (two generations) -----------------------------------------------------

#: ``GET /api/qibo_version/``: the qibo the server runs (both generations).
SERVER_QIBO_KEY: Final = "server_qibo_version"
#: The lowest local qibo a client may run: the 0.2 generation's name ...
MIN_CLIENT_QIBO_KEY: Final = "minimum_client_qibo_version"
#: ... and the 2026 generation's name for the same thing.
MIN_QIBO_KEY: Final = "minimum_qibo_version"
#: The 2026 generation: the lowest *client* version the service takes, in the service's own
#: numbering (``tii-quantum`` compares its own version, qibo-client's v0.3.0 branch its own).
MIN_CLIENT_VERSION_KEY: Final = "minimum_client_version"
#: What our servers answer for :data:`MIN_CLIENT_VERSION_KEY`: ``0.0.0``, which admits every
#: known client. The one number is compared with two unrelated numberings (``tii-quantum`` 0.1.2
#: with its own version, qibo-client's v0.3.0 branch with qibo-client's, ours with ours), so any
#: floor above zero would mean different things to each; the qibo floor
#: (:data:`MIN_CLIENT_QIBO`) is what actually guards a result's rebuilding.
MIN_CLIENT_VERSION: Final = "0.0.0"

# -- what a server supports beyond the base protocol ------------------------------------------

#: The key of ``GET /api/qibo_version/``'s answer that lists a server's extensions. A server that
#: sends no such list (TII's service, older servers of ours) speaks the base protocol only: qibo's
#: ``circuit.raw``, no holds, no batches, no idempotency keys.
EXTENSIONS_KEY: Final = "extensions"
#: Circuits may be posted as OpenQASM 2.0 text.
EXTENSION_QASM: Final = "qasm"
#: Circuits may be posted as qibo's ``circuit.raw`` (what every server takes; listed for clarity).
EXTENSION_RAW: Final = "raw"
#: ``?wait=S`` and ``Prefer: wait=S`` hold an answer until the job ends.
EXTENSION_WAIT: Final = "wait"
#: ``POST``/``GET /api/jobs/batch/``.
EXTENSION_BATCH: Final = "batch"
#: ``Idempotency-Key`` on a POST: a re-sent submission never queues a second job.
EXTENSION_IDEMPOTENCY: Final = "idempotency"
#: An integer ``seed`` per job (0 to :data:`MAX_SEED`) is honoured. A server that does not list
#: it may ignore the field: never send it there.
EXTENSION_SEED: Final = "seed"
#: The largest job ``seed``: seeds are 32-bit unsigned integers (what numpy and qibo take).
MAX_SEED: Final = 2**32 - 1
#: ``PUT /api/templates/{id}/`` and jobs that name a template with their parameter values.
EXTENSION_TEMPLATES: Final = "templates"
#: An ``initial_state`` field (a state vector, with a raw circuit) starts a job from that state on
#: a simulator device. A server that does not list it may ignore the field: never send it there.
EXTENSION_INITIAL_STATE: Final = "initial_state"
#: A job may carry a ``name`` and ``tags``; job objects and ``GET /api/jobs/`` show them, and
#: ``GET /api/jobs/?tag=T`` lists only the jobs tagged T. Sent only to a server that lists it.
EXTENSION_TAGS: Final = "tags"

# -- job names and tags (the ``tags`` extension) -----------------------------------------------

#: The longest job name, in characters.
MAX_JOB_NAME_CHARS: Final = 128
#: The most tags one job carries, and the longest tag.
MAX_TAGS: Final = 16
MAX_TAG_CHARS: Final = 64
#: ``GET /api/jobs/?tag=T``.
TAG_QUERY: Final = "tag"
#: What a name or tag is made of: any characters but control characters (a listing stays a
#: listing), as a regular expression both sides use.
LABEL_PATTERN: Final = r"^[^\x00-\x1f\x7f]+$"


def check_labels(
    name: str | None, tags: Sequence[str] | None
) -> tuple[str | None, tuple[str, ...]]:
    """A job's name and tags if within the bounds above (tags deduplicated, in order); else a
    ValueError that says which bound."""
    import re

    label = re.compile(LABEL_PATTERN)
    if name is not None and not (
        isinstance(name, str) and len(name) <= MAX_JOB_NAME_CHARS and label.match(name)
    ):
        raise ValueError(
            f"a job name is 1 to {MAX_JOB_NAME_CHARS} characters without control characters, "
            f"not {name!r:.80}"
        )
    if tags is None:
        return name, ()
    if isinstance(tags, str):
        raise ValueError(f"tags are a list of strings, not the string {tags!r:.80}")
    unique = tuple(dict.fromkeys(tags))
    if len(unique) > MAX_TAGS:
        raise ValueError(f"a job carries at most {MAX_TAGS} tags, not {len(unique)}")
    for tag in unique:
        if not (isinstance(tag, str) and len(tag) <= MAX_TAG_CHARS and label.match(tag)):
            raise ValueError(
                f"a tag is 1 to {MAX_TAG_CHARS} characters without control characters, "
                f"not {tag!r:.80}"
            )
    return name, unique


#: A raw circuit object with ``"collapse_outcomes": true`` gets, beside ``frequencies``, the
#: job object's ``collapse_outcomes``: ``{bitstring: count}`` whose bits are every collapsing
#: (mid-circuit) measurement's, in circuit order and each one's qubits in increasing order,
#: then the final measurements' bits; absent or null where the device could not return them.
EXTENSION_COLLAPSE_OUTCOMES: Final = "collapse_outcomes"
#: The key of that request (in the raw circuit object) and of the answer (in the job object).
COLLAPSE_OUTCOMES_KEY: Final = "collapse_outcomes"

# -- circuits ----------------------------------------------------------------------------------

#: The qibo gate classes that OpenQASM 2.0 carries both ways (qibo's ``to_qasm`` writes them and
#: the servers' QASM readers take them). A circuit with any other gate travels as qibo's raw JSON.
QASM_GATE_CLASSES: Final = frozenset(
    {
        *("H", "X", "Y", "Z", "S", "SDG", "T", "TDG", "SX", "SXDG", "I"),
        *("CNOT", "CZ", "CY", "CH", "SWAP", "CSX", "CSXDG", "FSWAP", "TOFFOLI", "CCZ"),
        *("RX", "RY", "RZ", "U1", "U2", "U3", "GPI", "GPI2", "PRX"),
        *("CRX", "CRY", "CRZ", "CU1", "CU3", "RXX", "RYY", "RZZ"),
    }
)

# -- defaults ----------------------------------------------------------------------------------

DEFAULT_DEVICE: Final = "sim"
DEFAULT_PROJECT: Final = "personal"

__all__ = [
    "ACCOUNTS_ME_PATH",
    "BATCH_PATH",
    "BULK_DELETE_PATH",
    "CLIENT_VERSION_HEADER",
    "COLLAPSE_OUTCOMES_KEY",
    "DEFAULT_DEVICE",
    "DEFAULT_PROJECT",
    "DEFAULT_TEMPLATES_PER_USER",
    "DISK_QUOTA_PATH",
    "ESTIMATE_KEYS",
    "EXTENSIONS_KEY",
    "EXTENSION_BATCH",
    "EXTENSION_COLLAPSE_OUTCOMES",
    "EXTENSION_IDEMPOTENCY",
    "EXTENSION_INITIAL_STATE",
    "EXTENSION_QASM",
    "EXTENSION_RAW",
    "EXTENSION_SEED",
    "EXTENSION_TAGS",
    "EXTENSION_TEMPLATES",
    "EXTENSION_WAIT",
    "IDEMPOTENCY_HEADER",
    "JOBS_PATH",
    "LABEL_PATTERN",
    "MAX_BATCH_GET",
    "MAX_BATCH_JOBS",
    "MAX_IDEMPOTENCY_KEY",
    "MAX_JOB_NAME_CHARS",
    "MAX_SEED",
    "MAX_TAGS",
    "MAX_TAG_CHARS",
    "MAX_TEMPLATE_PARAMETERS",
    "MAX_WAIT_SECONDS",
    "MIN_CLIENT_QIBO",
    "MIN_CLIENT_QIBO_KEY",
    "MIN_CLIENT_VERSION",
    "MIN_CLIENT_VERSION_KEY",
    "MIN_QIBO_KEY",
    "OFFICIAL_POLL_SECONDS",
    "OLD_QIBO_VERSION_KEY",
    "POLL_GROWTH",
    "POLL_MAX",
    "POLL_REQUESTS_5_MIN",
    "POLL_START",
    "PREFER_HEADER",
    "PROJECT_QUOTAS_PATH",
    "QASM_GATE_CLASSES",
    "QUEUE_POSITION_KEYS",
    "SERVER_QIBO_KEY",
    "TAG_QUERY",
    "TEMPLATES_PATH",
    "TEMPLATE_FORMAT",
    "TERMINAL_STATUSES",
    "TII_QUANTUM_VERSION_HEADER",
    "TOKEN_HEADER",
    "UNKNOWN_TEMPLATE",
    "VERSION_PATH",
    "Status",
    "check_labels",
    "first_of",
    "job_path",
    "pack_parameters",
    "sql_terminal_list",
    "template_id_of",
    "template_path",
    "unpack_parameters",
]
