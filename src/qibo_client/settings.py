"""Where every setting of a connection comes from, decided in one place.

Order, for each setting: the argument, then the environment, then the default.

- URL: ``url=`` argument, else ``QIBO_CLIENT_URL``, else the caller's default. ``Client`` has no
  default (it raises :class:`ConfigurationError` saying what to set); ``TII`` and the qibo backend
  default to TII's service (:data:`~qibo_client.config.TII_URL`).
- Token: ``token=`` argument, else a token the sources hold *for the resolved URL*; never a
  default. The environment's ``QIBO_CLIENT_TOKEN`` is for one server only: ``QIBO_CLIENT_URL``,
  else TII's service (a token must not reach every server a script or the journal names).
- Timeout (the deadline of each request, retries included): ``timeout=`` argument, else
  ``QIBO_CLIENT_TIMEOUT`` (seconds), else 30 s.
- Job options (device, project, verbatim, nshots): :class:`JobOptions`, defaults from the
  protocol module; with them the circuit format (``"auto"``: QASM where the server lists it,
  qibo's ``circuit.raw`` everywhere else; ``"qasm"`` or ``"raw"`` to force one).

The sources are :data:`SOURCES`, asked in order; a saved-accounts file (issue 12) slots in after
the environment and before the defaults by adding one :class:`Source`. A token is asked for with
the URL it will be sent to (``token_for(url)``), so a source that knows several servers can tie each
token to its own server (issue 10).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from qibo_client.config import TII_URL, TOKEN_ENV, URL_ENV, ConfigurationError
from qibo_client.protocol import DEFAULT_DEVICE, DEFAULT_PROJECT, EXTENSION_QASM, EXTENSION_RAW

#: Environment variable for the deadline of each request, in seconds.
TIMEOUT_ENV = "QIBO_CLIENT_TIMEOUT"
#: Deadline of each request when neither argument nor environment gives one.
DEFAULT_TIMEOUT = 30.0
#: How long a submission asks the server to hold its answer, so that a fast job is one round trip
#: (``Client.run_circuit`` and the qibo backend; the waits themselves use the protocol's 30 s).
SUBMIT_HOLD = 10.0

#: Circuit formats a client may post: OpenQASM 2.0 text, or qibo's ``circuit.raw`` object.
CIRCUIT_QASM = EXTENSION_QASM
CIRCUIT_RAW = EXTENSION_RAW
#: The default: QASM to a server that lists it, ``circuit.raw`` to any other.
CIRCUIT_AUTO = "auto"
CIRCUIT_FORMATS = (CIRCUIT_AUTO, CIRCUIT_QASM, CIRCUIT_RAW)


def check_circuit_format(name: str) -> str:
    """``name`` if it is one of :data:`CIRCUIT_FORMATS`, else a ConfigurationError."""
    if name not in CIRCUIT_FORMATS:
        raise ConfigurationError(
            f"circuit_format must be one of {', '.join(CIRCUIT_FORMATS)}, not {name!r}"
        )
    return name


class Source(Protocol):
    """Somewhere settings may be found when the caller did not give them."""

    def url(self) -> str | None: ...

    def token_for(self, url: str) -> str | None: ...

    def timeout(self) -> float | None: ...


class Environment:
    """``QIBO_CLIENT_URL``, ``QIBO_CLIENT_TOKEN``, ``QIBO_CLIENT_TIMEOUT``, read when asked."""

    def url(self) -> str | None:
        return os.environ.get(URL_ENV) or None

    def home(self) -> str:
        """The one server the environment's token is for: its URL, else TII's service."""
        return os.environ.get(URL_ENV) or TII_URL

    def token_for(self, url: str) -> str | None:
        """``QIBO_CLIENT_TOKEN``, only for :meth:`home`: a token never travels to other servers."""
        token = os.environ.get(TOKEN_ENV) or None
        return token if token and same_server(url, self.home()) else None

    def timeout(self) -> float | None:
        text = os.environ.get(TIMEOUT_ENV, "").strip()
        if not text:
            return None
        try:
            seconds = float(text)
        except ValueError:
            raise ConfigurationError(f"{TIMEOUT_ENV}={text!r} is not a number of seconds") from None
        if seconds <= 0:
            raise ConfigurationError(f"{TIMEOUT_ENV} must be positive, not {text!r}")
        return seconds


#: Asked in order after the arguments (issue 12 adds a saved-accounts source after this one).
SOURCES: tuple[Source, ...] = (Environment(),)


@dataclass(frozen=True)
class Connection:
    """A resolved URL and the token that goes with it (the token never shows in the repr)."""

    url: str
    token: str = dataclasses.field(repr=False)
    timeout: float = DEFAULT_TIMEOUT


def _first(values: Any) -> Any:
    return next((value for value in values if value), None)


def looks_like_url(value: Any) -> bool:
    """Whether ``value`` is an http(s) URL (and so not, say, a token passed in its place)."""
    return isinstance(value, str) and value.strip().lower().startswith(("http://", "https://"))


def official_order(url: str | None, token: str | None) -> tuple[str | None, str | None]:
    """``(url, token)`` from arguments that may be in the official 0.2.x order ``(token, url)``.

    Exactly one of them being a URL says which is which. A "URL" that is none is refused with a
    message that shows neither value: it may well be a token.
    """
    if url is not None and not looks_like_url(url):
        if looks_like_url(token):
            return token, url
        raise ConfigurationError(
            "The server URL must start with http:// or https:// (the value given is not shown: "
            "it may be a token). Pass Client(url, token); qibo-client 0.2.x took (token, url)."
        )
    return url, token


def resolve_url(url: str | None = None, *, default: str | None = None) -> str:
    """The server URL by the module's rule; ConfigurationError names what to set when none."""
    found = url or _first(source.url() for source in SOURCES) or default
    if not found:
        raise ConfigurationError(f"No server URL: pass url=... or set {URL_ENV}.")
    if not looks_like_url(found):
        raise ConfigurationError(
            f"The server URL (argument or {URL_ENV}) must start with http:// or https:// "
            "(the value is not shown: it may be a token)."
        )
    return str(found).strip().rstrip("/")


