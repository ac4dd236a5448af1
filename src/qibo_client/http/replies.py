"""Reading what a server answered: bounded JSON, error bodies -> typed errors, key checks.

Everything here works on an answer whose body is already read (and size-bounded) by
:mod:`qibo_client.http.session`. A server's answer is data from outside: whatever its shape, reading
it ends in a value or in a :class:`~qibo_client.errors.QiboClientError`, never in a bare
``RecursionError``, ``MemoryError`` or ``KeyError``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import requests

from qibo_client.errors import (
    AuthenticationError,
    JobNotFoundError,
    MalformedResponseError,
    QiboApiError,
    QuotaExceededError,
    RateLimitError,
)

#: Keys read, in this order, for the human message of an error body.
ERROR_KEYS = ("detail", "message", "error", "title")
#: Deepest run of nested JSON openers accepted; the protocol's answers nest 3 or 4 levels.
MAX_JSON_DEPTH = 64
_TOO_DEEP = re.compile(rb"[\[{](?:\s*[\[{]){%d}" % MAX_JSON_DEPTH)
#: A 404 detail about the caller rather than the thing asked for: TII's service answers a wrong
#: token with 404 ``User not found, specify the correct token``.
#: A 403 whose detail says this is a quota refusal, not a token refused (our servers' words).
_QUOTA_DETAIL = re.compile(r"\bquota\b", re.I)
_AUTH_DETAIL = re.compile(r"user not found|\btoken\b|not authenticated|credentials", re.I)
#: What a failed submission's error adds: it may have been queued.
_MAYBE_QUEUED = (
    " The submission may or may not have reached the queue: look at client.jobs() (or "
    "`qibo-client jobs`) before submitting again."
)


def _detail(response: requests.Response) -> str:
    """The server's human message, whatever shape the error body has."""
    try:
        body = loads(response.content)
    except MalformedResponseError:
        text = response.content[:500].decode("utf-8", "replace").strip()
        return text or (response.reason or "")
    try:
        if isinstance(body, Mapping):
            for key in ERROR_KEYS:
                value = body.get(key)
                if value:
                    return value if isinstance(value, str) else json.dumps(value)[:500]
        return json.dumps(body)[:500]
    except (RecursionError, ValueError):
        return "(an error body too deeply nested to show)"


def _retry_after(response: requests.Response, note: str | None) -> str:
    """A note on the server's ``Retry-After``: the transport's account of it (``note``: refused as
    too long, or honoured in vain), else the bare request."""
    value = response.headers.get("Retry-After")
    if not value:
        return ""
    return note or f" The server asks to retry after {value[:40]} s."


def error_from_response(
    response: requests.Response, *, job_url: bool = False, retry_note: str | None = None
) -> QiboApiError:
    """Turn a non-2xx response into the error a user can act on (``retry_note``: what the
    transport made of its ``Retry-After``)."""
    status = response.status_code
    request = response.request
    method = (request.method or "") if request is not None else ""
    url = (request.url or "") if request is not None else (response.url or "")
    detail = _detail(response)
    fields: dict[str, Any] = {"status": status, "detail": detail, "method": method, "url": url}
    if status == 403 and _QUOTA_DETAIL.search(detail or ""):
        return QuotaExceededError(
            f"{method} {url}: refused, a project quota would be exceeded (HTTP 403); nothing "
            f"was queued and waiting will not help: ask the server's operator for more, or use "
            f"another project. Server said: {detail}",
            **fields,
        )
    if status in (401, 403) or (status == 404 and _AUTH_DETAIL.search(detail or "")):
        return AuthenticationError(
            f"The server rejected the token (HTTP {status}: {detail or 'unauthorized'}). "
            "Check the token you passed or QIBO_CLIENT_TOKEN.",
            **fields,
        )
    if status == 404 and job_url:
        return JobNotFoundError(
            f"{method} {url}: no such job (it never existed, was deleted, or belongs to "
            f"another user). Server said: {detail or 'not found'}",
            **fields,
        )
    if status == 429:
        return RateLimitError(
            f"{method} {url}: the server asks to slow down (HTTP 429) and kept asking after "
            f"the retries. Try again later. Server said: {detail or 'too many requests'}"
            + _retry_after(response, retry_note),
            **fields,
        )
    if status == 503 and response.headers.get("Retry-After"):
        message = f"{method} {url} failed with HTTP 503: {detail or 'service unavailable'}."
        message += _retry_after(response, retry_note)
        return QiboApiError(message + (_MAYBE_QUEUED if method.upper() == "POST" else ""), **fields)
    if status >= 500 and method.upper() == "POST":
        message = f"{method} {url} failed with HTTP {status}: {detail or 'no detail given'}."
        return QiboApiError(message + _MAYBE_QUEUED, **fields)
    return QiboApiError(**fields)


def loads(content: bytes) -> Any:
    """JSON from an answer's bytes, with its nesting bounded: any failure is MalformedResponseError.

    A hostile server can nest arrays deeper than Python's recursion limit (a bare RecursionError
    from the parser) or just deep enough to break whatever walks the result later. A run of more
    than :data:`MAX_JSON_DEPTH` openers is refused by one regular-expression scan (C speed) before
    parsing; deeper nesting interleaved with values still ends as this error, not a crash.
    """
    if _TOO_DEEP.search(content):
        raise MalformedResponseError(
            f"The answer nests JSON more than {MAX_JSON_DEPTH} levels deep; refused."
        )
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedResponseError(f"The answer is not JSON: {content[:200]!r}") from exc
    except RecursionError:
        raise MalformedResponseError("The answer nests JSON too deeply to read.") from None
    except MemoryError:
        raise MalformedResponseError("The answer is too large to parse as JSON.") from None


def parse_json(response: requests.Response) -> Any:
    """The body as JSON, or MalformedResponseError naming what came instead."""
    try:
        return loads(response.content)
    except MalformedResponseError as error:
        raise MalformedResponseError(
            f"Server response to {response.request.method if response.request else ''} "
            f"{response.url}: {error.message}"
        ) from None


def check_response_has_keys(response: Any, keys: Iterable[str]) -> dict[str, Any]:
    """Return the JSON object in ``response``; raise MalformedResponseError naming missing keys.

    ``response`` is a ``requests.Response`` or an already parsed body. A body that is not JSON,
    or JSON that is not an object, is malformed too.
    """
    body = parse_json(response) if isinstance(response, requests.Response) else response
    if not isinstance(body, dict):
        raise MalformedResponseError(
            f"Server response body is a {type(body).__name__}, not a JSON object"
        )
    missing = [key for key in keys if key not in body]
    if missing:
        raise MalformedResponseError(
            "Server response body does not contain all the expected keys; missing: "
            + ", ".join(repr(key) for key in missing)
        )
    return body


__all__ = [
    "ERROR_KEYS",
    "MAX_JSON_DEPTH",
    "check_response_has_keys",
    "error_from_response",
    "loads",
    "parse_json",
]
