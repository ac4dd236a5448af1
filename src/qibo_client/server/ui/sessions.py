"""Who is signed in to the web view: sessions kept in the server's memory, behind a random cookie.

Why so:

- **The cookie holds nothing but a random id** (:data:`SESSION_BYTES` bytes from
  :mod:`secrets`); the token a person pasted stays in this process and is checked again on every
  request, so a token revoked while a session is open ends the session at once, and logging out
  forgets it for good. A restart signs everyone out, which a lab's server can afford.
- **Each session has its own CSRF token**, put in every form and compared in constant time on
  every POST (with the ``Origin`` check of :mod:`.guard`): a page on another site can make a
  browser post, but cannot read the token.
- **Bounded**: at most :data:`MAX_SESSIONS`, each for :data:`SESSION_SECONDS`; the oldest goes
  first when the book is full.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass

#: Random bytes in a session id and in a CSRF token (256 bits).
SESSION_BYTES = 32
#: How long a session lasts, in seconds (a working day).
SESSION_SECONDS = 12 * 3600
#: Sessions kept at most; the oldest is dropped first.
MAX_SESSIONS = 10_000


@dataclass(frozen=True)
class Session:
    """One signed-in browser: its cookie id, its CSRF token and the API token it acts with."""

    sid: str
    csrf: str
    token: str
    expires: float


def same_secret(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a submitted secret with the expected one."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


class Sessions:
    """The open sessions of one server, by cookie id (used from the event loop's thread only)."""

    def __init__(self, lifetime: float = SESSION_SECONDS, limit: int = MAX_SESSIONS) -> None:
        self._lifetime = lifetime
        self._limit = limit
        self._open: OrderedDict[str, Session] = OrderedDict()

    def open(self, token: str) -> Session:
        """A new session acting with ``token`` (already checked by the caller)."""
        while len(self._open) >= self._limit:
            self._open.popitem(last=False)
        session = Session(
            sid=secrets.token_urlsafe(SESSION_BYTES),
            csrf=secrets.token_urlsafe(SESSION_BYTES),
            token=token,
            expires=time.monotonic() + self._lifetime,
        )
        self._open[session.sid] = session
        return session

    def get(self, sid: str | None) -> Session | None:
        """The session of a cookie id, if open and not expired."""
        session = self._open.get(sid) if sid else None
        if session is None:
            return None
        if session.expires <= time.monotonic():
            del self._open[session.sid]
            return None
        return session

    def close(self, sid: str | None) -> None:
        """Forget a session (log out)."""
        if sid:
            self._open.pop(sid, None)

    def __len__(self) -> int:
        return len(self._open)


__all__ = ["MAX_SESSIONS", "SESSION_BYTES", "SESSION_SECONDS", "Session", "Sessions", "same_secret"]
