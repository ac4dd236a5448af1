"""Where every setting of a connection comes from, decided in one place.

Order, for each setting: the argument, then the environment, then the saved accounts
(``qibo-client login``), then the default.

- URL: ``url=`` argument, else ``QIBO_CLIENT_URL``, else the default saved account, else the
  caller's default. ``Client`` has no default (it raises :class:`ConfigurationError` saying what to
  set); the qibo backend defaults to TII's service (:data:`~qibo_client.config.TII_URL`). ``TII()``
  names its service, so it skips the saved default (:func:`service_url`). A URL must be
  ``http://`` or ``https://`` with a host, checked here before any request (:func:`check_url`).
- Token: ``token=`` argument, else a token the sources hold *for the resolved URL*; never a
  default. The environment's ``QIBO_CLIENT_TOKEN`` is for one server only: ``QIBO_CLIENT_URL``,
  else TII's service (a token must not reach every server a script or the journal names); a
  token saved by ``qibo-client login`` is for the URL it was saved with, and no other.
- Timeout (the deadline of each request, retries included): ``timeout=`` argument, else
  ``QIBO_CLIENT_TIMEOUT`` (seconds), else 30 s.
- Job options (device, project, verbatim, nshots): :class:`JobOptions`, defaults from the
  protocol module; with them the circuit format (``"auto"``: QASM where the server lists it,
  qibo's ``circuit.raw`` everywhere else; ``"qasm"`` or ``"raw"`` to force one).

The sources are :data:`SOURCES`, asked in order: the environment, then the saved accounts
(:class:`~qibo_client.accounts.SavedAccounts`). A token is asked for with
the URL it will be sent to (``token_for(url)``), so a source that knows several servers can tie each
token to its own server (issue 10).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from qibo_client.accounts import SavedAccounts
from qibo_client.config import TII_URL, TOKEN_ENV, URL_ENV
from qibo_client.errors import ConfigurationError
from qibo_client.protocol import (
    DEFAULT_DEVICE,
    DEFAULT_PROJECT,
    EXTENSION_QASM,
    EXTENSION_RAW,
    check_labels,
)

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


#: Asked in order after the arguments.
SOURCES: tuple[Source, ...] = (Environment(), SavedAccounts())
#: What to say when no token is found, after "pass token=...".
LOGIN_HINT = "run `qibo-client login --url URL`"


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


def check_url(url: str) -> str:
    """``url`` without its trailing slash, or ConfigurationError if it is not http(s)://host.

    The message never shows the value: a token passed where the URL goes must not be printed.
    """
    text = str(url).strip()
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(
            f"The server URL (argument, {URL_ENV} or a saved account) must start with http:// "
            "or https:// and name a host, such as https://q-cloud.tii.ae or "
            "http://127.0.0.1:8000 (the value given is not shown: it may be a token)."
        )
    return text.rstrip("/")


def resolve_url(url: str | None = None, *, default: str | None = None) -> str:
    """The server URL by the module's rule; ConfigurationError names what to set when none."""
    found = url or _first(source.url() for source in SOURCES) or default
    if not found:
        raise ConfigurationError(f"No server URL: pass url=..., set {URL_ENV}, or {LOGIN_HINT}.")
    return check_url(found)


def service_url(default: str) -> str:
    """The URL of a named service: ``QIBO_CLIENT_URL`` (a staging server), else ``default``.

    The saved default account is not asked: ``TII()`` means TII's service even when the default
    account is another server (its saved token for TII's URL is still used).
    """
    return check_url(Environment().url() or default)


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
                f"{how_to} for this one, or {LOGIN_HINT}."
            )
        raise ConfigurationError(
            f"No token for {resolved}: {how_to}, set {TOKEN_ENV}, or {LOGIN_HINT}."
        )
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


def as_tags(tags: Sequence[str]) -> tuple[str, ...]:
    """``tags`` as a tuple; one string is a ConfigurationError (``tags="vqe"`` is not 3 tags)."""
    if isinstance(tags, str):
        raise ConfigurationError(f"tags are a list of strings, e.g. tags=[{tags!r:.40}], not one")
    return tuple(tags)


@dataclass(frozen=True)
class JobOptions:
    """What travels with every circuit: device, project, verbatim, shots (None: the default).

    ``circuit_format`` says how the circuit itself is written (:data:`CIRCUIT_FORMATS`); it is
    not a field of the submission. A ``seed`` is sent only when one is given and the server
    lists the ``seed`` extension (:meth:`fields` with ``seed=True``): a server without it never
    sees one.
    """

    device: str = DEFAULT_DEVICE
    project: str = DEFAULT_PROJECT
    verbatim: bool = False
    nshots: int | None = None
    circuit_format: str = CIRCUIT_AUTO
    #: The simulation's seed (our servers' ``seed`` extension); None lets the server pick one.
    seed: int | None = None
    #: A name and tags for the job (the ``tags`` extension; kept in the journal everywhere).
    name: str | None = None
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_circuit_format(self.circuit_format)
        try:
            _name, tags = check_labels(self.name, self.tags)
        except ValueError as error:
            raise ConfigurationError(str(error)) from None
        object.__setattr__(self, "tags", tags)

    def with_labels(self, name: str | None, tags: Sequence[str] | None) -> JobOptions:
        """These options with ``name`` and ``tags`` when given (None keeps the current ones)."""
        return dataclasses.replace(
            self,
            name=self.name if name is None else name,
            tags=self.tags if tags is None else as_tags(tags),
        )

    def with_nshots(self, nshots: int | None) -> JobOptions:
        return dataclasses.replace(self, nshots=None if nshots is None else int(nshots))

    def fields(self, *, labels: bool = False, seed: bool = False) -> dict[str, Any]:
        """The job fields of a submission body, circuit excepted; ``name`` and ``tags`` only
        with ``labels`` (a server that lists the ``tags`` extension), ``seed`` only with
        ``seed`` (a server that lists the ``seed`` extension)."""
        fields: dict[str, Any] = {
            "nshots": self.nshots,
            "device": self.device,
            "project": self.project,
            "verbatim": self.verbatim,
        }
        if seed and self.seed is not None:
            fields["seed"] = self.seed
        if labels and self.name is not None:
            fields["name"] = self.name
        if labels and self.tags:
            fields["tags"] = list(self.tags)
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
    "as_tags",
    "check_circuit_format",
    "check_url",
    "looks_like_url",
    "official_order",
    "resolve",
    "resolve_url",
    "same_server",
    "service_url",
    "token_available",
    "token_for",
]