def resolve(
    url: str | None = None,
    token: str | None = None,
    timeout: float | None = None,
    *,
    default_url: str | None = None,
    how_to: str = "pass token=...",
) -> Connection:
    """URL, token and timeout, each from argument, then :data:`SOURCES`, then default."""
    resolved = resolve_url(url, default=default_url)
    found = token or token_for(resolved)
    if not found:
        if os.environ.get(TOKEN_ENV):
            raise ConfigurationError(
                f"No token for {resolved}: {TOKEN_ENV} is for {Environment().home()} "
                f"({URL_ENV}, else the default service) and is sent to no other server; "
                f"{how_to} for this one."
            )
        raise ConfigurationError(f"No token: {how_to} or set {TOKEN_ENV}.")
    seconds = timeout if timeout is not None else _first(s.timeout() for s in SOURCES)
    return Connection(resolved, str(found), float(seconds or DEFAULT_TIMEOUT))


def same_server(first: str, second: str) -> bool:
    """Whether two URLs name the same server: scheme, host and port (default ports filled in)."""
    return _origin(first) == _origin(second)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme)


_DEFAULT_PORTS = {"http": 80, "https": 443}


def token_for(url: str) -> str | None:
    """The first token a source holds for ``url``, or None."""
    return _first(source.token_for(url) for source in SOURCES)


def token_available() -> bool:
    """Whether a token can be found without arguments (no network, no URL needed)."""
    url = _first(source.url() for source in SOURCES) or TII_URL
    return any(source.token_for(url) for source in SOURCES)


@dataclass(frozen=True)
class JobOptions:
    """What travels with every circuit: device, project, verbatim, shots (None: the default).

    ``circuit_format`` says how the circuit itself is written (:data:`CIRCUIT_FORMATS`); it is
    not a field of the submission. A ``seed`` is sent only when one is given (a server without
    the extension never sees it).
    """

    device: str = DEFAULT_DEVICE
    project: str = DEFAULT_PROJECT
    verbatim: bool = False
    nshots: int | None = None
    circuit_format: str = CIRCUIT_AUTO
    #: The simulation's seed (our servers' ``seed`` extension); None lets the server pick one.
    seed: int | None = None

    def __post_init__(self) -> None:
        check_circuit_format(self.circuit_format)

    def with_nshots(self, nshots: int | None) -> JobOptions:
        return dataclasses.replace(self, nshots=None if nshots is None else int(nshots))

    def fields(self) -> dict[str, Any]:
        """The job fields of a submission body, circuit excepted."""
        fields = {
            "nshots": self.nshots,
            "device": self.device,
            "project": self.project,
            "verbatim": self.verbatim,
        }
        if self.seed is not None:
            fields["seed"] = self.seed
        return fields


__all__ = [
    "CIRCUIT_AUTO",
    "CIRCUIT_FORMATS",
    "CIRCUIT_QASM",
    "CIRCUIT_RAW",
    "DEFAULT_TIMEOUT",
    "SOURCES",
    "SUBMIT_HOLD",
    "TIMEOUT_ENV",
    "Connection",
    "Environment",
    "JobOptions",
    "Source",
    "check_circuit_format",
    "looks_like_url",
    "official_order",
    "resolve",
    "resolve_url",
    "same_server",
    "token_available",
    "token_for",
]
